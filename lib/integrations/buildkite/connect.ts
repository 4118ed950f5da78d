import "server-only";

import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import type { BuildkiteOrganization } from "@/lib/buildkite/schemas";
import { log } from "@/lib/log";
import { recordConnectionEvents, withAttention } from "./connection-events";
import { deadlineFor } from "./deadline";
import { clock, DEFAULT_VERIFY_INTERVAL_MINUTES, type ConnectionDependencies } from "./dependencies";
import { recordFailedAttempt } from "./failed-attempts";
import type { ConnectionFailure } from "./failures";
import { healthOfToken, type Health } from "./health";
import type { TokenWarning } from "./policy";
import { replaceSecret } from "./replace-secret";
import { acquireAhead } from "./lock";
import { findConnectionForChange, insertConnection, justCheckedColumns, tokenColumns, updateConnectionIfUnchanged } from "./repository";
import { verifyToken } from "./verify-token";

/**
 * Connect Buildkite: verify the token, then — under the organisation's lock, waited for while Buildkite answers — store
 * it, read it back and record the connection. Connecting over an existing connection replaces it (any organisation the token reaches); rotate.ts is
 * the stricter replacement offered on a connected card.
 */

export type ConnectRequest = {
  organizationId: string;
  actor: Actor;
  token: string;
  /** The Buildkite organisation the admin picked, when the token reaches several. */
  buildkiteOrgSlug?: string;
};

export type ConnectResult =
  | { ok: true; organization: BuildkiteOrganization; warnings: TokenWarning[]; health: Health }
  | { ok: false; failure: ConnectionFailure };

export async function connectBuildkite(request: ConnectRequest, deps: ConnectionDependencies): Promise<ConnectResult> {
  const { organizationId, actor, token } = request;
  const fail = async (failure: ConnectionFailure, tokenUuid?: string): Promise<ConnectResult> => {
    // Being asked to choose an organisation is a step of the form, not a failed attempt.
    if (failure.code !== "organization_choice_required") {
      await recordFailedAttempt(deps.db, { organizationId, actor, action: "buildkite.connect", failure, detail: { tokenUuid } });
    }
    return { ok: false, failure };
  };

  const checks = await deps.tokenChecks.take(organizationId);
  if (!checks.ok) return fail({ code: "too_many_token_checks", retryAfterSeconds: checks.retryAfterSeconds });
  const deadline = deadlineFor(deps);
  // The lock (and the record read under it) is waited for while Buildkite answers: neither depends on the other.
  const locked = acquireAhead(deps.locks, organizationId, { atMostMs: deadline.remainingMs() }, () => findConnectionForChange(deps.db, organizationId));
  let verified: Awaited<ReturnType<typeof verifyToken>>;
  try {
    verified = await verifyToken(deps, { organizationId, token }, { chosen: request.buildkiteOrgSlug }, { signal: deadline.signal });
  } catch (error) {
    locked.abandon();
    throw error;
  }
  if (!verified.ok) {
    locked.abandon();
    return fail(verified.failure, verified.tokenUuid);
  }
  const { info, organization, warnings } = verified.token;

  const held = await locked.take();
  if (!held) return fail({ code: "busy" }, info.uuid);
  const { lease, prepared: current } = held;
  try {
    const now = clock(deps)();
    const health = healthOfToken(info, now);
    const columns = {
      ...tokenColumns(info, token.slice(-4), organization, health),
      connectedById: actor.type === "person" ? actor.userId : null,
      connectedByKeyId: actor.type === "api_key" ? actor.keyId : null,
      connectedAt: now,
      rotatedById: null,
      rotatedByKeyId: null,
      rotatedAt: null,
      ...justCheckedColumns(organizationId, now, health, deps.verifyIntervalMinutes ?? DEFAULT_VERIFY_INTERVAL_MINUTES),
    };

    const replaced = await replaceSecret(deps, lease, {
      token,
      previous: current?.secret ?? null,
      async record(tx, written) {
        const data = { ...columns, secretRef: written.ref, secretVersion: written.version };
        let connection: { id: string; revision: number };
        if (current) {
          if (!(await updateConnectionIfUnchanged(tx, organizationId, current.revision, data))) return false;
          connection = { id: current.id, revision: current.revision + 1 };
        } else {
          connection = await insertConnection(tx, { organizationId, ...data });
        }
        await recordConnectionEvents(
          tx,
          { organizationId, actor, connection, buildkiteOrganization: organization, token: { uuid: info.uuid, lastFour: token.slice(-4) } },
          [{ type: "connection.connected" }, ...withAttention(null, health)],
        );
        await recordAuditEvent(tx, {
          organizationId,
          actor,
          action: "buildkite.connect",
          outcome: "success",
          detail: {
            buildkiteOrganization: organization.slug,
            tokenUuid: info.uuid,
            tokenLastFour: token.slice(-4),
            scopes: info.scopes,
            ...(current ? { previousTokenUuid: current.tokenUuid, previousTokenLastFour: current.tokenLastFour } : {}),
            ...(health.status === "needs_attention" ? { statusTo: health.status, reason: health.attention.code } : {}),
          },
        });
        return true;
      },
    }, deadline);
    if (!replaced.ok) return fail(replaced.failure, info.uuid);
    log.info("buildkite.connect.succeeded", { organizationId, buildkiteOrg: organization.slug, replaced: current !== null });
    return { ok: true, organization, warnings, health };
  } finally {
    await lease.release();
  }
}
