// A process the crash-safety tests kill. It runs one real change (connect, rotate or disconnect) on the real
// Postgres, Buildkite stand-in and secret store the test names, and stops dead at the named point: it prints
// `CRASH_POINT <name>` and waits forever for the SIGKILL. Nothing here changes what the change does: the store and
// the Buildkite client are the real ones, wrapped only to notice where the change has got to.
//
//   node --conditions=react-server --import tsx tests/reliability/support/crash-child.ts
import { personActor } from "@/lib/audit/actor";
import { createBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import { createDb, createLockPool } from "@/lib/db/client";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import { createConnectionLocks } from "@/lib/integrations/buildkite/lock";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { createTokenCheckLimiter } from "@/lib/integrations/buildkite/token-check-limit";
import { createAwsSecretStore } from "@/lib/secrets/aws";
import { createLocalSecretStore } from "@/lib/secrets/local";
import type { SecretStore } from "@/lib/secrets/store";

export type CrashPoint =
  | "before-secret-write"
  | "after-secret-write"
  | "before-record"
  | "after-record"
  | "after-revoke"
  | "before-secret-delete"
  | "after-secret-delete";

export type CrashPlan = {
  operation: "connect" | "rotate" | "disconnect";
  at: CrashPoint;
  organizationId: string;
  actor: { userId: string; email: string };
  /** The token to connect or rotate to. */
  token?: string;
  databaseUrl: string;
  buildkiteUrl: string;
  secrets: { backend: "local"; dataDir: string; prefix: string; key: string } | { backend: "aws"; prefix: string; kmsKeyId: string };
};

const plan = JSON.parse(process.env.CRASH_PLAN!) as CrashPlan;

async function crashPoint(name: CrashPoint): Promise<void> {
  if (name !== plan.at) return;
  process.stdout.write(`CRASH_POINT ${name}\n`);
  await new Promise(() => {});
}

function watchedStore(inner: SecretStore): SecretStore {
  return {
    ...inner,
    backend: inner.backend,
    async write(organizationId, token, options) {
      await crashPoint("before-secret-write");
      const ref = await inner.write(organizationId, token, options);
      await crashPoint("after-secret-write");
      return ref;
    },
    async read(organizationId, ref) {
      const token = await inner.read(organizationId, ref);
      // Connect and rotate read the new version back, then commit: this is the last moment before the record.
      if (token === plan.token) await crashPoint("before-record");
      return token;
    },
    async deleteSecret(organizationId, ref) {
      await crashPoint("before-secret-delete");
      return inner.deleteSecret(organizationId, ref);
    },
    withSignal: (signal) => watchedStore(inner.withSignal(signal)),
  };
}

function watchedBuildkite(inner: BuildkiteClient): BuildkiteClient {
  return {
    ...inner,
    async revokeAccessToken(token, options) {
      await inner.revokeAccessToken(token, options);
      await crashPoint("after-revoke");
    },
  };
}

const store =
  plan.secrets.backend === "local"
    ? createLocalSecretStore({ dataDir: plan.secrets.dataDir, prefix: plan.secrets.prefix, encryptionKey: Buffer.from(plan.secrets.key, "base64") })
    : createAwsSecretStore({ prefix: plan.secrets.prefix, kmsKeyId: plan.secrets.kmsKeyId, timeoutMs: 5_000 });
const lockPool = createLockPool(plan.databaseUrl, { max: 4, waitMs: 10_000 });
const deps = {
  db: createDb(plan.databaseUrl, 2),
  buildkite: watchedBuildkite(createBuildkiteClient({ baseUrl: plan.buildkiteUrl, connectTimeoutMs: 2_000, timeoutMs: 5_000 })),
  secrets: watchedStore(store),
  locks: createConnectionLocks(lockPool, { waitMs: 10_000 }),
  tokenChecks: createTokenCheckLimiter(lockPool, { points: 100_000, windowSeconds: 60 }),
  operationDeadlineMs: 60_000,
};
const actor = personActor(plan.actor);
const { organizationId } = plan;

const result =
  plan.operation === "connect"
    ? await connectBuildkite({ organizationId, actor, token: plan.token! }, deps)
    : plan.operation === "rotate"
      ? await rotateBuildkiteToken({ organizationId, actor, token: plan.token!, revokePrevious: false }, deps)
      : await disconnectBuildkite({ organizationId, actor, revokeAtBuildkite: true, evenIfRevokeFails: false }, deps);
if (result.ok) await crashPoint(plan.operation === "disconnect" ? "after-secret-delete" : "after-record");
// The change ended without reaching the point it was to die at: the test reads this and fails.
process.stdout.write(`FINISHED ${JSON.stringify({ ok: result.ok })}\n`);
process.exit(0);
