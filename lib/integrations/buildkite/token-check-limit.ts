import "server-only";

import type pg from "pg";
import { getRateLimitPool } from "@/lib/db/client";
import { createSharedLimiter, type LimitDecision } from "@/lib/rate-limits/shared-limiter";

/**
 * How many pasted tokens one organisation may have checked at Buildkite (connect and rotate, from the page or the
 * API). Without a limit the form would test stolen tokens one after another for whoever holds an admin session or
 * an API key, and spend Buildkite's rate limits on the way. 20 in 15 minutes is far above what an admin does by
 * hand, mistakes included; counted for every instance at once in Postgres.
 */

export const TOKEN_CHECK_LIMIT = { points: 20, windowSeconds: 15 * 60 };

export type TokenCheckLimiter = {
  /** Counts one check for the organisation; refused when it has none left in the window. */
  take(organizationId: string): Promise<LimitDecision>;
};

export function createTokenCheckLimiter(pool: pg.Pool, limit = TOKEN_CHECK_LIMIT): TokenCheckLimiter {
  const limiter = createSharedLimiter(pool, { table: "token_checks", keyPrefix: "organization", ...limit });
  return { take: (organizationId) => limiter.take(organizationId) };
}

const globalForLimit = globalThis as typeof globalThis & { __tokenCheckLimiter?: TokenCheckLimiter };

/** The process's one limiter, on the rate limiter's pool. */
export function getTokenCheckLimiter(): TokenCheckLimiter {
  globalForLimit.__tokenCheckLimiter ??= createTokenCheckLimiter(getRateLimitPool());
  return globalForLimit.__tokenCheckLimiter;
}
