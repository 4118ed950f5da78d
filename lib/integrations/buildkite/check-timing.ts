import { createHash } from "node:crypto";

/**
 * When a connection is checked next. Each organisation gets a fixed phase within the interval (from a hash of its
 * id), so ten thousand connections made in the same minute are still checked evenly spread over the interval, and
 * each one keeps its slot from one check to the next.
 */

const MINUTE_MS = 60_000;
/** Never schedule a regular check closer than this to the last one. */
const MIN_GAP_MS = MINUTE_MS;
/** After a check that could not reach Buildkite: try again sooner than a full interval, but not in a tight loop. */
export const RETRY_AFTER_UNREACHABLE_MS = 15 * MINUTE_MS;

export function phaseOf(organizationId: string, intervalMs: number): number {
  return createHash("sha256").update(organizationId).digest().readUInt32BE(0) % intervalMs;
}

/** The organisation's next slot after `after`. */
export function nextCheckAt(organizationId: string, after: Date, intervalMinutes: number): Date {
  const intervalMs = intervalMinutes * MINUTE_MS;
  const phase = phaseOf(organizationId, intervalMs);
  const sincePhase = (((after.getTime() - phase) % intervalMs) + intervalMs) % intervalMs;
  let next = after.getTime() - sincePhase + intervalMs;
  if (next - after.getTime() < MIN_GAP_MS) next += intervalMs;
  return new Date(next);
}

/** After an inconclusive check: past Buildkite's rate-limit reset when it gave one, else a short retry delay. */
export function retryCheckAt(after: Date, intervalMinutes: number, retryAfterSeconds?: number): Date {
  const jitter = Math.floor(Math.random() * 30_000);
  const base = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : Math.min(RETRY_AFTER_UNREACHABLE_MS, intervalMinutes * MINUTE_MS);
  return new Date(after.getTime() + base + jitter);
}
