import "server-only";

import { SCHEDULER } from "@/lib/audit/actor";
import type { Database } from "@/lib/db/client";
import { log } from "@/lib/log";
import { clock, type ConnectionDependencies } from "./dependencies";
import { findConnectionsForChange, type ConnectionForChange } from "./repository";
import { reverifyConnection } from "./reverify";

/**
 * The schedule: every connection is re-verified once per interval (BUILDKITE_VERIFY_INTERVAL_MINUTES), at its own
 * slot in the interval (check-timing.ts). A run claims due connections by pushing their next check forward in the
 * same statement that selects them (FOR UPDATE SKIP LOCKED), so two runners — in one process or in ten — never
 * check the same connection at once, and a runner that dies mid-run leaves its claims to expire, not to be lost.
 */

/** How long a claim holds a connection before another run may take it (a run that died). */
export const CLAIM_MS = 10 * 60_000;
/** A scheduled check does not queue behind an admin's change: it gives up on the lock quickly and comes back later. */
const SCHEDULED_LOCK_WAIT_MS = 1_000;

export async function claimDueConnections(db: Database, options: { limit: number; now: Date; claimMs?: number }): Promise<string[]> {
  const until = new Date(options.now.getTime() + (options.claimMs ?? CLAIM_MS));
  const rows = await db.$queryRaw<Array<{ organization_id: string }>>`
    UPDATE buildkite_connections SET next_verify_at = ${until}
    WHERE id IN (
      SELECT id FROM buildkite_connections
      WHERE next_verify_at <= ${options.now}
      ORDER BY next_verify_at
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING organization_id`;
  return rows.map((row) => row.organization_id);
}

export type ScheduledRun = { checked: number; passed: number; needsAttention: number; unreachable: number; skipped: number; released: number };

/**
 * Checks every due connection, `concurrency` at a time, until none is due or `budgetMs` is spent. Claims are taken
 * a batch ahead of the workers so they never wait on the database between checks.
 */
export async function runScheduledChecks(
  deps: ConnectionDependencies,
  options: { concurrency: number; budgetMs: number; batchSize?: number },
): Promise<ScheduledRun> {
  const now = clock(deps);
  const deadline = Date.now() + options.budgetMs;
  const batchSize = options.batchSize ?? Math.max(options.concurrency * 4, 20);
  const run: ScheduledRun = { checked: 0, passed: 0, needsAttention: 0, unreachable: 0, skipped: 0, released: 0 };
  const queue: Array<{ organizationId: string; record: ConnectionForChange | null }> = [];
  let exhausted = false;
  let refilling: Promise<void> | null = null;

  // The claimed records are read in one query per batch, not one per check. One read a moment before its check is
  // as good as one at the check: the verdict is committed only if the record's revision is still the one read.
  const refill = () =>
    (refilling ??= claimDueConnections(deps.db, { limit: batchSize, now: now() })
      .then(async (claimed) => {
        if (claimed.length === 0) exhausted = true;
        const records = await findConnectionsForChange(deps.db, claimed);
        queue.push(...claimed.map((organizationId) => ({ organizationId, record: records.get(organizationId) ?? null })));
      })
      .finally(() => {
        refilling = null;
      }));

  async function worker() {
    while (Date.now() < deadline) {
      if (queue.length === 0) {
        if (exhausted) return;
        await refill();
        continue;
      }
      const { organizationId, record } = queue.shift()!;
      try {
        const result = await reverifyConnection({ organizationId, actor: SCHEDULER }, deps, { lockWaitMs: SCHEDULED_LOCK_WAIT_MS, record });
        if (!result.ok) run.skipped += 1;
        else {
          run.checked += 1;
          if (result.outcome === "passed") run.passed += 1;
          else if (result.outcome === "needs_attention") run.needsAttention += 1;
          else run.unreachable += 1;
        }
      } catch (error) {
        run.skipped += 1;
        log.error("buildkite.schedule.check_failed", { organizationId }, error);
      }
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (queue.length > 0) run.released = await releaseClaims(deps.db, queue.splice(0).map((entry) => entry.organizationId), now());
  return run;
}

/** Hands back claims the run had no time for, so the next run takes them straight away. */
async function releaseClaims(db: Database, organizationIds: string[], now: Date): Promise<number> {
  const released = await db.buildkiteConnection.updateMany({ where: { organizationId: { in: organizationIds } }, data: { nextVerifyAt: now } });
  return released.count;
}
