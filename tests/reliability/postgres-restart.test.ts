import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { createDb, createLockPool, type Database } from "@/lib/db/client";
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "@/lib/db/embedded-postgres";
import { migrate } from "@/lib/db/migrate";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { createConnectionLocks } from "@/lib/integrations/buildkite/lock";
import { reconcileSecrets } from "@/lib/integrations/buildkite/reconcile";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { createTokenCheckLimiter } from "@/lib/integrations/buildkite/token-check-limit";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { connectFresh, reverify, tenantTracker } from "../support/connection-checks";
import { gateSecretStore } from "../support/gated-secret-store";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend, type SecretBackend } from "../support/secret-backends";
import { freshToken } from "../support/tenants";

/**
 * The database server restarted under a running app: a PostgreSQL server of this test's own (the embedded one, so
 * the suite's shared server is never touched) is stopped and started again on the same data and port while the
 * app's pools stay open, between changes and in the middle of one. What must hold: a change that meets the outage
 * fails as a database failure and leaves nothing half-made; once the server is back, the pools reconnect by themselves
 * and the next change goes through, with no restart of the app.
 */

const harness = setUpIntegrationHarness();

let dataDir: string;
let server: EmbeddedPostgres | undefined;
let port: number;
let db: Database;
let lockPool: pg.Pool;

async function startServer() {
  server = await startEmbeddedPostgres({ dataDir, port, log: () => undefined });
  return server;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "gitar-restart-"));
  server = await startEmbeddedPostgres({ dataDir, log: () => undefined });
  port = server.port;
  await migrate(server.url);
  db = createDb(server.url, 5);
  lockPool = createLockPool(server.url, { max: 10, waitMs: 5_000 });
}, 120_000);

afterAll(async () => {
  await tenants.removeAll().catch(() => undefined);
  await db?.$disconnect();
  await lockPool?.end();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const tenants = tenantTracker(() => db);

/** The app's parts, on the restartable server. */
function depsOn(secrets: SecretBackend): ConnectionDependencies {
  return harness.deps(secrets.store(), {
    db,
    locks: createConnectionLocks(lockPool, { waitMs: 5_000 }),
    tokenChecks: createTokenCheckLimiter(lockPool, { points: 10_000, windowSeconds: 60 }),
  });
}

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("PostgreSQL restarted, with the $name secret store", (backend: SecretBackend) => {
  freshBackendPerTest(backend);

  it("between changes: a change while it is down says the database failed and writes nothing; after, everything works again", async () => {
    const deps = depsOn(backend);
    const tenant = await tenants.create();
    const old = await connectFresh({ ...harness, db }, deps, tenant);
    const stateBefore = await backend.state(tenant.organizationId);

    await server!.stop();
    const next = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token;
    // The change stops at its first read; the page and the API turn what it throws into "database_failed"
    // (lib/actions/admin-action.ts, lib/api/route.ts).
    const duringOutage = rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next, revokePrevious: true }, deps);
    await expect(duringOutage).rejects.toSatisfy(isDatabaseUnavailable);
    expect(await backend.state(tenant.organizationId)).toEqual(stateBefore);
    // The old token was not revoked: nothing went ahead without the database.
    expect(harness.buildkite.requests.filter((request) => request.token === old.token && request.method === "DELETE")).toEqual([]);

    await startServer();
    // Same app objects, same pools: no restart of the app.
    const record = await db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId: tenant.organizationId } });
    expect(record.secretVersion).toBe(old.secret.version);
    expect(await reverify(deps, tenant)).toMatchObject({ ok: true, outcome: "passed" });
    expect(await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next, revokePrevious: true }, deps)).toMatchObject({ ok: true });
    const another = await tenants.create();
    await connectFresh({ ...harness, db }, deps, another);
  });

  it.each(["connect", "rotate"] as const)("in the middle of a %s: nothing committed, the write undone; the next change goes through", async (operation) => {
    const deps = depsOn(backend);
    const tenant = await tenants.create();
    const actor = personActor(tenant.actor);
    const old = operation === "rotate" ? await connectFresh({ ...harness, db }, deps, tenant) : null;
    const next = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token;

    // The restart happens after the new secret is written and read back, before the record is committed.
    const gated = gateSecretStore(backend.store());
    let restarted = false;
    gated.holdReadsOf(next, async () => {
      await server!.stop();
      await startServer();
      restarted = true;
    });
    const gatedDeps = { ...deps, secrets: gated.store };
    const result =
      operation === "connect"
        ? await connectBuildkite({ organizationId: tenant.organizationId, actor, token: next }, gatedDeps)
        : await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor, token: next, revokePrevious: false }, gatedDeps);

    expect(restarted).toBe(true);
    expect(result).toMatchObject({ ok: false, failure: { code: "database_failed" } });
    await reconcileSecrets(deps);
    const record = await db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } });
    if (old) {
      expect(record?.secretVersion).toBe(old.secret.version);
      expect((await backend.state(tenant.organizationId))?.current).toBe(old.secret.version);
      expect(await backend.store().read(tenant.organizationId, old.secret)).toBe(old.token);
    } else {
      expect(record).toBeNull();
      expect((await backend.store().list()).filter((secret) => secret.organizationId === tenant.organizationId && !secret.deleted)).toEqual([]);
    }

    const again = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token;
    expect(await connectBuildkite({ organizationId: tenant.organizationId, actor, token: again }, deps)).toMatchObject({ ok: true });
  });
});
