import "server-only";

import type { ConnectionDependencies } from "./dependencies";

/**
 * One deadline for a whole change (connect, rotate, disconnect, verify). Without it the clients' timeouts and retries
 * multiply — one connect could run for minutes — and the person, whose proxy gave up long ago, tries again while the
 * first attempt is still about to commit. With it, every call to Buildkite and the secret store made for the change
 * ends when the deadline passes, the lock is waited for only as long as is left, and nothing is committed after it.
 *
 * The last fifth is kept back for what follows: above all undoing a secret write that will not be recorded, so even
 * a failure answers within the deadline. An undo cut short is finished by the reconciler (reconcile.ts).
 */

export const DEFAULT_OPERATION_DEADLINE_MS = 25_000;
const CLEANUP_SHARE = 0.2;
/** An undo always gets at least this long, even when it starts at the very end. */
const MIN_RESERVE_MS = 1_000;

export type Deadline = {
  /** The whole deadline, in seconds, for messages. */
  readonly seconds: number;
  /** Aborts when the forward steps (calls, the lock wait, the commit) must stop. */
  readonly signal: AbortSignal;
  passed(): boolean;
  /** What is left for the forward steps (a lock wait never takes longer). */
  remainingMs(): number;
  /**
   * For what comes after the forward steps — undoing a write nothing will record, revoking a replaced token, deleting
   * a disconnected secret: good until the whole deadline is used (and at least a second).
   */
  reserveSignal(): AbortSignal;
};

export function startDeadline(totalMs: number, now: () => number = Date.now): Deadline {
  const started = now();
  const forwardMs = Math.max(1, Math.round(totalMs * (1 - CLEANUP_SHARE)));
  const signal = AbortSignal.timeout(forwardMs);
  const elapsed = () => now() - started;
  return {
    seconds: Math.round(totalMs / 1000),
    signal,
    passed: () => signal.aborted || elapsed() >= forwardMs,
    remainingMs: () => Math.max(0, forwardMs - elapsed()),
    reserveSignal: () => AbortSignal.timeout(Math.max(MIN_RESERVE_MS, totalMs - elapsed())),
  };
}

export function deadlineFor(deps: Pick<ConnectionDependencies, "operationDeadlineMs">): Deadline {
  return startDeadline(deps.operationDeadlineMs ?? DEFAULT_OPERATION_DEADLINE_MS);
}
