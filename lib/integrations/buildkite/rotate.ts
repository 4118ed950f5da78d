import "server-only";

import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import type { BuildkiteOrganization } from "@/lib/buildkite/schemas";
import { log } from "@/lib/log";
import { SecretStoreError } from "@/lib/secrets/store";
import { recordConnectionEvents, withAttention } from "./connection-events";
import { deadlineFor } from "./deadline";
import { clock, DEFAULT_VERIFY_INTERVAL_MINUTES, type ConnectionDependencies } from "./dependencies";
import { acquireAhead } from "./lock";
import { recordFailedAttempt } from "./failed-attempts";
import type { ConnectionFailure } from "./failures";
import { healthOfToken, type Health } from "./health";
import type { TokenWarning } from "./policy";
import { replaceSecret } from "./replace-secret";
import { findConnectionForChange, justCheckedColumns, tokenColumns, updateConnectionIfUnchanged, type ConnectionForChange } from "./repository";
import { recordRevokeOutcome, revokeAtBuildkite, type RevokeOutcome } from "./revoke";
import { verifyToken } from "./verify-token";

/**
 * Rotate: replace the connected token with a new one for the same Buildkite organisation, with no downtime — the
 * old token stays the one in use until the new one is stored, read back and recorded (with AWS the new value
 * becomes AWSCURRENT and the old one AWSPREVIOUS). Optionally revoke the old token at Buildkite afterwards; if that
 * fails the rotation stands and the admin is told to revoke it by hand.
 */

export type RotateRequest = { organizationId: string; actor: Actor; token: string; revokePrevious: boolean };

export type OwnerChange = { previous: string; next: string };

export type RotateResult =
  | {
      ok: true;
      organization: BuildkiteOrganization;
      warnings: TokenWarning[];
      health: Health;
      /** The token that was replaced, by its public facts. */
      previous: { tokenUuid: string; tokenLastFour: string };
      /** The new token belongs to someone else than the old one (allowed; worth saying). */
      ownerChange: OwnerChange | null;
      revoke: RevokeOutcome | { status: "not_requested" };
    }
  | { ok: false; failure: ConnectionFailure };

export async function rotateBuildkiteToken(request: RotateRequest, deps: ConnectionDependencies): Promise<RotateResult> {
  const { organizationId, actor, token } = request;
  const fail = async (failure: ConnectionFailure, tokenUuid?: string): Promise<RotateResult> => {
    await recordFailedAttempt(deps.db, { organizationId, actor, action: "buildkite.rotate", failure, detail: { tokenUuid } });
    return { ok: false, failure };
  };

  const connected = await findConnectionForChange(deps.db, organizationId);
  if (!connected) return fail({ code: "not_connected" });
  const mustReach = { slug: connected.buildkiteOrgSlug, name: connected.buildkiteOrgName };
  const checks = await deps.tokenChecks.take(organizationId);
  if (!checks.ok) return fail({ code: "too_many_token_checks", retryAfterSeconds: checks.retryAfterSeconds });
  const deadline = deadlineFor(deps);
  // The lock (and the record read under it) is waited for while Buildkite answers: neither depends on the other.
  const locked = acquireAhead(deps.locks, organizationId, { atMostMs: deadline.remainingMs() }, () => findConnectionForChange(deps.db, organizationId));
  let verified: Awaited<ReturnType<typeof verifyToken>>;
  try {
    verified = await verifyToken(deps, { organizationId, token }, { mustReach }, { signal: deadline.signal });
  } catch (error) {
    locked.abandon();
    throw error;
  }
  if (!verified.ok) {
    locked.abandon();
    return fail(verified.failure, verified.tokenUuid);
  }
  const { info, organization, warnings } = verified.token;
  if (info.uuid === connected.tokenUuid) {
    locked.abandon();
    return fail({ code: "token_already_connected" }, info.uuid);
  }

  const held = await locked.take();
  if (!held) return fail({ code: "busy" }, info.uuid);
  const { lease } = held;
  let switched: { previous: ConnectionForChange; health: Health; oldToken: Promise<string | SecretStoreError> | null };
  try {
    // Read again, under the lock (held from that read to the commit): what was checked above may have changed since.
    const previous = held.prepared;
    if (!previous) return fail({ code: "not_connected" }, info.uuid);
    if (previous.buildkiteOrgSlug !== mustReach.slug) return fail({ code: "busy" }, info.uuid);
    if (previous.tokenUuid === info.uuid) return fail({ code: "token_already_connected" }, info.uuid);

    // The old token is needed only to revoke it; reading it alongside the write costs no extra round trip.
    const oldToken = request.revokePrevious
      ? deps.secrets.withSignal(deadline.signal).read(organizationId, previous.secret).catch((error: unknown) => {
          if (error instanceof SecretStoreError) return error;
          throw error;
        })
      : null;

    const now = clock(deps)();
    const health = healthOfToken(info, now);
    const replaced = await replaceSecret(deps, lease, {
      token,
      previous: previous.secret,
      async record(tx, written) {
        const changed = await updateConnectionIfUnchanged(tx, organizationId, previous.revision, {
          ...tokenColumns(info, token.slice(-4), organization, health),
          secretRef: written.ref,
          secretVersion: written.version,
          rotatedById: actor.type === "person" ? actor.userId : null,
          rotatedByKeyId: actor.type === "api_key" ? actor.keyId : null,
          rotatedAt: now,
          ...justCheckedColumns(organizationId, now, health, deps.verifyIntervalMinutes ?? DEFAULT_VERIFY_INTERVAL_MINUTES),
        });
        if (!changed) return false;
        const previousToken = { uuid: previous.tokenUuid, lastFour: previous.tokenLastFour };
        await recordConnectionEvents(
          tx,
          {
            organizationId,
            actor,
            connection: { id: previous.id, revision: previous.revision + 1 },
            buildkiteOrganization: organization,
            token: { uuid: info.uuid, lastFour: token.slice(-4) },
          },
          [{ type: "connection.rotated", previousToken }, ...withAttention(previous, health)],
        );
        await recordAuditEvent(tx, {
          organizationId,
          actor,
          action: "buildkite.rotate",
          outcome: "success",
          detail: {
            buildkiteOrganization: organization.slug,
            tokenUuid: info.uuid,
            tokenLastFour: token.slice(-4),
            previousTokenUuid: previous.tokenUuid,
            previousTokenLastFour: previous.tokenLastFour,
            scopes: info.scopes,
            statusFrom: previous.status,
            statusTo: health.status,
          },
        });
        return true;
      },
    }, deadline);
    if (!replaced.ok) {
      await oldToken;
      return fail(replaced.failure, info.uuid);
    }
    switched = { previous, health, oldToken };
  } finally {
    await lease.release();
  }

  // After the switch and outside the lock: revoking is a slow call to Buildkite that changes nothing of ours.
  const { previous, health } = switched;
  log.info("buildkite.rotate.succeeded", { organizationId, revokePrevious: request.revokePrevious });
  const revoke = switched.oldToken
    ? await revokePrevious(deps, { organizationId, actor, previous, oldToken: await switched.oldToken }, deadline.reserveSignal())
    : null;
  const previousOwner = previous.tokenOwnerEmail ?? previous.tokenOwnerName;
  const nextOwner = info.owner?.email ?? info.owner?.name ?? null;
  return {
    ok: true,
    organization,
    warnings,
    health,
    previous: { tokenUuid: previous.tokenUuid, tokenLastFour: previous.tokenLastFour },
    ownerChange: previousOwner && nextOwner && previousOwner !== nextOwner ? { previous: previousOwner, next: nextOwner } : null,
    revoke: revoke ?? { status: "not_requested" },
  };
}

async function revokePrevious(
  deps: ConnectionDependencies,
  context: {
    organizationId: string;
    actor: Actor;
    previous: { tokenUuid: string; tokenLastFour: string };
    oldToken: string | SecretStoreError;
  },
  signal: AbortSignal,
): Promise<RevokeOutcome> {
  const subject = {
    organizationId: context.organizationId,
    actor: context.actor,
    tokenUuid: context.previous.tokenUuid,
    tokenLastFour: context.previous.tokenLastFour,
  };
  if (context.oldToken instanceof SecretStoreError) {
    const outcome: RevokeOutcome = { status: "failed", failure: { code: "secret_unreadable", reason: context.oldToken.code } };
    await recordRevokeOutcome(deps, subject, outcome);
    return outcome;
  }
  return revokeAtBuildkite(deps, { ...subject, token: context.oldToken }, { signal });
}
