/**
 * When a failed delivery is tried again. First retry after about ten seconds, doubling each time, with ±20 % jitter
 * (so endpoints that failed together do not all come back at once), each wait at most an hour, for up to 24 hours
 * after the first attempt. Only a failure that could pass on its own is retried: a 5xx, a timeout, a refused or
 * reset connection, 408 and 429. Any other 4xx means the receiver rejected this request, and it would again.
 */

export type RetrySchedule = {
  firstDelayMs: number;
  maxDelayMs: number;
  /** After this long since the first attempt, a delivery is given up. */
  giveUpAfterMs: number;
};

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  firstDelayMs: 10_000,
  maxDelayMs: 60 * 60 * 1000,
  giveUpAfterMs: 24 * 60 * 60 * 1000,
};

/** An endpoint whose deliveries have failed for this long without one success is disabled, and admins are told. */
export const DISABLE_AFTER_FAILING_MS = 3 * 24 * 60 * 60 * 1000;

/** The wait before attempt `attempt + 1`, after `attempt` attempts (1 = the first failed). */
export function retryDelayMs(attempt: number, schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE, random: () => number = Math.random): number {
  const base = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** Math.min(attempt - 1, 30));
  const jitter = 0.8 + 0.4 * random();
  return Math.round(base * jitter);
}

export type AttemptOutcome =
  | { kind: "delivered"; status: number }
  | { kind: "http_error"; status: number }
  | { kind: "timeout" }
  | { kind: "connection_failed" }
  /** Refused by the SSRF guard (an address it may not reach, a scheme, a redirect): a configuration problem. */
  | { kind: "blocked"; reason: string };

export function isRetryable(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case "delivered":
      return false;
    case "http_error":
      return outcome.status >= 500 || outcome.status === 408 || outcome.status === 429;
    case "timeout":
    case "connection_failed":
      return true;
    case "blocked":
      // The URL or what its name resolves to is not allowed: waiting will not change that, the admin must.
      return false;
  }
}
