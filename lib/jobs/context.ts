import "server-only";

import type pg from "pg";
import { createBuildkiteClient } from "@/lib/buildkite/client";
import type { AppConfig } from "@/lib/config";
import { createDb, createLockPool } from "@/lib/db/client";
import { createConnectionLocks } from "@/lib/integrations/buildkite/lock";
import { createTokenCheckLimiter } from "@/lib/integrations/buildkite/token-check-limit";
import { notificationDependenciesFor } from "@/lib/notifications/dependencies";
import { createMailer } from "@/lib/notifications/email";
import { createSecretStore } from "@/lib/secrets";
import type { JobContext } from "./registry";

/**
 * The parts the jobs use, built from a configuration and a database URL (the start script knows the embedded
 * database's URL only once it has started it, so this cannot come from the process-wide getters).
 */
export function createJobContext(config: AppConfig, databaseUrl: string): JobContext & { close(): Promise<void> } {
  const db = createDb(databaseUrl, Math.min(config.databasePoolSize, 10));
  const lockPool: pg.Pool = createLockPool(databaseUrl, { max: Math.min(config.databasePoolSize, 10), waitMs: config.connectionLockWaitMs });
  const buildkite = createBuildkiteClient({
    baseUrl: config.buildkite.apiUrl,
    connectTimeoutMs: config.buildkite.connectTimeoutMs,
    timeoutMs: config.buildkite.timeoutMs,
  });
  const mailer = config.notifications.smtpUrl ? createMailer(config.notifications.smtpUrl) : undefined;
  return {
    deps: {
      db,
      buildkite,
      secrets: createSecretStore(config.secrets, config.dataDir),
      locks: createConnectionLocks(lockPool, { waitMs: config.connectionLockWaitMs }),
      // No job checks a pasted token; the limiter is here because every use case's dependencies carry one.
      tokenChecks: createTokenCheckLimiter(lockPool),
      verifyIntervalMinutes: config.buildkite.verifyIntervalMinutes,
      operationDeadlineMs: config.operationDeadlineMs,
    },
    config,
    notifications: notificationDependenciesFor(config, db),
    email: { mailer, from: config.notifications.mailFrom, appUrl: config.notifications.appUrl },
    async close() {
      mailer?.close();
      await buildkite.close();
      await lockPool.end();
      await db.$disconnect();
    },
  };
}
