import "server-only";

import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import { BuildkiteError } from "@/lib/buildkite/errors";
import type { AccessTokenInfo, BuildkiteOrganization } from "@/lib/buildkite/schemas";
import { log } from "@/lib/log";
import { SecretStoreError } from "@/lib/secrets/store";
import { nextCheckAt, retryCheckAt } from "./check-timing";
import { recordConnectionEvents, withAttention } from "./connection-events";
import { deadlineFor, type Deadline } from "./deadline";
import { clock, DEFAULT_VERIFY_INTERVAL_MINUTES, type ConnectionDependencies } from "./dependencies";
import { logBuildkiteError, recordFailedAttempt } from "./failed-attempts";
import { buildkiteFailure, type ConnectionFailure } from "./failures";
import { attention, healthOfToken, UNREACHABLE_GRACE_MS, type Attention, type Health } from "./health";
import { connectionLockKey, LeaseLostError } from "./lock";
import { logStoreError } from "./replace-secret";
import {
  findConnectionForChange,
  healthColumns,
  tokenColumns,
  updateConnectionIfUnchanged,
  updateConnectionIfUnchangedAndFree,
  type ConnectionForChange,
  type VerdictColumns,
} from "./repository";

/**
 * Re-verify a connection ("Verify now", and the schedule): read the stored token, ask Buildkite about it and about
 * the connected organisation, and record the verdict. Never changes the secret. The Buildkite calls run without the
 * lock (they can be slow, and a verify must not make a connect wait); the verdict is then committed under the lock
 * as a compare-and-set on the revision that was checked, so a verdict about a token that was replaced or
 * disconnected meanwhile is dropped instead of written.
 */

export type CheckOutcome = "passed" | "needs_attention" | "unreachable";

export type ReverifyResult =
  | {
      ok: true;
      outcome: CheckOutcome;
      status: "connected" | "needs_attention";
      statusChanged: boolean;
      attention: Attention | null;
      /** unreachable: what could not be reached (Buildkite, or the secret store). */
      unreachable?: ConnectionFailure;
      /** unreachable: when Buildkite said to come back (a 429), in seconds. */
      retryAfterSeconds?: number;
    }
  | { ok: false; failure: ConnectionFailure };

type Verdict =
  | { kind: "checked"; info: AccessTokenInfo; organization: BuildkiteOrganization }
  | { kind: "attention"; attention: Attention; info?: AccessTokenInfo }
  | { kind: "unreachable"; failure: ConnectionFailure; retryAfterSeconds?: number };

const SUPERSEDED = Symbol("superseded");

export type ReverifyOptions = {
  lockWaitMs?: number;
  /** The record as read a moment ago (the schedule reads its claims in one query); null: known to be gone. Read
   *  here when left out. A stale one costs nothing but the verdict: the commit compares its revision. */
  record?: ConnectionForChange | null;
};

export async function reverifyConnection(
  request: { organizationId: string; actor: Actor },
  deps: ConnectionDependencies,
  options: ReverifyOptions = {},
): Promise<ReverifyResult> {
  const byPerson = request.actor.type !== "scheduler";
  // A person who asked gets an answer about the current token: if it changed while we checked (a rotation, or a
  // scheduled check committing first), check once more. The schedule simply comes back at its next slot.
  const deadline = deadlineFor(deps);
  for (let attempt = 0; attempt < (byPerson ? 2 : 1); attempt += 1) {
    // A second attempt is about a record that changed: it reads it again.
    const result = await verifyOnce(request, deps, attempt === 0 ? options : { ...options, record: undefined }, deadline);
    if (result !== SUPERSEDED) return result;
  }
  return failVerify(request, deps, { code: "busy" });
}

async function failVerify(request: { organizationId: string; actor: Actor }, deps: ConnectionDependencies, failure: ConnectionFailure): Promise<ReverifyResult> {
  if (request.actor.type !== "scheduler") {
    await recordFailedAttempt(deps.db, { organizationId: request.organizationId, actor: request.actor, action: "buildkite.verify", failure });
  }
  return { ok: false, failure };
}

async function verifyOnce(
  request: { organizationId: string; actor: Actor },
  deps: ConnectionDependencies,
  options: ReverifyOptions,
  deadline: Deadline,
): Promise<ReverifyResult | typeof SUPERSEDED> {
  const { organizationId, actor } = request;
  const byPerson = actor.type !== "scheduler";
  const fail = (failure: ConnectionFailure) => failVerify(request, deps, failure);

  const record = options.record !== undefined ? options.record : await findConnectionForChange(deps.db, organizationId);
  if (!record) return fail({ code: "not_connected" });
  const verdict = await check(deps, organizationId, record, deadline.signal);
  const now = clock(deps)();
  const interval = deps.verifyIntervalMinutes ?? DEFAULT_VERIFY_INTERVAL_MINUTES;
  const next = decide(record, verdict, now);
  const update: VerdictColumns = {
    ...(verdict.kind === "checked" ? tokenColumns(verdict.info, record.tokenLastFour, verdict.organization, next.health ?? { status: "connected" }) : {}),
    ...(verdict.kind !== "checked" && next.health ? healthColumns(next.health) : {}),
    ...(verdict.kind === "attention" && verdict.info ? { scopes: [...verdict.info.scopes].sort(), tokenExpiresAt: verdict.info.expiresAt } : {}),
    // "Last verified" is the last check that passed: a token that works but lacks a scope has not.
    ...(next.outcome === "passed" ? { lastVerifiedAt: now } : {}),
    lastCheckedAt: now,
    lastCheckOutcome: next.outcome,
    unreachableSince: verdict.kind === "unreachable" ? (record.unreachableSince ?? now) : null,
    nextVerifyAt: verdict.kind === "unreachable" ? retryCheckAt(now, interval, verdict.retryAfterSeconds) : nextCheckAt(organizationId, now, interval),
  };
  const status = next.health?.status ?? record.status;
  const statusChanged = status !== record.status || (next.health?.status === "needs_attention" && next.health.attention.code !== record.attentionCode);

  // Most scheduled checks change nothing a person would be told of: one statement records them.
  if (!byPerson && !statusChanged) {
    try {
      if (!(await updateConnectionIfUnchangedAndFree(deps.db, organizationId, record.revision, connectionLockKey(organizationId), update))) {
        // A change under way, or the record changed while we checked: the next run checks the token that is there then.
        log.info("buildkite.verify.superseded", { organizationId });
        return fail({ code: "busy" });
      }
    } catch (error) {
      log.error("buildkite.verify.record_failed", { organizationId }, error);
      return fail({ code: "database_failed" });
    }
    return checked();
  }

  // A verdict is only ever a fact about the token, so it may still be recorded when the calls ran long. A person
  // waits for the lock on a connection of its own; the schedule never waits (it comes back at the next run), so it
  // takes the lock inside the commit's own transaction: one statement instead of a lock connection and four.
  const lease = byPerson ? await deps.locks.acquire(organizationId, { waitMs: options.lockWaitMs, atMostMs: Math.max(deadline.remainingMs(), 1_000) }) : null;
  if (byPerson && !lease) return fail({ code: "busy" });
  try {
    await deps.db.$transaction(async (tx) => {
      if (lease) await lease.fence(tx);
      else if (!(await deps.locks.tryInTransaction(tx, organizationId))) throw new LockBusyError();
      if (!(await updateConnectionIfUnchanged(tx, organizationId, record.revision, update))) throw new RecordChangedError();
      if (statusChanged && next.health) {
        const organization = verdict.kind === "checked" ? verdict.organization : { slug: record.buildkiteOrgSlug, name: record.buildkiteOrgName };
        await recordConnectionEvents(
          tx,
          {
            organizationId,
            actor,
            connection: { id: record.id, revision: record.revision + 1 },
            buildkiteOrganization: { slug: organization.slug, name: organization.name },
            token: { uuid: record.tokenUuid, lastFour: record.tokenLastFour },
          },
          withAttention(record, next.health),
        );
      }
      // Every verify a person asks for is kept; the schedule's only when they change something.
      if (byPerson || statusChanged) {
        await recordAuditEvent(tx, {
          organizationId,
          actor,
          action: "buildkite.verify",
          outcome: "success",
          code: next.outcome,
          detail: {
            tokenUuid: record.tokenUuid,
            tokenLastFour: record.tokenLastFour,
            statusFrom: record.status,
            statusTo: status,
            ...(next.health?.status === "needs_attention"
              ? { reason: next.health.attention.code }
              : verdict.kind === "unreachable"
                ? { reason: verdict.failure.code }
                : {}),
          },
        });
      }
    });
  } catch (error) {
    if (error instanceof LockBusyError) return fail({ code: "busy" });
    if (error instanceof LeaseLostError || error instanceof RecordChangedError) {
      // Replaced, rotated or disconnected while we checked: this verdict is about a token that is no longer there.
      log.info("buildkite.verify.superseded", { organizationId });
      return SUPERSEDED;
    }
    log.error("buildkite.verify.record_failed", { organizationId }, error);
    return fail({ code: "database_failed" });
  } finally {
    await lease?.release();
  }

  return checked();

  function checked(): ReverifyResult {
    log.info("buildkite.verify.checked", { organizationId, outcome: next.outcome, status, statusChanged, scheduled: !byPerson });
    return {
      ok: true,
      outcome: next.outcome,
      status,
      statusChanged,
      attention: next.health?.status === "needs_attention" ? next.health.attention : null,
      ...(verdict.kind === "unreachable" ? { unreachable: verdict.failure } : {}),
      ...(verdict.kind === "unreachable" && verdict.retryAfterSeconds !== undefined ? { retryAfterSeconds: verdict.retryAfterSeconds } : {}),
    };
  }
}

class RecordChangedError extends Error {}
class LockBusyError extends Error {}

/** The new health (undefined: leave the status as it is) and how the check ended. */
function decide(record: ConnectionForChange, verdict: Verdict, now: Date): { health: Health | undefined; outcome: CheckOutcome } {
  switch (verdict.kind) {
    case "checked": {
      const health = healthOfToken(verdict.info, now);
      return { health, outcome: health.status === "connected" ? "passed" : "needs_attention" };
    }
    case "attention":
      return { health: attention(verdict.attention), outcome: "needs_attention" };
    case "unreachable": {
      const since = record.unreachableSince ?? now;
      // A 429, a 5xx or a timeout says nothing about the token; only a day of them becomes a verdict — about
      // whichever of Buildkite or the secret store could not be reached.
      if (now.getTime() - since.getTime() < UNREACHABLE_GRACE_MS) return { health: undefined, outcome: "unreachable" };
      const { failure } = verdict;
      return {
        health:
          failure.code === "secret_unreadable"
            ? attention({ code: "secret_unreadable", since: since.toISOString(), reason: failure.reason })
            : attention({
                code: "buildkite_unreachable",
                since: since.toISOString(),
                reason: failure.code === "buildkite_unreachable" ? failure.reason : failure.code,
              }),
        outcome: "unreachable",
      };
    }
  }
}

async function check(deps: ConnectionDependencies, organizationId: string, record: ConnectionForChange, signal: AbortSignal): Promise<Verdict> {
  let token: string;
  try {
    token = await deps.secrets.withSignal(signal).read(organizationId, record.secret);
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    logStoreError("buildkite.verify.secret_unreadable", organizationId, error);
    const failure: ConnectionFailure = { code: "secret_unreadable", reason: error.code };
    // A throttled or unreachable store is no verdict on the secret either.
    if (error.retryable) return { kind: "unreachable", failure };
    return { kind: "attention", attention: { code: "secret_unreadable", reason: error.code } };
  }

  const slug = record.buildkiteOrgSlug;
  const [described, organization] = await Promise.allSettled([
    deps.buildkite.getAccessToken(token, { signal }),
    deps.buildkite.getOrganization(token, slug, { signal }),
  ]);
  if (described.status === "rejected") return fromError(organizationId, described.reason, undefined, slug);
  if (organization.status === "rejected") return fromError(organizationId, organization.reason, described.value, slug);
  return { kind: "checked", info: described.value, organization: organization.value };
}

function fromError(organizationId: string, error: unknown, info: AccessTokenInfo | undefined, slug: string): Verdict {
  if (!(error instanceof BuildkiteError)) throw error;
  logBuildkiteError("buildkite.verify.call_failed", organizationId, error);
  switch (error.code) {
    case "unauthorized":
      return { kind: "attention", attention: { code: "token_rejected" }, info };
    case "forbidden":
    case "not_found":
      // The token itself was described, so a refusal on the organisation means it no longer reaches it.
      return info
        ? { kind: "attention", attention: { code: "organization_unreachable", organization: slug }, info }
        : { kind: "attention", attention: { code: "token_forbidden" } };
    default: {
      const failure = buildkiteFailure(error);
      return { kind: "unreachable", failure, ...(failure.code === "rate_limited" ? { retryAfterSeconds: failure.retryAfterSeconds } : {}) };
    }
  }
}
