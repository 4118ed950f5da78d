import { describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite, type ConnectResult } from "@/lib/integrations/buildkite/connect";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import type { ConnectionFailureCode } from "@/lib/integrations/buildkite/failures";
import { createConnectionLocks } from "@/lib/integrations/buildkite/lock";
import { describeFailure } from "@/lib/integrations/buildkite/presentation/messages";
import { reverifyConnection } from "@/lib/integrations/buildkite/reverify";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import type { SecretStore } from "@/lib/secrets/store";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { gateSecretStore } from "../support/gated-secret-store";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend } from "../support/secret-backends";
import { connectionsOf, createTenant, freshToken, refuseConnectionWrites, waitFor, type Tenant } from "../support/tenants";

/**
 * One change at a time per organisation. Each sequence below was found by reading the first connect code, which
 * had no lock: the test forces that interleaving with gates on a real secret store (a gate only delays a read; it
 * gives up after GATE_MS, so code that serialises changes simply runs them one after the other). Whatever the
 * interleaving, the end state must be: the record's version is readable and is the store's current version, and
 * no version a committed record points at was deleted or lost its label.
 */

const GATE_MS = 1_000;

const harness = setUpIntegrationHarness();

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("concurrent changes, $name secret store", (backend) => {
  const cleanups = freshBackendPerTest(backend);

  const connect = (tenant: Tenant, token: string, secrets: SecretStore): Promise<ConnectResult> =>
    connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, harness.deps(secrets));

  /** The invariant: a record points at a version the store can read and serves as current. */
  async function expectConsistent(tenant: Tenant, expectedToken: string) {
    const rows = await connectionsOf(harness.db, tenant.organizationId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.status).toBe("connected");
    const state = await backend.state(tenant.organizationId);
    expect(state).toMatchObject({ current: row.secretVersion, deleted: false });
    expect(await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion })).toBe(expectedToken);
    return row;
  }

  async function connectedTenant() {
    const tenant = await createTenant(harness.db);
    const first = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    expect((await connect(tenant, first.token, backend.store())).ok).toBe(true);
    return { tenant, first };
  }

  it("1. two first connects at once, the second failing after its write, leave the first one connected and readable", async () => {
    const tenant = await createTenant(harness.db);
    const a = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    const b = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    cleanups.push(await refuseConnectionWrites(harness.db, tenant.organizationId, { tokenUuid: b.uuid }));
    const gated = gateSecretStore(backend.store());
    let bDone = false;
    // A waits, just before recording, until B has written and failed.
    gated.holdReadsOf(a.token, () => waitFor(() => bDone, GATE_MS));

    const first = connect(tenant, a.token, gated.store);
    await gated.written(a.token);
    const second = connect(tenant, b.token, gated.store).finally(() => (bDone = true));
    const [resultA, resultB] = await Promise.all([first, second]);

    expect(resultA.ok).toBe(true);
    expect(resultB).toMatchObject({ ok: false, failure: { code: "database_failed" } });
    const row = await expectConsistent(tenant, a.token);
    expect(row.tokenUuid).toBe(a.uuid);
  });

  it("2. two reconnects with no fault leave the record on the version the store serves as current", async () => {
    const { tenant } = await connectedTenant();
    const a = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    const b = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    const gated = gateSecretStore(backend.store());
    const recorded = async (uuid: string) => (await connectionsOf(harness.db, tenant.organizationId))[0]?.tokenUuid === uuid;
    // A waits, just before recording, until B has written and recorded.
    gated.holdReadsOf(a.token, () => waitFor(() => recorded(b.uuid), GATE_MS));

    const first = connect(tenant, a.token, gated.store);
    await gated.written(a.token);
    const second = connect(tenant, b.token, gated.store);
    const results = await Promise.all([first, second]);

    expect(results.map((result) => result.ok)).toEqual([true, true]);
    const row = await connectionsOf(harness.db, tenant.organizationId).then((rows) => rows[0]!);
    await expectConsistent(tenant, row.tokenUuid === a.uuid ? a.token : b.token);
  });

  it("3. two reconnects, the second failing at the database, never restore the old token nor strip the recorded version", async () => {
    const { tenant, first: old } = await connectedTenant();
    const a = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    const b = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    cleanups.push(await refuseConnectionWrites(harness.db, tenant.organizationId, { tokenUuid: b.uuid }));
    const gated = gateSecretStore(backend.store());
    let bDone = false;
    gated.holdReadsOf(a.token, () => waitFor(() => bDone, GATE_MS));

    const first = connect(tenant, a.token, gated.store);
    await gated.written(a.token);
    const second = connect(tenant, b.token, gated.store).finally(() => (bDone = true));
    const [resultA, resultB] = await Promise.all([first, second]);

    expect(resultA.ok).toBe(true);
    expect(resultB).toMatchObject({ ok: false, failure: { code: "database_failed" } });
    const row = await expectConsistent(tenant, a.token);
    const state = await backend.state(tenant.organizationId);
    const recorded = state!.versions.find((version) => version.id === row.secretVersion);
    expect(recorded?.stages.length).toBeGreaterThan(0);
    expect(await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion })).not.toBe(old.token);
  });

  it("4. three connects committing in reverse order leave the record on a version the store still holds, as current", async () => {
    const { tenant } = await connectedTenant();
    const tokens = [0, 1, 2].map(() => freshToken(harness.buildkite, BUILDKITE_FIXTURES.good));
    const [a, b, c] = tokens as [(typeof tokens)[0], (typeof tokens)[0], (typeof tokens)[0]];
    const gated = gateSecretStore(backend.store());
    const recorded = async (uuid: string) => (await connectionsOf(harness.db, tenant.organizationId))[0]?.tokenUuid === uuid;
    // C records first, then B, then A: each waits for the next one's record before its own read-back.
    gated.holdReadsOf(b.token, () => waitFor(() => recorded(c.uuid), GATE_MS));
    gated.holdReadsOf(a.token, () => waitFor(() => recorded(b.uuid), GATE_MS));

    const first = connect(tenant, a.token, gated.store);
    await gated.written(a.token);
    const second = connect(tenant, b.token, gated.store);
    await Promise.race([gated.written(b.token), waitFor(() => false, GATE_MS)]);
    const third = connect(tenant, c.token, gated.store);
    const results = await Promise.all([first, second, third]);

    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    const row = await connectionsOf(harness.db, tenant.organizationId).then((rows) => rows[0]!);
    const winner = tokens.find((token) => token.uuid === row.tokenUuid)!;
    await expectConsistent(tenant, winner.token);
  });

  it("20 mixed changes fired at one organisation at once end in one consistent state", async () => {
    const { tenant } = await connectedTenant();
    const actor = personActor(tenant.actor);
    const organizationId = tenant.organizationId;
    const deps = harness.deps(backend.store());
    const operations = Array.from({ length: 20 }, (_, index) => {
      switch (index % 5) {
        case 0:
          return () => connectBuildkite({ organizationId, actor, token: freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token }, deps);
        case 1:
        case 2:
          return () =>
            rotateBuildkiteToken(
              { organizationId, actor, token: freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token, revokePrevious: index % 2 === 0 },
              deps,
            );
        case 3:
          return () => reverifyConnection({ organizationId, actor }, deps);
        default:
          return () => disconnectBuildkite({ organizationId, actor, revokeAtBuildkite: index % 2 === 0, evenIfRevokeFails: true }, deps);
      }
    });

    const results = await Promise.all(operations.map((run) => run()));

    // Every change either happened or said why not, in words an admin gets: never an exception, never a half state.
    const expectedRefusals = new Set<ConnectionFailureCode>(["not_connected", "busy"]);
    for (const result of results) {
      if (!result.ok) expect(expectedRefusals).toContain(result.failure.code);
    }
    expect(results.filter((result) => result.ok).length).toBeGreaterThan(5);
    const rows = await connectionsOf(harness.db, organizationId);
    const state = await backend.state(organizationId);
    if (rows.length === 0) {
      // Disconnected last: nothing is served as current any more.
      expect(state === null || state.deleted).toBe(true);
    } else {
      const row = rows[0]!;
      expect(state).toMatchObject({ current: row.secretVersion, deleted: false });
      const token = await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion });
      await expect(harness.client.getAccessToken(token)).resolves.toMatchObject({ uuid: row.tokenUuid });
    }
  });

  it("a change that finds the organisation busy waits briefly, then says so and changes nothing; a short wait just queues", async () => {
    const { tenant } = await connectedTenant();
    const before = await connectionsOf(harness.db, tenant.organizationId);
    const impatient = harness.deps(backend.store(), { locks: createConnectionLocks(harness.lockPool, { waitMs: 300 }) });
    const held = await harness.locks.acquire(tenant.organizationId);
    cleanups.push(async () => held?.release());
    const next = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);

    const started = Date.now();
    const refused = await rotateBuildkiteToken(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next.token, revokePrevious: false },
      impatient,
    );

    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(refused).toEqual({ ok: false, failure: { code: "busy" } });
    expect(describeFailure({ code: "busy" }).message).toBe("Another change to this connection is in progress. Try again in a moment.");
    expect(await connectionsOf(harness.db, tenant.organizationId)).toEqual(before);

    // Released within the wait: the next change simply goes after it.
    const queued = rotateBuildkiteToken(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next.token, revokePrevious: false },
      harness.deps(backend.store(), { locks: createConnectionLocks(harness.lockPool, { waitMs: 5_000 }) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await held?.release();
    expect(await queued).toMatchObject({ ok: true });
  });
});
