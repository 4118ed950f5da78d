import { afterAll, describe, expect, inject, it } from "vitest";
import pg from "pg";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { reconcileSecrets } from "@/lib/integrations/buildkite/reconcile";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { connectFresh, tenantTracker } from "../support/connection-checks";
import { gateSecretStore } from "../support/gated-secret-store";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend, type SecretBackend } from "../support/secret-backends";
import { freshToken } from "../support/tenants";

/**
 * Postgres going away under a change: every connection to the database is cut (pg_terminate_backend, what a
 * failover or an idle-connection reaper does) after the new secret was written and read back, before the record is
 * committed. The session holding the organisation's lock goes with them, so the change must not commit; it undoes
 * its write and says so. Afterwards the pools reconnect by themselves, and the next change goes through.
 */

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

/** Cuts every other session on this run's database; returns how many. */
async function cutEveryConnection(): Promise<number> {
  const admin = new pg.Client({ connectionString: inject("databaseUrl") });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("Postgres cut off mid-change, with the $name secret store", (backend: SecretBackend) => {
  freshBackendPerTest(backend);

  it.each(["connect", "rotate"] as const)("%s: nothing committed, the write undone, the old state current; the next change goes through", async (operation) => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const { organizationId } = tenant;
    const actor = personActor(tenant.actor);
    const old = operation === "rotate" ? await connectFresh(harness, deps, tenant) : null;
    const next = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token;

    const gated = gateSecretStore(backend.store());
    let cut = 0;
    gated.holdReadsOf(next, async () => {
      cut = await cutEveryConnection();
    });
    const gatedDeps = harness.deps(gated.store);
    const result =
      operation === "connect"
        ? await connectBuildkite({ organizationId, actor, token: next }, gatedDeps)
        : await rotateBuildkiteToken({ organizationId, actor, token: next, revokePrevious: false }, gatedDeps);

    expect(cut).toBeGreaterThan(0);
    expect(result.ok).toBe(false);
    // Not "busy": no other change was in the way; the database was.
    if (!result.ok) expect(result.failure.code).toBe("database_failed");

    // The pools reconnect on their own. What a restart would do changes nothing more: the undo already happened.
    await reconcileSecrets(deps);
    const record = await harness.db.buildkiteConnection.findUnique({ where: { organizationId } });
    if (old) {
      expect(record?.secretVersion).toBe(old.secret.version);
      expect((await backend.state(organizationId))?.current).toBe(old.secret.version);
      expect(await backend.store().read(organizationId, old.secret)).toBe(old.token);
    } else {
      expect(record).toBeNull();
      expect((await backend.store().list()).filter((secret) => secret.organizationId === organizationId && !secret.deleted)).toEqual([]);
    }

    const again = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token;
    expect(await connectBuildkite({ organizationId, actor, token: again }, deps)).toMatchObject({ ok: true });
  });
});
