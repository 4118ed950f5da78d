import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BuildkiteClient } from "@/lib/buildkite/client";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { CLAIM_MS, claimDueConnections, runScheduledChecks } from "@/lib/integrations/buildkite/verify-schedule";
import {
  accessTokenChecks,
  at,
  connectFresh,
  connectionOf,
  goodScenario,
  mapLimit,
  MINUTE_MS,
  pastEpoch,
  tenantTracker,
  type ConnectedTenant,
} from "../support/connection-checks";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { localBackend } from "../support/secret-backends";
import { auditOf } from "../support/tenants";

/**
 * The schedule against real parts: connections made through the real connect use case (so next_verify_at is what the
 * real code sets), claimed from Postgres, checked against the Buildkite stand-in. The schedule claims every due
 * connection in the database, so each test runs on its own clock far in the past (pastEpoch): only its own
 * connections are ever due on it.
 */

const INTERVAL_MINUTES = 10;
const INTERVAL_MS = INTERVAL_MINUTES * MINUTE_MS;
/** check-timing.ts: a regular check is never scheduled less than a minute after the last one. */
const MIN_GAP_MS = MINUTE_MS;
/** Connections made at one instant for the spread test. 1,000 real connects take 10-15 s on this machine; 400 show
 *  the same (any bunching would be far outside the bounds, which scale with the count). */
const SPREAD_CONNECTIONS = 400;

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
const backend = localBackend();
beforeAll(() => backend.setUp());
afterAll(async () => {
  await tenants.removeAll();
  await backend.tearDown();
});
afterEach(() => harness.buildkite.setLatency(0));

const depsAt = (now: Date, overrides: Partial<ConnectionDependencies> = {}) =>
  harness.deps(backend.store(), { now: () => now, verifyIntervalMinutes: INTERVAL_MINUTES, ...overrides });

/** `count` organisations, each connected with a fresh good token at `t0`. */
async function connectMany(count: number, t0: Date, options: { intervalMinutes?: number } = {}): Promise<ConnectedTenant[]> {
  const deps = depsAt(t0, { verifyIntervalMinutes: options.intervalMinutes ?? INTERVAL_MINUTES });
  return mapLimit(Array.from({ length: count }), 16, async () => connectFresh(harness, deps, await tenants.create()));
}

const idsOf = (connections: ConnectedTenant[]) => connections.map((connection) => connection.tenant.organizationId).sort();

async function nextVerifyAtOf(connections: ConnectedTenant[]): Promise<Map<string, Date>> {
  const rows = await harness.db.buildkiteConnection.findMany({
    where: { organizationId: { in: connections.map((connection) => connection.tenant.organizationId) } },
    select: { organizationId: true, nextVerifyAt: true },
  });
  return new Map(rows.map((row) => [row.organizationId, row.nextVerifyAt]));
}

describe("claimDueConnections", () => {
  it("claims only the due rows, earliest first and up to the limit, pushing each claimed row forward by the claim time", async () => {
    const t0 = pastEpoch();
    const connections = await connectMany(6, t0);
    const [a, b, c] = connections as [ConnectedTenant, ConnectedTenant, ConnectedTenant];
    // Three are due (a most overdue); the other three keep the slot connect gave them, after t0.
    for (const [connection, minutesAgo] of [[a, 3], [b, 2], [c, 1]] as const) {
      await harness.db.buildkiteConnection.update({
        where: { organizationId: connection.tenant.organizationId },
        data: { nextVerifyAt: at(t0, -minutesAgo * MINUTE_MS) },
      });
    }
    const notDue = connections.slice(3);
    const notDueBefore = await nextVerifyAtOf(notDue);
    for (const when of notDueBefore.values()) expect(when.getTime()).toBeGreaterThan(t0.getTime());

    const firstTwo = await claimDueConnections(harness.db, { limit: 2, now: t0 });
    const rest = await claimDueConnections(harness.db, { limit: 10, now: t0 });
    const none = await claimDueConnections(harness.db, { limit: 10, now: t0 });

    expect(firstTwo).toEqual([a.tenant.organizationId, b.tenant.organizationId]);
    expect(rest).toEqual([c.tenant.organizationId]);
    expect(none).toEqual([]);
    for (const claimed of [a, b, c]) {
      expect((await connectionOf(harness.db, claimed.tenant.organizationId)).nextVerifyAt).toEqual(at(t0, CLAIM_MS));
    }
    expect(await nextVerifyAtOf(notDue)).toEqual(notDueBefore);

    // A run that died leaves its claims to expire: once the claim time has passed they are due again.
    const later = await claimDueConnections(harness.db, { limit: 10, now: at(t0, CLAIM_MS) });
    expect(later).toEqual(expect.arrayContaining([a, b, c].map((claimed) => claimed.tenant.organizationId)));
  });

  it("claims made at the same moment never hand out the same organisation twice", async () => {
    const t0 = pastEpoch();
    const connections = await connectMany(60, t0);
    const due = at(t0, INTERVAL_MS + MIN_GAP_MS);

    async function claimUntilEmpty(): Promise<string[]> {
      const mine: string[] = [];
      for (;;) {
        const batch = await claimDueConnections(harness.db, { limit: 5, now: due });
        if (batch.length === 0) return mine;
        mine.push(...batch);
      }
    }
    const claims = await Promise.all([claimUntilEmpty(), claimUntilEmpty(), claimUntilEmpty(), claimUntilEmpty()]);

    const all = claims.flat();
    expect(all.length).toBe(new Set(all).size);
    expect([...all].sort()).toEqual(idsOf(connections));
    // They really did run side by side: more than one claimer got work.
    expect(claims.filter((claimed) => claimed.length > 0).length).toBeGreaterThan(1);
  });
});

describe("runScheduledChecks", () => {
  it("checks each of 40 due connections exactly once, 8 at a time", async () => {
    const t0 = pastEpoch();
    const connections = await connectMany(40, t0);
    const now = at(t0, INTERVAL_MS + MIN_GAP_MS);
    const since = harness.buildkite.requests.length;
    harness.buildkite.setLatency(100);

    // How many checks are at Buildkite at once, counted around the real client (never timed: tests do not fail on
    // a timing).
    let inFlight = 0;
    let mostInFlight = 0;
    const counted: BuildkiteClient = {
      ...harness.client,
      async getAccessToken(token, options) {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await harness.client.getAccessToken(token, options);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const run = await runScheduledChecks(depsAt(now, { buildkite: counted }), { concurrency: 8, budgetMs: 20_000 });

    expect(run).toEqual({ checked: 40, passed: 40, needsAttention: 0, unreachable: 0, skipped: 0, released: 0 });
    for (const connection of connections) expect(accessTokenChecks(harness.buildkite, connection.token, since)).toBe(1);
    // 40 checks queued, each holding its slot for a 100 ms round trip: all 8 slots fill, and never a ninth.
    expect(mostInFlight).toBe(8);
    for (const connection of connections) {
      const row = await connectionOf(harness.db, connection.tenant.organizationId);
      expect(row).toMatchObject({ status: "connected", lastCheckedAt: now, lastVerifiedAt: now, lastCheckOutcome: "passed" });
      expect(row.nextVerifyAt.getTime()).toBeGreaterThan(now.getTime());
    }
    // Nothing changed, so the schedule wrote no audit event.
    for (const connection of connections.slice(0, 5)) {
      expect((await auditOf(harness.db, connection.tenant.organizationId)).map((event) => event.action)).toEqual(["buildkite.connect"]);
    }
  });

  it("two runners at once still check each connection exactly once", async () => {
    const t0 = pastEpoch();
    const connections = await connectMany(40, t0);
    const now = at(t0, INTERVAL_MS + MIN_GAP_MS);
    const since = harness.buildkite.requests.length;
    harness.buildkite.setLatency(20);

    const runs = await Promise.all([
      runScheduledChecks(depsAt(now), { concurrency: 8, budgetMs: 20_000, batchSize: 10 }),
      runScheduledChecks(depsAt(now), { concurrency: 8, budgetMs: 20_000, batchSize: 10 }),
    ]);

    expect(runs.map((run) => run.checked).reduce((sum, checked) => sum + checked, 0)).toBe(40);
    expect(runs.map((run) => run.skipped + run.released)).toEqual([0, 0]);
    const checksPerToken = connections.map((connection) => accessTokenChecks(harness.buildkite, connection.token, since));
    expect(checksPerToken).toEqual(connections.map(() => 1));
  });

  it("a token revoked at Buildkite turns Needs attention by the first run one interval (plus the minimum gap) after connecting, and back once it works again", async () => {
    const t0 = pastEpoch();
    const connections = await connectMany(12, t0);
    for (const connection of connections) harness.buildkite.revoke(connection.token);

    // connect.ts sets next_verify_at to the organisation's next slot at least a minute after t0: never later than this.
    const firstRun = at(t0, INTERVAL_MS + MIN_GAP_MS);
    for (const when of (await nextVerifyAtOf(connections)).values()) expect(when.getTime()).toBeLessThanOrEqual(firstRun.getTime());
    const run = await runScheduledChecks(depsAt(firstRun), { concurrency: 4, budgetMs: 20_000 });

    expect(run).toMatchObject({ checked: 12, needsAttention: 12 });
    for (const connection of connections) {
      expect(await connectionOf(harness.db, connection.tenant.organizationId)).toMatchObject({
        status: "needs_attention",
        attentionCode: "token_rejected",
        lastCheckedAt: firstRun,
      });
      const events = await auditOf(harness.db, connection.tenant.organizationId);
      expect(events.at(-1)).toMatchObject({
        actorType: "scheduler",
        action: "buildkite.verify",
        code: "needs_attention",
        detail: { statusFrom: "connected", statusTo: "needs_attention", reason: "token_rejected" },
      });
    }

    // Working again (re-registering forgets the revocation): the next slot, one interval on, brings it back.
    for (const connection of connections) harness.buildkite.register(connection.token, goodScenario({ uuid: connection.uuid }));
    const secondRun = at(firstRun, INTERVAL_MS + MIN_GAP_MS);
    const recovered = await runScheduledChecks(depsAt(secondRun), { concurrency: 4, budgetMs: 20_000 });

    expect(recovered).toMatchObject({ checked: 12, passed: 12 });
    for (const connection of connections) {
      expect(await connectionOf(harness.db, connection.tenant.organizationId)).toMatchObject({
        status: "connected",
        attentionCode: null,
        attentionDetail: null,
        lastVerifiedAt: secondRun,
      });
      expect((await auditOf(harness.db, connection.tenant.organizationId)).at(-1)).toMatchObject({
        actorType: "scheduler",
        code: "passed",
        detail: { statusFrom: "needs_attention", statusTo: "connected" },
      });
    }
  });

  it("a 429 defers that organisation's next check past Buildkite's reset, and leaves the others on their slots", async () => {
    const t0 = pastEpoch();
    const [limited, healthy] = (await connectMany(2, t0)) as [ConnectedTenant, ConnectedTenant];
    harness.buildkite.register(limited.token, { kind: "rate_limited", resetSeconds: 300 });
    const now = at(t0, INTERVAL_MS + MIN_GAP_MS);

    const run = await runScheduledChecks(depsAt(now), { concurrency: 2, budgetMs: 20_000 });

    expect(run).toMatchObject({ checked: 2, passed: 1, unreachable: 1 });
    const limitedRow = await connectionOf(harness.db, limited.tenant.organizationId);
    expect(limitedRow).toMatchObject({ status: "connected", lastCheckOutcome: "unreachable", unreachableSince: now });
    const deferredBy = limitedRow.nextVerifyAt.getTime() - now.getTime();
    expect(deferredBy).toBeGreaterThanOrEqual(300_000);
    expect(deferredBy).toBeLessThanOrEqual(330_000);
    const healthyNext = (await connectionOf(harness.db, healthy.tenant.organizationId)).nextVerifyAt.getTime() - now.getTime();
    expect(healthyNext).toBeGreaterThanOrEqual(MIN_GAP_MS);
    expect(healthyNext).toBeLessThanOrEqual(INTERVAL_MS + MIN_GAP_MS);

    // Before the reset the schedule leaves it alone; after it, it checks again.
    const beforeReset = harness.buildkite.requests.length;
    await runScheduledChecks(depsAt(at(now, 299_000)), { concurrency: 2, budgetMs: 20_000 });
    expect(accessTokenChecks(harness.buildkite, limited.token, beforeReset)).toBe(0);

    harness.buildkite.register(limited.token, goodScenario({ uuid: limited.uuid }));
    const afterReset = at(now, 331_000);
    await runScheduledChecks(depsAt(afterReset), { concurrency: 2, budgetMs: 20_000 });
    expect(accessTokenChecks(harness.buildkite, limited.token, beforeReset)).toBe(1);
    expect(await connectionOf(harness.db, limited.tenant.organizationId)).toMatchObject({
      status: "connected",
      lastCheckOutcome: "passed",
      unreachableSince: null,
      lastCheckedAt: afterReset,
    });
  });

  it("a run whose time budget runs out hands back the claims it had no time for", async () => {
    const t0 = pastEpoch();
    const connections = await connectMany(10, t0);
    const now = at(t0, INTERVAL_MS + MIN_GAP_MS);
    harness.buildkite.setLatency(300);

    const run = await runScheduledChecks(depsAt(now), { concurrency: 1, budgetMs: 150, batchSize: 10 });

    expect(run.checked + run.skipped + run.released).toBe(10);
    expect(run.released).toBeGreaterThanOrEqual(8);
    const nextChecks = await nextVerifyAtOf(connections);
    // Released claims are due again at once on the run's clock; checked ones got their next slot after it.
    const released = connections.filter((connection) => nextChecks.get(connection.tenant.organizationId)!.getTime() === now.getTime());
    expect(released).toHaveLength(run.released);
    for (const connection of released) {
      const row = await connectionOf(harness.db, connection.tenant.organizationId);
      // Not checked: still as connect left it.
      expect(row.lastCheckedAt).toEqual(t0);
    }
  });

  it(`${SPREAD_CONNECTIONS} connections made at the same instant are spread evenly over the interval`, async () => {
    const t0 = pastEpoch();
    const intervalMinutes = 60;
    const intervalMs = intervalMinutes * MINUTE_MS;
    const deps = depsAt(t0, { verifyIntervalMinutes: intervalMinutes });
    const connections = await mapLimit(await tenants.createMany(SPREAD_CONNECTIONS), 8, (tenant) => connectFresh(harness, deps, tenant));

    const offsets = [...(await nextVerifyAtOf(connections)).values()].map((when) => when.getTime() - t0.getTime());
    expect(offsets).toHaveLength(SPREAD_CONNECTIONS);
    for (const offset of offsets) {
      expect(offset).toBeGreaterThanOrEqual(MIN_GAP_MS);
      expect(offset).toBeLessThanOrEqual(intervalMs + MIN_GAP_MS);
    }
    // Eight equal slices of the interval each get about an eighth (bounds: 4.5 binomial standard deviations).
    const slices = new Array<number>(8).fill(0);
    for (const offset of offsets) slices[Math.min(7, Math.floor(((offset - MIN_GAP_MS) / intervalMs) * 8))]! += 1;
    const mean = SPREAD_CONNECTIONS / 8;
    const spread = 4.5 * Math.sqrt(SPREAD_CONNECTIONS * (1 / 8) * (7 / 8));
    for (const slice of slices) {
      expect(slice).toBeGreaterThanOrEqual(mean - spread);
      expect(slice).toBeLessThanOrEqual(mean + spread);
    }
    // No minute gets a crowd.
    const perMinute = new Map<number, number>();
    for (const offset of offsets) perMinute.set(Math.floor(offset / MINUTE_MS), (perMinute.get(Math.floor(offset / MINUTE_MS)) ?? 0) + 1);
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(3 * (SPREAD_CONNECTIONS / intervalMinutes) + 5);

    // Half an interval on, about half of them are due, and the schedule would take exactly those.
    const dueAtHalf = await claimDueConnections(harness.db, { limit: 2 * SPREAD_CONNECTIONS, now: at(t0, intervalMs / 2) });
    const expectedDue = offsets.filter((offset) => offset <= intervalMs / 2).length;
    expect(dueAtHalf).toHaveLength(expectedDue);
    expect(expectedDue).toBeGreaterThan(SPREAD_CONNECTIONS / 2 - 4.5 * Math.sqrt(SPREAD_CONNECTIONS / 4));
    expect(expectedDue).toBeLessThan(SPREAD_CONNECTIONS / 2 + 4.5 * Math.sqrt(SPREAD_CONNECTIONS / 4));
  }, 60_000);
});
