/**
 * Buildkite's rate-limit headers, read defensively: every response carries an organisation set (`RateLimit-*`,
 * scope `rest`) and a per-user set (`RateLimit-User-*`, scope `rest_user`); any of them may be missing or garbled,
 * which reads as null rather than as a failure.
 */

export type RateLimitWindow = {
  limit: number | null;
  remaining: number | null;
  /** Seconds until this window resets. */
  resetSeconds: number | null;
};

export type RateLimitInfo = RateLimitWindow & {
  /** `RateLimit-Scope`, e.g. "rest" (the organisation's limit). */
  scope: string | null;
  /** The `RateLimit-User-*` set; null when the response carried none of it. */
  user: RateLimitWindow | null;
};

type Headers = Record<string, string | string[] | undefined>;

// A day is far beyond any window Buildkite uses; a larger number is a garbled header, not a real value.
const MAX_COUNT = 1_000_000;
const MAX_RESET_SECONDS = 86_400;

export function parseRateLimit(headers: Headers): RateLimitInfo {
  const user: RateLimitWindow = {
    limit: count(headers, "ratelimit-user-limit", MAX_COUNT),
    remaining: count(headers, "ratelimit-user-remaining", MAX_COUNT),
    resetSeconds: count(headers, "ratelimit-user-reset", MAX_RESET_SECONDS),
  };
  const hasUser = user.limit !== null || user.remaining !== null || user.resetSeconds !== null;
  return {
    scope: scope(headers, "ratelimit-scope"),
    limit: count(headers, "ratelimit-limit", MAX_COUNT),
    remaining: count(headers, "ratelimit-remaining", MAX_COUNT),
    resetSeconds: count(headers, "ratelimit-reset", MAX_RESET_SECONDS),
    user: hasUser ? user : null,
  };
}

/**
 * Seconds to wait after a 429, from the headers alone: the reset of the window that is used up (the user's first,
 * as it is the one a single integration exhausts), else undefined.
 */
export function exhaustedWindowReset(info: RateLimitInfo): number | undefined {
  if (info.user?.remaining === 0 && info.user.resetSeconds !== null) return info.user.resetSeconds;
  if (info.remaining === 0 && info.resetSeconds !== null) return info.resetSeconds;
  return undefined;
}

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  // Repeated headers are ambiguous; take none rather than guess.
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

function count(headers: Headers, name: string, max: number): number | null {
  const raw = single(headers, name)?.trim();
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return null;
  const value = Number(raw);
  return value <= max ? value : null;
}

function scope(headers: Headers, name: string): string | null {
  const raw = single(headers, name)?.trim();
  // Only a short identifier is passed on: the header's text goes no further than this shape allows.
  return raw !== undefined && /^[A-Za-z0-9_.-]{1,40}$/.test(raw) ? raw : null;
}
