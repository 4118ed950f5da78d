/**
 * Every way a call to Buildkite can fail, as one error type the rest of the app can switch on. Messages are for
 * logs: short, and they never contain the token (nothing here is ever given it).
 */

export type BuildkiteErrorCode =
  | "unauthorized"
  | "forbidden"
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
  /** unreachable / timeout / unexpected_response: a short non-secret reason such as "connection refused". */
  reason?: string;
  cause?: unknown;
};

export class BuildkiteError extends Error {
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
  if (fromHeader !== undefined) return fromHeader;
  const reset = body !== null && typeof body === "object" ? (body as { reset?: unknown }).reset : undefined;
  return positiveSeconds(typeof reset === "number" ? reset : Number.NaN) ?? DEFAULT_RETRY_AFTER_SECONDS;
}

/** Builds the error for a non-2xx answer (after any retry). */
export function errorForStatus(status: number, body: unknown, rateLimitReset: string | undefined): BuildkiteError {
  if (status === 401) return new BuildkiteError("unauthorized", "Buildkite rejected the token (401)", { status });
  if (status === 403) {
    const missingScope = missingScopeFrom(body);
    return new BuildkiteError(
      "forbidden",
      missingScope ? `Buildkite refused the call: token lacks the ${missingScope} scope (403)` : "Buildkite refused the call (403)",
      { status, missingScope },
    );
  }
  if (status === 429) {
    const retryAfterSeconds = retryAfterSecondsFrom(rateLimitReset, body);
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

function messageOf(body: unknown): string | undefined {
  if (body === null || typeof body !== "object") return undefined;
  const message = (body as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
}

function positiveSeconds(value: number): number | undefined {
  // Buildkite caps its window at a minute; anything beyond an hour is a garbled header, not a real wait.
  return Number.isFinite(value) && value >= 0 && value <= 3600 ? Math.ceil(value) : undefined;
}
