import "server-only";

import { clearExpiredIdempotencyKeys } from "@/lib/api/idempotency";
import type { AppConfig } from "@/lib/config";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { reconcileSecrets } from "@/lib/integrations/buildkite/reconcile";
import { runScheduledChecks } from "@/lib/integrations/buildkite/verify-schedule";
import { deliverDueWebhooks } from "@/lib/notifications/deliver";
import type { NotificationDependencies } from "@/lib/notifications/dependencies";
import { sendDueEmails, type EmailSettings } from "@/lib/notifications/email";
import { recordExpiringTokens } from "@/lib/notifications/expiring";
import { NOTIFY_CHANNEL } from "@/lib/notifications/record";

/**
 * Every background job, by name: what runs, and when. The runner (runner.ts) turns each into a pg-boss queue with a
 * worker, and a cron schedule where one is given. Handlers get their parts passed in, never from globals, so the
 * same registry runs inside `npm start`, in `npm run worker`, and in tests.
 */

export type JobContext = {
  deps: ConnectionDependencies;
  config: Pick<AppConfig, "buildkite">;
  notifications: NotificationDependencies;
  email: EmailSettings;
};

export type JobDefinition = {
  name: string;
  /** Cron, in UTC. Several app instances share one schedule: pg-boss sends each occurrence once. */
  cron?: string;
  /** Also run once when a runner starts. */
  runAtStart?: boolean;
  /** Longest a run may take before pg-boss considers it dead and lets another runner retry it. */
  expireInSeconds: number;
  /** Also run when Postgres notifies this channel (a committed change has something to send). */
  wakeOn?: string;
  /** A handler may answer `{ wakeInMs }`: run again then (within the minute), rather than at the next cron tick. */
  handler(context: JobContext): Promise<unknown>;
};

export const JOBS: readonly JobDefinition[] = [
  {
    // Every minute: check the connections whose slot has come (verify-schedule.ts spreads them over the interval).
    name: "buildkite.verify-due",
    cron: "* * * * *",
    expireInSeconds: 120,
    handler: ({ deps, config }) => runScheduledChecks(deps, { concurrency: config.buildkite.verifyConcurrency, budgetMs: 50_000 }),
  },
  {
    // Hourly, and at start: records and secrets in step (reconcile.ts).
    name: "secrets.reconcile",
    cron: "17 * * * *",
    runAtStart: true,
    expireInSeconds: 600,
    handler: ({ deps }) => reconcileSecrets(deps),
  },
  {
    // Hourly: API Idempotency-Keys are kept 24 hours.
    name: "api.idempotency-cleanup",
    cron: "41 * * * *",
    expireInSeconds: 300,
    handler: async ({ deps }) => ({ cleared: await clearExpiredIdempotencyKeys(deps.db) }),
  },
  {
    // Webhook deliveries that are due: woken by each committed event, by its own retry times, and every minute.
    name: "notifications.webhooks",
    cron: "* * * * *",
    runAtStart: true,
    wakeOn: NOTIFY_CHANNEL,
    expireInSeconds: 300,
    handler: ({ notifications }) => deliverDueWebhooks(notifications),
  },
  {
    name: "notifications.email",
    cron: "* * * * *",
    runAtStart: true,
    wakeOn: NOTIFY_CHANNEL,
    expireInSeconds: 300,
    handler: ({ notifications, email }) => sendDueEmails(notifications, email),
  },
  {
    // Hourly, and at start: tokens 7 days and 1 day from expiry (expiring.ts sends each warning once).
    name: "notifications.expiring",
    cron: "23 * * * *",
    runAtStart: true,
    expireInSeconds: 300,
    handler: ({ notifications }) => recordExpiringTokens(notifications),
  },
];
