import "server-only";

import type pg from "pg";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { log } from "@/lib/log";

/**
 * A count in fixed windows that every app instance shares, kept in Postgres by rate-limiter-flexible (schema
 * rate_limits, one table per purpose). If Postgres cannot be reached, a per-process count in memory stands in (the
 * library's "insurance" limiter), so a limit holds roughly rather than letting everything through or refusing all.
 */

export type LimitDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export type SharedLimiter = {
  /** Counts one; refused once the key has used up its points in this window (refused attempts count too). */
  take(key: string): Promise<LimitDecision>;
  /** Gives points back to the key (an attempt that turned out not to count). */
  giveBack(key: string, points?: number): Promise<void>;
  /** Starts the key afresh. */
  forget(key: string): Promise<void>;
};

export type SharedLimiterOptions = {
  /** The table in schema rate_limits. rate-limiter-flexible names its prepared statements after it, so two purposes
   *  never share a table name, whatever their schema. */
  table: string;
  /** Keeps several counts apart within one table. */
  keyPrefix: string;
  points: number;
  windowSeconds: number;
};

// Limiters on one table share its creation within a process; across processes, createTable serialises it.
const tablesOfPool = new WeakMap<pg.Pool, Map<string, Promise<void>>>();

export function createSharedLimiter(pool: pg.Pool, options: SharedLimiterOptions): SharedLimiter {
  const { table, keyPrefix, points, windowSeconds } = options;
  const store = new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    schemaName: SCHEMA,
    tableName: table,
    // We create the table ourselves (createTable): the library's own CREATE races another instance's.
    tableCreated: true,
    keyPrefix,
    points,
    duration: windowSeconds,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${keyPrefix}-memory`, points, duration: windowSeconds }),
  });
  // Until the table exists, the library's queries fail and the insurance limiter counts.
  return limiterOver(store, () => tableReady(pool, table));
}

const SCHEMA = "rate_limits";
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A table that could not be created is tried again after this long, not on every call while Postgres is down. */
const CREATE_RETRY_MS = 30_000;

/** Resolves once the table exists or creating it failed (logged); never rejects. */
function tableReady(pool: pg.Pool, table: string): Promise<void> {
  const tables = tablesOfPool.get(pool) ?? new Map<string, Promise<void>>();
  tablesOfPool.set(pool, tables);
  let ready = tables.get(table);
  if (!ready) {
    ready = createTable(pool, table).catch((error: unknown) => {
      setTimeout(() => tables.delete(table), CREATE_RETRY_MS).unref();
      log.error("rate_limit.store_unavailable", { table }, error);
    });
    tables.set(table, ready);
  }
  return ready;
}

async function createTable(pool: pg.Pool, table: string): Promise<void> {
  if (!TABLE_NAME.test(table)) throw new RangeError(`not a table name: ${table}`);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // CREATE ... IF NOT EXISTS is not safe against itself: two instances starting at once both find no table and one
    // fails on the catalog (42P07 or 23505). A transaction-scoped advisory lock lets one create and the other see it.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('rate_limits.create_table'))");
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    // The columns rate-limiter-flexible's RateLimiterPostgres reads and writes (its own CREATE statement).
    await client.query(
      `CREATE TABLE IF NOT EXISTS "${SCHEMA}"."${table}" (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`,
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The same count kept in this process only: for one process, and for tests of what is built on a limiter. */
export function createMemoryLimiter(options: { points: number; windowSeconds: number }): SharedLimiter {
  return limiterOver(new RateLimiterMemory({ points: options.points, duration: options.windowSeconds }), () => Promise.resolve());
}

function limiterOver(store: RateLimiterAbstract, whenReady: () => Promise<void>): SharedLimiter {
  return {
    async take(key) {
      await whenReady();
      try {
        await store.consume(key);
        return { ok: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        throw rejection;
      }
    },
    async giveBack(key, returned = 1) {
      await whenReady();
      await store.reward(key, returned);
    },
    async forget(key) {
      await whenReady();
      await store.delete(key);
    },
  };
}
