import "server-only";

import { getBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import { getConfig } from "@/lib/config";
import { getDb, getLockPool, type Database } from "@/lib/db/client";
import { getSecretStore } from "@/lib/secrets";
import type { SecretStore } from "@/lib/secrets/store";
import { createConnectionLocks, type ConnectionLocks } from "./lock";
import { getTokenCheckLimiter, type TokenCheckLimiter } from "./token-check-limit";

/** What every Buildkite connection use case works with; tests build their own from real parts. */
export type ConnectionDependencies = {
  db: Database;
  buildkite: BuildkiteClient;
  secrets: SecretStore;
  locks: ConnectionLocks;
  /** Counts the pasted tokens an organisation has checked at Buildkite (connect, rotate). */
  tokenChecks: TokenCheckLimiter;
  now?: () => Date;
  /** How often the schedule re-checks a connection (BUILDKITE_VERIFY_INTERVAL_MINUTES). */
  verifyIntervalMinutes?: number;
  /** One deadline for each whole change (OPERATION_DEADLINE_MS); see deadline.ts. */
  operationDeadlineMs?: number;
};

let locks: ConnectionLocks | undefined;

export function defaultDependencies(): ConnectionDependencies {
  const config = getConfig();
  locks ??= createConnectionLocks(getLockPool(), { waitMs: config.connectionLockWaitMs });
  return {
    db: getDb(),
    buildkite: getBuildkiteClient(),
    secrets: getSecretStore(),
    locks,
    tokenChecks: getTokenCheckLimiter(),
    verifyIntervalMinutes: config.buildkite.verifyIntervalMinutes,
    operationDeadlineMs: config.operationDeadlineMs,
  };
}

export const DEFAULT_VERIFY_INTERVAL_MINUTES = 360;

export function clock(deps: Pick<ConnectionDependencies, "now">): () => Date {
  return deps.now ?? (() => new Date());
}
