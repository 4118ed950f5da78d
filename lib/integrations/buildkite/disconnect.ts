import "server-only";

import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import { log } from "@/lib/log";
import { SecretStoreError } from "@/lib/secrets/store";
import { recordConnectionEvents } from "./connection-events";
import { deadlineFor, type Deadline } from "./deadline";
import type { ConnectionDependencies } from "./dependencies";
import { recordFailedAttempt } from "./failed-attempts";
import type { ConnectionFailure } from "./failures";
import { logStoreError } from "./replace-secret";
import { deleteConnectionIfUnchanged, findConnectionForChange } from "./repository";
import { recordRevokeOutcome, revokeAtBuildkite, type RevokeOutcome } from "./revoke";

/**
 * Disconnect, all under the organisation's lock: revoke the token at Buildkite first (when asked), then delete the
 * record, then the secret. The record goes before the secret so there is never a "Connected" record whose secret is
 * gone; a secret whose deletion fails is left for the reconciler, which finds secrets no record refers to.
 *
 * Reading the token and revoking it end at the deadline. Unlike connect, a disconnect whose revoke went through is
 * committed even at the deadline: the token is dead at Buildkite, and a record still saying "Connected" would be the
 * wrong thing to leave.
 */

export type DisconnectRequest = {
  organizationId: string;
  actor: Actor;
  revokeAtBuildkite: boolean;
  /** "Disconnect anyway": go on even if revoking fails (the token may stay valid at Buildkite). */
  evenIfRevokeFails: boolean;
};

export type DisconnectResult =
  | { ok: true; revoke: RevokeOutcome | { status: "not_requested" }; secretDeleted: boolean }
  | { ok: false; failure: ConnectionFailure };

class RecordChangedError extends Error {}

export async function disconnectBuildkite(request: DisconnectRequest, deps: ConnectionDependencies): Promise<DisconnectResult> {
  const { organizationId, actor } = request;
  const fail = async (failure: ConnectionFailure, tokenUuid?: string): Promise<DisconnectResult> => {
    await recordFailedAttempt(deps.db, { organizationId, actor, action: "buildkite.disconnect", failure, detail: { tokenUuid } });
    return { ok: false, failure };
  };

  const deadline = deadlineFor(deps);
  const lease = await deps.locks.acquire(organizationId, { atMostMs: deadline.remainingMs() });
  if (!lease) return fail({ code: "busy" });
  try {
    const current = await findConnectionForChange(deps.db, organizationId);
    if (!current) return fail({ code: "not_connected" });
    const subject = { organizationId, actor, tokenUuid: current.tokenUuid, tokenLastFour: current.tokenLastFour };

    let revoke: RevokeOutcome | { status: "not_requested" } = { status: "not_requested" };
    if (request.revokeAtBuildkite) {
      revoke = await readAndRevoke(deps, subject, current.secret, deadline);
      if (revoke.status === "failed" && !request.evenIfRevokeFails) {
        return fail({ code: "revoke_failed", cause: revoke.failure }, current.tokenUuid);
      }
    }

    try {
      await deps.db.$transaction(async (tx) => {
        await lease.fence(tx);
        if (!(await deleteConnectionIfUnchanged(tx, organizationId, current.revision))) throw new RecordChangedError();
        await recordConnectionEvents(
          tx,
          {
            organizationId,
            actor,
            connection: { id: current.id, revision: current.revision + 1 },
            buildkiteOrganization: { slug: current.buildkiteOrgSlug, name: current.buildkiteOrgName },
            token: { uuid: current.tokenUuid, lastFour: current.tokenLastFour },
          },
          [{ type: "connection.disconnected" }],
        );
        await recordAuditEvent(tx, {
          organizationId,
          actor,
          action: "buildkite.disconnect",
          outcome: "success",
          detail: {
            buildkiteOrganization: current.buildkiteOrgSlug,
            tokenUuid: current.tokenUuid,
            tokenLastFour: current.tokenLastFour,
            revoke: revoke.status,
          },
        });
      });
    } catch (error) {
      // A lost lease is a lost database session, not another change: see replace-secret.ts.
      if (error instanceof RecordChangedError) return fail({ code: "busy" }, current.tokenUuid);
      log.error("buildkite.disconnect.record_failed", { organizationId }, error);
      return fail({ code: "database_failed" }, current.tokenUuid);
    }

    let secretDeleted = true;
    try {
      await deps.secrets.withSignal(deadline.reserveSignal()).deleteSecret(organizationId, current.secret.ref);
    } catch (error) {
      if (!(error instanceof SecretStoreError)) throw error;
      // Disconnected all the same: nothing refers to the secret any more, and the reconciler will delete it.
      secretDeleted = false;
      logStoreError("buildkite.disconnect.secret_left_for_reconciler", organizationId, error);
    }
    log.info("buildkite.disconnect.succeeded", { organizationId, revoke: revoke.status, secretDeleted });
    return { ok: true, revoke, secretDeleted };
  } finally {
    await lease.release();
  }
}

async function readAndRevoke(
  deps: ConnectionDependencies,
  subject: { organizationId: string; actor: Actor; tokenUuid: string; tokenLastFour: string },
  secret: { ref: string; version: string },
  deadline: Deadline,
): Promise<RevokeOutcome> {
  let token: string;
  try {
    token = await deps.secrets.withSignal(deadline.signal).read(subject.organizationId, secret);
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    logStoreError("buildkite.revoke.secret_unreadable", subject.organizationId, error);
    const outcome: RevokeOutcome = { status: "failed", failure: { code: "secret_unreadable", reason: error.code } };
    await recordRevokeOutcome(deps, subject, outcome);
    return outcome;
  }
  return revokeAtBuildkite(deps, { ...subject, token }, { signal: deadline.signal });
}
