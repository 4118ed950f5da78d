import "server-only";

import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { getConfig } from "@/lib/config";
import { PrismaClient } from "@/lib/generated/prisma/client";
import { log } from "@/lib/log";

export type Database = PrismaClient;

const globalForDb = globalThis as typeof globalThis & { __db?: PrismaClient; __lockPool?: pg.Pool; __rateLimitPool?: pg.Pool };

export function createDb(databaseUrl: string, poolSize: number): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}

/**
 * A pool only for the connections that hold per-organisation locks (lib/db/advisory-lock.ts). Kept apart from
 * Prisma's pool so that changes waiting for a lock can never use up the connections the lock holders need to
 * commit.
 */
export function createLockPool(databaseUrl: string, options: { max: number; waitMs: number }): pg.Pool {
  // acquireAdvisoryLock bounds each wait for a connection itself (up to what the change's deadline leaves): the
  // pool's own timeout is only a backstop, at the longest deadline a change can have.
  return createPgPool(databaseUrl, { ...options, waitMs: Math.max(options.waitMs, 120_000), name: "gitar-locks" });
}

/** A plain pg pool of its own, for the parts that speak SQL directly (locks, the API's rate limiter). */
export function createPgPool(databaseUrl: string, options: { max: number; waitMs: number; name: string }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max,
    connectionTimeoutMillis: options.waitMs,
    idleTimeoutMillis: 30_000,
    application_name: options.name,
  });
  // An idle connection that the server drops must not crash the process; the next query opens a new one.
  pool.on("error", (error) => log.warn("db.pool.idle_connection_lost", { pool: options.name }, error));
  return pool;
}

function databaseUrl(): string {
  const { databaseUrl: url } = getConfig();
  if (!url) throw new Error("DATABASE_URL is not set. Start the app with `npm start`, which provides an embedded Postgres.");
  return url;
}

/** The one Prisma client of this process (kept on globalThis so dev-mode reloads don't open new pools). */
export function getDb(): PrismaClient {
  globalForDb.__db ??= createDb(databaseUrl(), getConfig().databasePoolSize);
  return globalForDb.__db;
}

/** The one lock pool of this process. */
export function getLockPool(): pg.Pool {
  const config = getConfig();
  globalForDb.__lockPool ??= createLockPool(databaseUrl(), { max: config.databasePoolSize, waitMs: config.connectionLockWaitMs });
  return globalForDb.__lockPool;
}

/** The pool the API's rate limiter counts in: small, apart, so counting never waits behind the app's queries. */
export function getRateLimitPool(): pg.Pool {
  globalForDb.__rateLimitPool ??= createPgPool(databaseUrl(), { max: 3, waitMs: 2_000, name: "gitar-rate-limits" });
  return globalForDb.__rateLimitPool;
}
