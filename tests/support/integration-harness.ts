// The real parts every use-case test runs against: this run's Postgres, the Buildkite stand-in with the fixture
// tokens registered, the Secrets Manager stand-in, the real Buildkite client pointed at the stand-in, and the real
// per-organisation locks on their own pool.
import type pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { createBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import { createLockPool, type Database } from "@/lib/db/client";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { createConnectionLocks, type ConnectionLocks } from "@/lib/integrations/buildkite/lock";
import { createTokenCheckLimiter, type TokenCheckLimiter } from "@/lib/integrations/buildkite/token-check-limit";
import type { SecretStore } from "@/lib/secrets/store";
import { registerFixtures } from "./buildkite-fixtures";
import { startBuildkiteStandIn, type BuildkiteStandIn } from "./buildkite-stand-in";
import { connectTestDb } from "./db";
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from "./secrets-manager-stand-in";

/** Long enough that a change waiting behind another (held up by a test's gate) gets its turn instead of "busy". */
export const TEST_LOCK_WAIT_MS = 10_000;

export type IntegrationHarness = {
  db: Database;
  buildkite: BuildkiteStandIn;
  secretsManager: SecretsManagerStandIn;
  client: BuildkiteClient;
  lockPool: pg.Pool;
  locks: ConnectionLocks;
  /** The real limiter, with room for every test's connects (operation-deadline and token-check tests use their own). */
  tokenChecks: TokenCheckLimiter;
  /** The use cases' dependencies on these parts, with the given secret store. */
  deps(secrets: SecretStore, overrides?: Partial<ConnectionDependencies>): ConnectionDependencies;
};

/** Registers the suite's beforeAll/afterAll; the returned object is filled in before the first test runs. */
export function setUpIntegrationHarness(): IntegrationHarness {
  const harness = {} as IntegrationHarness;
  beforeAll(async () => {
    harness.db = connectTestDb();
    harness.buildkite = await startBuildkiteStandIn();
    registerFixtures(harness.buildkite);
    harness.secretsManager = await startSecretsManagerStandIn();
    harness.client = createBuildkiteClient({ baseUrl: harness.buildkite.url, connectTimeoutMs: 1000, timeoutMs: 1500 });
    harness.lockPool = createLockPool(inject("databaseUrl"), { max: 30, waitMs: TEST_LOCK_WAIT_MS });
    harness.locks = createConnectionLocks(harness.lockPool, { waitMs: TEST_LOCK_WAIT_MS });
    harness.tokenChecks = createTokenCheckLimiter(harness.lockPool, { points: 100_000, windowSeconds: 60 });
    harness.deps = (secrets, overrides = {}) => ({
      db: harness.db,
      buildkite: harness.client,
      secrets,
      locks: harness.locks,
      tokenChecks: harness.tokenChecks,
      ...overrides,
    });
  });
  afterAll(async () => {
    await harness.client?.close();
    await harness.buildkite?.close();
    await harness.secretsManager?.close();
    await harness.lockPool?.end();
    await harness.db?.$disconnect();
  });
  return harness;
}
