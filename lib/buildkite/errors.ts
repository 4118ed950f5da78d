import { exhaustedWindowReset, type RateLimitInfo } from "./rate-limit";

/**
 * Every way a call to Buildkite can fail, as one error type the rest of the app can switch on. Messages are for
 * logs: short, and they never contain the token (nothing here is ever given it).
 */

export type BuildkiteErrorCode =
  | "unauthorized"
  | "forbidden"
  /** 404: the token cannot reach that organisation, pipeline, build or job (or it does not exist). */
  | "not_found"
  | "rate_limited"
  | "unavailable"
  | "timeout"
  | "unreachable"
  | "unexpected_response";

export type BuildkiteErrorDetails = {
  /** HTTP status, when Buildkite answered. */
  status?: number;
  /** forbidden: the scope named by Buildkite's "doesn't have the X scope" message, if it named one. */
  missingScope?: string;
  /** rate_limited: seconds until Buildkite's rate-limit window resets. */
  retryAfterSeconds?: number;
  /** unreachable / timeout / unexpected_response / not_found: a short non-secret reason such as "connection refused". */
  reason?: string;
  cause?: unknown;
};

// Next bundles server code once per layer (pages and server actions; route handlers), so this class can exist twice
// in one process, and the client that throws it is shared between them (getBuildkiteClient keeps it on globalThis).
// A process-wide brand lets `instanceof` recognise an error made by either copy.
const BUILDKITE_ERROR: unique symbol = Symbol.for("gitar.BuildkiteError") as never;

export class BuildkiteError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BUILDKITE_ERROR]?: unknown })[BUILDKITE_ERROR] === true;
  }

  readonly [BUILDKITE_ERROR] = true;
  readonly code: BuildkiteErrorCode;
  readonly status: number | undefined;
  readonly missingScope: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly reason: string | undefined;

  constructor(code: BuildkiteErrorCode, message: string, details: BuildkiteErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "BuildkiteError";
    this.code = code;
    this.status = details.status;
    this.missingScope = details.missingScope;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.reason = details.reason;
  }
}

export function isBuildkiteError(error: unknown): error is BuildkiteError {
  return error instanceof BuildkiteError;
}

export const DEFAULT_RETRY_AFTER_SECONDS = 60;

const SCOPE_MESSAGE = /doesn't have the ([a-z_]+) scope/;

/** The scope a 403 body names ("Your access token doesn't have the read_builds scope"), if any. */
export function missingScopeFrom(body: unknown): string | undefined {
  const message = messageOf(body);
  return message === undefined ? undefined : SCOPE_MESSAGE.exec(message)?.[1];
}

/** Seconds to wait after a 429: the RateLimit-Reset header, else the body's `reset`, else a minute. */
export function retryAfterSecondsFrom(resetHeader: string | undefined, body: unknown): number {
  const fromHeader = resetHeader === undefined ? undefined : positiveSeconds(Number(resetHeader.trim()));
  return fromHeader ?? resetFromBody(body) ?? DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * Seconds to wait after a 429, from everything the answer says: the reset of the window that is used up (user or
 * organisation), else the body's `reset` (which names the exceeded limit), else the longer of the two reset headers,
 * else a minute.
 */
export function retryAfterSecondsFor(rateLimit: RateLimitInfo, body: unknown): number {
  const exhausted = exhaustedWindowReset(rateLimit);
  if (exhausted !== undefined) return positiveSeconds(exhausted) ?? DEFAULT_RETRY_AFTER_SECONDS;
  const fromBody = resetFromBody(body);
  if (fromBody !== undefined) return fromBody;
  const resets = [rateLimit.resetSeconds, rateLimit.user?.resetSeconds]
    .map((value) => (value == null ? undefined : positiveSeconds(value)))
    .filter((value): value is number => value !== undefined);
  return resets.length > 0 ? Math.max(...resets) : DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * Builds the error for a non-2xx answer (after any retry). The third argument is the parsed rate-limit headers, or
 * (the older form) the raw RateLimit-Reset header.
 */
export function errorForStatus(status: number, body: unknown, rateLimit: RateLimitInfo | string | undefined): BuildkiteError {
  if (status === 401) return new BuildkiteError("unauthorized", "Buildkite rejected the token (401)", { status });
  if (status === 403) {
    const missingScope = missingScopeFrom(body);
    return new BuildkiteError(
      "forbidden",
      missingScope ? `Buildkite refused the call: token lacks the ${missingScope} scope (403)` : "Buildkite refused the call (403)",
      { status, missingScope },
    );
  }
  if (status === 404) {
    return new BuildkiteError("not_found", "Buildkite found nothing there that this token can reach (404)", {
      status,
      reason: "not found",
    });
  }
  if (status === 429) {
    const retryAfterSeconds =
      typeof rateLimit === "object"
        ? retryAfterSecondsFor(rateLimit, body)
        : retryAfterSecondsFrom(rateLimit, body);
    return new BuildkiteError("rate_limited", `Buildkite rate limit reached; resets in ${retryAfterSeconds}s (429)`, {
      status,
      retryAfterSeconds,
    });
  }
  if (status >= 500 && status <= 599) {
    return new BuildkiteError("unavailable", `Buildkite is unavailable (${status})`, { status });
  }
  return new BuildkiteError("unexpected_response", `Buildkite answered with unexpected status ${status}`, {
    status,
    reason: `status ${status}`,
  });
}

function resetFromBody(body: unknown): number | undefined {
  const reset = body !== null && typeof body === "object" ? (body as { reset?: unknown }).reset : undefined;
  return positiveSeconds(typeof reset === "number" ? reset : Number.NaN);
}

function messageOf(body: unknown): string | undefined {
  if (body === null || typeof body !== "object") return undefined;
  const message = (body as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
}

function positiveSeconds(value: number): number | undefined {
  // Buildkite caps its window at a minute; anything beyond an hour is a garbled header, not a real wait.
  return Number.isFinite(value) && value >= 0 && value <= 3600 ? Math.ceil(value) : undefined;
}
