import "server-only";

import { getConfig, type AppConfig } from "@/lib/config";
import { getDb, type Database } from "@/lib/db/client";
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from "./retry-policy";
import { secretBoxFor, type SecretBox } from "./secret-box";
import type { Resolver } from "./ssrf-guard";

/** What the notification services work with; the job runner and tests build their own from real parts. */
export type NotificationDependencies = {
  db: Database;
  box: SecretBox;
  /** WEBHOOKS_ALLOW_PRIVATE_NETWORKS. */
  allowPrivateNetworks: boolean;
  now?: () => Date;
  /** Per attempt. */
  timeoutMs?: number;
  retry?: RetrySchedule;
  resolver?: Resolver;
  random?: () => number;
};

export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;

export function notificationDependenciesFor(config: AppConfig, db: Database): NotificationDependencies {
  return {
    db,
    box: secretBoxFor(config),
    allowPrivateNetworks: config.notifications.allowPrivateNetworks,
    timeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS,
    retry: DEFAULT_RETRY_SCHEDULE,
  };
}

let web: NotificationDependencies | undefined;

/** The web process's: one per process, like the database client. */
export function defaultNotificationDependencies(): NotificationDependencies {
  web ??= notificationDependenciesFor(getConfig(), getDb());
  return web;
}

export const nowOf = (deps: Pick<NotificationDependencies, "now">) => (deps.now ?? (() => new Date()))();
