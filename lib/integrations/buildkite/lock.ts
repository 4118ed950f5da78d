import "server-only";

import { createHash } from "node:crypto";
import type pg from "pg";
import { acquireAdvisoryLock, FENCE_SQL, type AdvisoryLockKey, type HeldLock } from "@/lib/db/advisory-lock";
import type { Prisma } from "@/lib/generated/prisma/client";

/**
 * One change at a time per organisation's Buildkite connection. Connect, rotate and disconnect hold the lock from
 * reading the current record, through the secret write and its read-back, to the commit (and, for disconnect, the
 * secret's deletion); verify takes it to commit its verdict (the schedule's verify inside that commit's own
 * transaction: tryInTransaction). A second change for the same organisation waits up to
 * `waitMs`, then gets "busy". Different organisations never wait for each other (barring a hash collision, which
 * only makes two of them take turns).
 */

// "BKCN": the class half of the key, so these locks never collide with other advisory locks (Prisma's migrate lock).
const LOCK_CLASS = 0x424b434e & 0x7fffffff;

export function connectionLockKey(organizationId: string): AdvisoryLockKey {
  const digest = createHash("sha256").update(organizationId).digest();
  return [LOCK_CLASS, digest.readUInt32BE(0) & 0x7fffffff];
}

/** Held while one change runs. `fence` is called inside the change's commit transaction. */
export type ConnectionLease = {
  readonly organizationId: string;
  /** Fails the transaction unless this lease still holds the lock (its connection could have been lost). */
  fence(tx: Prisma.TransactionClient): Promise<void>;
  release(): Promise<void>;
};

export type ConnectionLocks = {
  /** `waitMs` replaces the configured wait; `atMostMs` caps whichever applies (what is left of a deadline). */
  acquire(organizationId: string, options?: { waitMs?: number; atMostMs?: number }): Promise<ConnectionLease | null>;
  /**
   * Takes the lock inside `tx` itself, without waiting: false when another change holds it. COMMIT or ROLLBACK of
   * `tx` releases it. For work that needs the lock only for one commit and never waits for it (the schedule's
   * verdicts): one statement, where `acquire` costs a lock connection and four (docs/benchmarks.md, part 5). Never
   * for a wait: a connection of the app's pool must not sit waiting on a lock whose holder needs one to commit.
   */
  tryInTransaction(tx: Prisma.TransactionClient, organizationId: string): Promise<boolean>;
};

export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
  constructor() {
    super("The lock on this connection was lost before the change committed");
  }
}

export function createConnectionLocks(pool: pg.Pool, defaults: { waitMs: number }): ConnectionLocks {
  return {
    async acquire(organizationId, options = {}) {
      const waitMs = Math.min(options.waitMs ?? defaults.waitMs, options.atMostMs ?? Infinity);
      // A free lock connection is waited for as long as the change's deadline allows: other organisations' changes
      // hold them, and those end within their own deadlines. Only this organisation's lock answers "busy" sooner.
      const attempt = await acquireAdvisoryLock(pool, connectionLockKey(organizationId), waitMs, { connectionWaitMs: options.atMostMs });
      return attempt.ok ? leaseFor(organizationId, attempt.lock) : null;
    },
    async tryInTransaction(tx, organizationId) {
      const [classId, objectId] = connectionLockKey(organizationId);
      const rows = await tx.$queryRawUnsafe<Array<{ locked: boolean }>>("SELECT pg_try_advisory_xact_lock($1::int, $2::int) AS locked", classId, objectId);
      return rows[0]?.locked === true;
    },
  };
}

function leaseFor(organizationId: string, lock: HeldLock): ConnectionLease {
  return {
    organizationId,
    async fence(tx) {
      if (lock.lost) throw new LeaseLostError();
      const rows = await tx.$queryRawUnsafe<Array<{ held: boolean }>>(FENCE_SQL, lock.holderPid, lock.key[0], lock.key[1]);
      if (!rows[0]?.held) throw new LeaseLostError();
    },
    release: () => lock.release(),
  };
}

/** Runs `work` under the organisation's lock; null when another change kept it busy for the whole wait. */
export async function withConnectionLock<T>(
  locks: ConnectionLocks,
  organizationId: string,
  work: (lease: ConnectionLease) => Promise<T>,
  options?: { waitMs?: number },
): Promise<{ ok: true; value: T } | { ok: false }> {
  const lease = await locks.acquire(organizationId, options);
  if (!lease) return { ok: false };
  try {
    return { ok: true, value: await work(lease) };
  } finally {
    await lease.release();
  }
}

/**
 * Starts waiting for the organisation's lock now, and runs `prepare` (the record read) as soon as it is held, while
 * the caller does something that does not need the lock (asking Buildkite about a token): the wait and the read then
 * cost no time of their own (docs/benchmarks.md, part 1). The lock still covers the secret write, its read-back and
 * the commit, exactly as before. `take` hands over the lease (null: busy); `abandon` gives it back whenever it comes,
 * without making the caller wait for it.
 */
export function acquireAhead<T>(
  locks: ConnectionLocks,
  organizationId: string,
  options: { waitMs?: number; atMostMs?: number },
  prepare: (lease: ConnectionLease) => Promise<T>,
): { take(): Promise<{ lease: ConnectionLease; prepared: T } | null>; abandon(): void } {
  type Outcome = { ok: true; held: { lease: ConnectionLease; prepared: T } | null } | { ok: false; error: unknown };
  const attempt: Promise<Outcome> = locks.acquire(organizationId, options).then(
    async (lease): Promise<Outcome> => {
      if (!lease) return { ok: true, held: null };
      try {
        return { ok: true, held: { lease, prepared: await prepare(lease) } };
      } catch (error) {
        await lease.release();
        return { ok: false, error };
      }
    },
    (error: unknown): Outcome => ({ ok: false, error }),
  );
  return {
    async take() {
      const outcome = await attempt;
      if (!outcome.ok) throw outcome.error;
      return outcome.held;
    },
    abandon() {
      void attempt.then((outcome) => (outcome.ok ? outcome.held?.lease.release() : undefined)).catch(() => undefined);
    },
  };
}
