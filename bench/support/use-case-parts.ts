// The real parts a use case runs on, built the way the app builds them, pointed at a bench database and at the
// stand-ins' process: Prisma on the bench database, the per-organisation locks on their own pool, the Buildkite
// client and the AWS Secrets Manager backend (the SDK over a real socket).
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { createBuildkiteClient, type BuildkiteClient } from "../../lib/buildkite/client";
import { createDb, createLockPool, type Database } from "../../lib/db/client";
import type { ConnectionDependencies } from "../../lib/integrations/buildkite/dependencies";
import { createConnectionLocks } from "../../lib/integrations/buildkite/lock";
import { createTokenCheckLimiter } from "../../lib/integrations/buildkite/token-check-limit";
import { createAwsSecretStore } from "../../lib/secrets/aws";
import type { StandInsProcess } from "./stand-ins";

export const BENCH_SECRETS_PREFIX = "gitar-bench";

export type BenchUseCaseParts = {
  db: Database;
  lockPool: pg.Pool;
  client: BuildkiteClient;
  deps: ConnectionDependencies;
  close(): Promise<void>;
};

export function buildBenchUseCaseParts(databaseUrl: string, standIns: StandInsProcess, options: { poolSize?: number } = {}): BenchUseCaseParts {
  // The SDK reads its endpoint and credentials from the standard variables, as in production.
  Object.assign(process.env, standIns.awsEnv);
  const poolSize = options.poolSize ?? 10;
  const db = createDb(databaseUrl, poolSize);
  const lockPool = createLockPool(databaseUrl, { max: poolSize, waitMs: 5_000 });
  const client = createBuildkiteClient({ baseUrl: standIns.buildkiteUrl, connectTimeoutMs: 3_000, timeoutMs: 8_000 });
  const secrets = createAwsSecretStore({ prefix: BENCH_SECRETS_PREFIX, kmsKeyId: undefined, timeoutMs: 5_000 });
  const deps: ConnectionDependencies = {
    db,
    buildkite: client,
    secrets,
    locks: createConnectionLocks(lockPool, { waitMs: 5_000 }),
    tokenChecks: createTokenCheckLimiter(lockPool, { points: 1_000_000, windowSeconds: 60 }),
    operationDeadlineMs: 25_000,
  };
  return {
    db,
    lockPool,
    client,
    deps,
    async close() {
      await client.close();
      await lockPool.end();
      await db.$disconnect();
    },
  };
}

/** An organisation with one admin, as the app's own records have them. */
export async function createOrganization(db: Database, label: string): Promise<{ organizationId: string; userId: string; email: string }> {
  const id = randomUUID();
  const organization = await db.organization.create({ data: { name: `${label} ${id.slice(0, 8)}`, slug: `${label}-${id}` } });
  const user = await db.user.create({ data: { email: `admin-${id}@bench.test`, name: "Bench Admin" } });
  await db.membership.create({ data: { userId: user.id, organizationId: organization.id, role: "admin" } });
  return { organizationId: organization.id, userId: user.id, email: user.email };
}
