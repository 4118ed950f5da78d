import "server-only";

import pg from "pg";
import { log } from "@/lib/log";

/**
 * Postgres advisory locks held by a transaction of their own, on a connection of their own: the lock lasts exactly
 * as long as that transaction, so it is released by COMMIT, by ROLLBACK, or by Postgres itself when the connection
 * or the process dies — a crash can never leave an organisation locked. The work done under the lock uses the
 * app's ordinary pool; `fenceSql` lets a write check, in its own transaction, that the lock is still held.
 */

export type AdvisoryLockKey = readonly [classId: number, objectId: number];

export type HeldLock = {
  /** The backend holding the lock, for the fence check. */
  readonly holderPid: number;
  readonly key: AdvisoryLockKey;
  /** Whether the holding connection has failed (the lock may be gone). */
  readonly lost: boolean;
  release(): Promise<void>;
};

export type LockAttempt = { ok: true; lock: HeldLock } | { ok: false; reason: "busy" };

const LOCK_NOT_AVAILABLE = "55P03";
const MAX_INT4 = 0x7fffffff;

export function assertKeyPart(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_INT4) throw new RangeError("advisory lock keys are 0..2^31-1");
}

/** A wait for a lock connection longer than this is logged: the pool, not Postgres, is then the limit. */
const SLOW_CONNECTION_WAIT_MS = 250;

/**
 * Waits up to `waitMs` for the lock (Postgres queues waiters fairly), then gives up with "busy". Waiting for a free
 * connection of `pool` (every one held by another organisation's change) is a different wait: it lasts up to
 * `connectionWaitMs` (default `waitMs`; a change passes what its deadline leaves), as those changes end within their
 * own deadlines, and whatever it takes comes off the lock wait. A long one is logged, so a pool too small for the
 * load is seen (docs/benchmarks.md, part 6).
 */
export async function acquireAdvisoryLock(
  pool: pg.Pool,
  key: AdvisoryLockKey,
  waitMs: number,
  options: { connectionWaitMs?: number } = {},
): Promise<LockAttempt> {
  key.forEach(assertKeyPart);
  const started = Date.now();
  const budgetMs = Math.max(waitMs, options.connectionWaitMs ?? waitMs);
  const client = await connectWithin(pool, budgetMs);
  const waitedMs = Date.now() - started;
  if (waitedMs >= SLOW_CONNECTION_WAIT_MS) {
    log.warn("db.lock_pool.waited", { waitedMs, gotOne: client !== null, size: pool.options.max, waiting: pool.waitingCount });
  }
  // Every lock connection stayed in use for the whole budget.
  if (!client) return { ok: false, reason: "busy" };
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on("error", onError);
  const done = (destroy: boolean) => {
    client.off("error", onError);
    client.release(destroy);
  };
  try {
    await client.query("BEGIN");
    const remaining = Math.max(1, Math.min(waitMs, budgetMs - (Date.now() - started)));
    // SET LOCAL cannot take a bind parameter; the value is an integer we computed.
    await client.query(`SET LOCAL lock_timeout = ${Math.ceil(remaining)}`);
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [key[0], key[1]]);
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const holderPid = rows[0]!.pid;
    let released = false;
    return {
      ok: true,
      lock: {
        holderPid,
        key,
        get lost() {
          return lost;
        },
        async release() {
          if (released) return;
          released = true;
          try {
            await client.query("COMMIT");
            done(false);
          } catch {
            // A connection that failed to end its transaction must not go back to the pool still holding the lock.
            done(true);
          }
        },
      },
    };
  } catch (error) {
    const busy = (error as { code?: unknown }).code === LOCK_NOT_AVAILABLE;
    await client.query("ROLLBACK").catch(() => undefined);
    done(!busy);
    if (busy) return { ok: false, reason: "busy" };
    throw error;
  }
}

/** A connection of `pool` within `ms`, or null; one that comes later goes straight back to the pool. */
function connectWithin(pool: pg.Pool, ms: number): Promise<pg.PoolClient | null> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      resolve(null);
    }, ms);
    pool.connect().then(
      (client) => {
        if (settled) return client.release();
        settled = true;
        clearTimeout(timer);
        resolve(client);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // The pool's own connectionTimeoutMillis, if it is shorter: the same answer.
        if (error instanceof Error && /timeout exceeded when trying to connect/i.test(error.message)) resolve(null);
        else reject(error);
      },
    );
  });
}

/** SQL (with $1 holder pid, $2 class id, $3 object id) that is true while that backend still holds the lock. */
export const FENCE_SQL = `SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND pid = $1 AND classid = $2::oid AND objid = $3::oid AND objsubid = 2
) AS held`;
