import "server-only";

import type pg from "pg";
import { getConfig } from "@/lib/config";
import { getRateLimitPool } from "@/lib/db/client";
import { createSharedLimiter, type LimitDecision } from "@/lib/rate-limits/shared-limiter";

/**
 * API rate limits, shared by every app instance (lib/rate-limits/shared-limiter.ts): per caller (an API key, or a
 * signed-in person) and per organisation across all its callers, in one-minute windows.
 */

export type RateLimitDecision = LimitDecision;

export type ApiRateLimiter = { consume(caller: string, organizationId: string): Promise<RateLimitDecision> };

const WINDOW_SECONDS = 60;
const TABLE = "api_requests";

export function createApiRateLimiter(pool: pg.Pool, limits: { perCaller: number; perOrganization: number }): ApiRateLimiter {
  const perCaller = createSharedLimiter(pool, { table: TABLE, keyPrefix: "caller", points: limits.perCaller, windowSeconds: WINDOW_SECONDS });
  const perOrganization = createSharedLimiter(pool, {
    table: TABLE,
    keyPrefix: "organization",
    points: limits.perOrganization,
    windowSeconds: WINDOW_SECONDS,
  });
  return {
    async consume(caller, organizationId) {
      const byCaller = await perCaller.take(caller);
      if (!byCaller.ok) return byCaller;
      return perOrganization.take(organizationId);
    },
  };
}

let shared: ApiRateLimiter | undefined;

export function getApiRateLimiter(): ApiRateLimiter {
  shared ??= createApiRateLimiter(getRateLimitPool(), getConfig().apiRateLimits);
  return shared;
}
