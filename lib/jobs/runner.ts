import "server-only";

import { PgBoss } from "pg-boss";
import { listen, type Listener } from "@/lib/db/listen";
import { log } from "@/lib/log";
import { JOBS, type JobContext, type JobDefinition } from "./registry";

/**
 * The job runner: pg-boss on the app's own Postgres (its tables live in their own schema, `pgboss`). Jobs are rows
 * claimed with SKIP LOCKED, so any number of runners — `npm start` on several machines, `npm run worker` — share the
 * work and never run one job twice; each queue allows one run at a time and one waiting ("stately"), so a slow run
 * is never overlapped by the next minute's.
 */

export type JobRunner = {
  /** Sends a job now (e.g. a run at start, or a test asking for one). */
  send(name: string): Promise<string | null>;
  stop(): Promise<void>;
};

export async function startJobRunner(options: {
  databaseUrl: string;
  context: JobContext;
  jobs?: readonly JobDefinition[];
  /** Install cron schedules (on by default). */
  schedule?: boolean;
  pollingIntervalSeconds?: number;
}): Promise<JobRunner> {
  const jobs = options.jobs ?? JOBS;
  const boss = new PgBoss({ connectionString: options.databaseUrl, schema: "pgboss", application_name: "gitar-jobs", max: 4 });
  boss.on("error", (error) => log.error("jobs.error", {}, error));
  await boss.start();
  const wakeTimers = new Set<NodeJS.Timeout>();
  const wake = (name: string) => void boss.send(name).catch((error: unknown) => log.warn("jobs.wake_failed", { job: name }, error));
  const wakeLater = (name: string, ms: number) => {
    const timer = setTimeout(() => {
      wakeTimers.delete(timer);
      wake(name);
    }, ms);
    timer.unref();
    wakeTimers.add(timer);
  };

  for (const job of jobs) {
    const settings = { expireInSeconds: job.expireInSeconds, retryLimit: 1, retryDelay: 30 };
    // createQueue leaves an existing queue as it was: update it too, so a release's new settings take effect.
    await boss.createQueue(job.name, { policy: "stately", ...settings });
    await boss.updateQueue(job.name, settings);
    await boss.work(job.name, { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 }, async () => {
      const started = Date.now();
      try {
        const result = await job.handler(options.context);
        const wakeInMs = (result as { wakeInMs?: unknown } | null)?.wakeInMs;
        // Sooner than the next cron tick (a retry due in ten seconds): come back then. Later ones wait for the tick.
        if (typeof wakeInMs === "number" && wakeInMs < 60_000) wakeLater(job.name, Math.max(wakeInMs, 250));
        const counts = summary(result);
        // A run that found nothing to do is not worth a line every minute.
        if (Object.values(counts).some((count) => count > 0)) log.info("jobs.done", { job: job.name, ms: Date.now() - started, ...counts });
      } catch (error) {
        log.error("jobs.failed", { job: job.name, ms: Date.now() - started }, error);
        throw error;
      }
    });
    if (job.cron && options.schedule !== false) await boss.schedule(job.name, job.cron, null, { tz: "UTC" });
  }
  for (const job of jobs.filter((candidate) => candidate.runAtStart)) await boss.send(job.name);
  const listener = await listenForWakeUps(options.databaseUrl, jobs, wake);
  log.info("jobs.started", { jobs: jobs.map((job) => job.name).join(",") });

  return {
    send: (name) => boss.send(name),
    async stop() {
      for (const timer of wakeTimers) clearTimeout(timer);
      await listener?.end().catch(() => undefined);
      await boss.stop({ graceful: true, timeout: 10_000 });
    },
  };
}

/** A handler's report (counts), flattened into the log line. */
function summary(result: unknown): Record<string, number> {
  if (result === null || typeof result !== "object") return {};
  return Object.fromEntries(
    Object.entries(result).filter((entry): entry is [string, number] => typeof entry[1] === "number" && entry[0] !== "wakeInMs"),
  );
}

/**
 * The channels jobs wake on, on one listening connection (lib/db/listen.ts). Postgres sends a NOTIFY only when the
 * transaction that made it commits, so a job wakes for work that is there. While the connection is lost, work waits
 * for the jobs' own cron tick (every minute); when it is back, every listening job is woken once, for what was
 * notified while no one listened.
 */
async function listenForWakeUps(databaseUrl: string, jobs: readonly JobDefinition[], wake: (name: string) => void): Promise<Listener | null> {
  const channels = new Map<string, string[]>();
  for (const job of jobs) if (job.wakeOn) channels.set(job.wakeOn, [...(channels.get(job.wakeOn) ?? []), job.name]);
  if (channels.size === 0) return null;
  return listen({
    databaseUrl,
    channels: [...channels.keys()],
    applicationName: "gitar-jobs-listen",
    logAs: "jobs",
    onNotification: (channel) => channels.get(channel)?.forEach(wake),
    onListening: (restored) => {
      if (restored) for (const names of channels.values()) names.forEach(wake);
    },
  });
}
