import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { AppConfig } from "@/lib/config";
import { JOBS, type JobContext, type JobDefinition } from "@/lib/jobs/registry";
import { startJobRunner, type JobRunner } from "@/lib/jobs/runner";
import {
  accessTokenChecks,
  at,
  connectFresh,
  connectionOf,
  MINUTE_MS,
  pastEpoch,
  tenantTracker,
  type ConnectedTenant,
} from "../support/connection-checks";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { localBackend } from "../support/secret-backends";
import { notificationDeps } from "../support/notifications";
import { waitFor } from "../support/tenants";

/**
 * The real pg-boss runner on this run's database: test jobs that count their runs, and the real registry's handlers
 * on the harness's parts. Polling is pg-boss's minimum (0.5 s); no cron schedules are installed except in the last
 * case. pg-boss's schema is dropped when the file is done.
 */

const POLL_SECONDS = 0.5;
const INTERVAL_MINUTES = 10;
/** A stately queue takes one job at a time and pg-boss polls every 0.5 s at best, so each job costs about a poll:
 *  ten show the same as twenty in half the time. */
const JOBS_SENT = 10;

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
const backend = localBackend();
const runners: JobRunner[] = [];
/** Notification parts for contexts whose jobs never send any. */
const noNotifications = () => ({ notifications: notificationDeps(harness.db), email: { mailer: undefined, from: "test@example.test", appUrl: "http://localhost" } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => backend.setUp());
afterAll(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
  // Leave the shared database as this file found it: pg-boss's schema (its tables, its job_state enum, the cron
  // schedules installed below) would otherwise be seen by the files that run after this one.
  await harness.db.$executeRawUnsafe(`DROP SCHEMA IF EXISTS pgboss CASCADE`);
  await tenants.removeAll();
  await backend.tearDown();
});

function buildkiteConfig(): Pick<AppConfig, "buildkite"> {
  return {
    buildkite: {
      apiUrl: harness.buildkite.url,
      connectTimeoutMs: 1_000,
      timeoutMs: 1_500,
      verifyIntervalMinutes: INTERVAL_MINUTES,
      verifyConcurrency: 4,
    },
  };
}

async function start(context: JobContext, jobs: readonly JobDefinition[], schedule = false): Promise<JobRunner> {
  const runner = await startJobRunner({ databaseUrl: inject("databaseUrl"), context, jobs, schedule, pollingIntervalSeconds: POLL_SECONDS });
  runners.push(runner);
  return runner;
}

type JobRow = { id: string; state: string; retry_count: number };
const jobsOf = (name: string) =>
  harness.db.$queryRawUnsafe<JobRow[]>(`SELECT id::text AS id, state::text AS state, retry_count FROM pgboss.job WHERE name = $1 ORDER BY created_on`, name);

describe("test jobs", () => {
  const suffix = randomBytes(4).toString("hex");
  const once = `test.once-${suffix}`;
  const many = `test.many-${suffix}`;
  const runs = { [once]: [] as string[], [many]: [] as string[] };
  let running = 0;
  let mostAtOnce = 0;
  let first: JobRunner;
  let second: JobRunner;

  /** A job that records which runner (by its context) ran it, and how many runs overlapped. */
  const recording = (name: string): JobDefinition => ({
    name,
    expireInSeconds: 30,
    async handler(context) {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        await sleep(20);
        runs[name]!.push(context === firstContext ? "first" : "second");
      } finally {
        running -= 1;
      }
    },
  });
  const firstContext: JobContext = { deps: {} as JobContext["deps"], config: {} as JobContext["config"], notifications: {} as JobContext["notifications"], email: { mailer: undefined, from: "", appUrl: "" } };
  const secondContext: JobContext = { deps: {} as JobContext["deps"], config: {} as JobContext["config"], notifications: {} as JobContext["notifications"], email: { mailer: undefined, from: "", appUrl: "" } };

  beforeAll(async () => {
    firstContext.config = buildkiteConfig();
    secondContext.config = buildkiteConfig();
    // Two instances starting at the same moment, as several app servers would.
    [first, second] = await Promise.all([start(firstContext, [recording(once), recording(many)]), start(secondContext, [recording(once), recording(many)])]);
  });

  it("a sent job runs once", async () => {
    const id = await first.send(once);

    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await waitFor(() => runs[once]!.length === 1, 10_000)).toBe(true);
    await sleep(3 * POLL_SECONDS * 1000);
    expect(runs[once]).toHaveLength(1);
    expect(await jobsOf(once)).toEqual([{ id, state: "completed", retry_count: 0 }]);
  });

  it("two runners on one queue never run a job twice, nor two of its jobs at once (stately)", async () => {
    const accepted: string[] = [];
    let refused = 0;
    // "stately" keeps one job waiting per queue: a send while one waits is refused (null), so keep offering.
    for (let turn = 0; accepted.length < JOBS_SENT; turn += 1) {
      const id = await (turn % 2 === 0 ? first : second).send(many);
      if (id) accepted.push(id);
      else {
        refused += 1;
        await sleep(10);
      }
    }

    expect(await waitFor(() => runs[many]!.length >= JOBS_SENT, 20_000)).toBe(true);
    await sleep(3 * POLL_SECONDS * 1000);
    expect(runs[many]).toHaveLength(JOBS_SENT);
    expect(mostAtOnce).toBe(1);
    expect(refused).toBeGreaterThan(0);
    const rows = await jobsOf(many);
    expect(rows.map((row) => row.id).sort()).toEqual([...accepted].sort());
    expect(rows.every((row) => row.state === "completed" && row.retry_count === 0)).toBe(true);
  });
});

describe("queue settings", () => {
  it("follow the registry when a new release changes them", async () => {
    const name = `test.settings-${randomBytes(4).toString("hex")}`;
    const job = (expireInSeconds: number): JobDefinition => ({ name, expireInSeconds, handler: async () => undefined });
    const context: JobContext = { deps: {} as JobContext["deps"], config: buildkiteConfig(), ...noNotifications() };
    const settings = async () =>
      harness.db.$queryRawUnsafe<Array<{ policy: string; expire_seconds: number; retry_limit: number }>>(
        `SELECT policy, expire_seconds, retry_limit FROM pgboss.queue WHERE name = $1`,
        name,
      );

    const before = await start(context, [job(30)]);
    expect(await settings()).toEqual([{ policy: "stately", expire_seconds: 30, retry_limit: 1 }]);
    await before.stop();
    runners.splice(runners.indexOf(before), 1);
    // The next release allows a run twice as long; an existing database must get the new setting, or pg-boss keeps
    // expiring (and retrying) runs that are merely slow. runner.ts calls createQueue on every start, which pg-boss 12
    // makes a no-op for a queue that exists (create_queue: INSERT … ON CONFLICT DO NOTHING).
    await start(context, [job(60)]);

    expect(await settings()).toEqual([{ policy: "stately", expire_seconds: 60, retry_limit: 1 }]);
  });
});

describe("the real registry's jobs on the harness's parts", () => {
  let now = new Date();
  let runner: JobRunner;
  let orphanOrganization: string;

  beforeAll(async () => {
    // A secret no record refers to: the reconcile that runs at start must delete it.
    orphanOrganization = (await tenants.create()).organizationId;
    await backend.store().write(orphanOrganization, `bkua_MTA.${randomBytes(18).toString("hex")}`, { requestToken: randomUUID(), previous: null });
    const context: JobContext = {
      deps: harness.deps(backend.store(), { now: () => now, verifyIntervalMinutes: INTERVAL_MINUTES }),
      config: buildkiteConfig(),
      ...noNotifications(),
    };
    runner = await start(context, JOBS);
  });

  it("secrets.reconcile runs at start", async () => {
    const gone = await waitFor(async () => !(await backend.store().list()).some((secret) => secret.organizationId === orphanOrganization), 15_000, 100);

    expect(gone).toBe(true);
    expect(await backend.state(orphanOrganization)).toBeNull();
    // The job is marked completed just after its work is done: wait for that too rather than race it.
    const completed = await waitFor(async () => (await jobsOf("secrets.reconcile")).some((row) => row.state === "completed"), 15_000, 100);
    expect(completed).toBe(true);
  });

  it("buildkite.verify-due, sent now, checks the due connections", async () => {
    const t0 = pastEpoch();
    const connectDeps = harness.deps(backend.store(), { now: () => t0, verifyIntervalMinutes: INTERVAL_MINUTES });
    const connections: ConnectedTenant[] = [];
    for (let index = 0; index < 3; index += 1) connections.push(await connectFresh(harness, connectDeps, await tenants.create()));
    const [revoked] = connections as [ConnectedTenant];
    harness.buildkite.revoke(revoked.token);
    now = at(t0, INTERVAL_MINUTES * MINUTE_MS + MINUTE_MS);
    const since = harness.buildkite.requests.length;

    const id = await runner.send("buildkite.verify-due");

    expect(id).not.toBeNull();
    const checked = async () => {
      const rows = await Promise.all(connections.map((connection) => connectionOf(harness.db, connection.tenant.organizationId)));
      return rows.every((row) => row.lastCheckedAt?.getTime() === now.getTime());
    };
    expect(await waitFor(checked, 15_000, 100)).toBe(true);
    expect(await connectionOf(harness.db, revoked.tenant.organizationId)).toMatchObject({ status: "needs_attention", attentionCode: "token_rejected" });
    for (const connection of connections.slice(1)) {
      expect(await connectionOf(harness.db, connection.tenant.organizationId)).toMatchObject({ status: "connected", lastVerifiedAt: now });
    }
    for (const connection of connections) expect(accessTokenChecks(harness.buildkite, connection.token, since)).toBe(1);
  });

  it("with schedules on, the registry's cron entries are installed in UTC", async () => {
    await start({ deps: harness.deps(backend.store(), { now: () => now }), config: buildkiteConfig(), ...noNotifications() }, JOBS, true);

    const schedules = await harness.db.$queryRawUnsafe<Array<{ name: string; cron: string; timezone: string }>>(
      `SELECT name, cron, timezone FROM pgboss.schedule WHERE name = ANY($1) ORDER BY name`,
      JOBS.map((job) => job.name),
    );

    expect(schedules).toEqual([
      { name: "api.idempotency-cleanup", cron: "41 * * * *", timezone: "UTC" },
      { name: "buildkite.verify-due", cron: "* * * * *", timezone: "UTC" },
      { name: "notifications.email", cron: "* * * * *", timezone: "UTC" },
      { name: "notifications.expiring", cron: "23 * * * *", timezone: "UTC" },
      { name: "notifications.webhooks", cron: "* * * * *", timezone: "UTC" },
      { name: "secrets.reconcile", cron: "17 * * * *", timezone: "UTC" },
    ]);
  });
});

describe("waking on NOTIFY", () => {
  const channel = `test_wake_${randomBytes(4).toString("hex")}`;
  const name = `test.woken-${randomBytes(4).toString("hex")}`;
  let runs = 0;
  const woken: JobDefinition = {
    name,
    expireInSeconds: 30,
    wakeOn: channel,
    async handler() {
      runs += 1;
    },
  };
  const context: JobContext = { deps: {} as JobContext["deps"], config: {} as JobContext["config"], notifications: {} as JobContext["notifications"], email: { mailer: undefined, from: "", appUrl: "" } };
  const notify = () => harness.db.$executeRawUnsafe(`SELECT pg_notify('${channel}', '')`);
  const listeners = () =>
    harness.db.$queryRawUnsafe<Array<{ pid: number }>>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'gitar-jobs-listen' AND query LIKE 'LISTEN "${channel}"%'`,
    );

  beforeAll(async () => {
    context.config = buildkiteConfig();
    // No cron schedule: a job of this queue runs only when something wakes it.
    await start(context, [woken]);
  });

  it("a NOTIFY wakes the job; a lost listening connection is opened again, and wakes it once for what it missed", async () => {
    await notify();
    expect(await waitFor(() => runs === 1, 10_000)).toBe(true);

    const [before] = await listeners();
    expect(before).toBeDefined();
    await harness.db.$queryRawUnsafe(`SELECT pg_terminate_backend($1)`, before!.pid);
    // Back, on a new connection, by itself.
    expect(await waitFor(async () => (await listeners()).some((listener) => listener.pid !== before!.pid), 20_000)).toBe(true);
    // The catch-up wake, for notifications sent while no one listened.
    expect(await waitFor(() => runs === 2, 10_000)).toBe(true);

    await notify();
    expect(await waitFor(() => runs === 3, 10_000)).toBe(true);
  });
});
