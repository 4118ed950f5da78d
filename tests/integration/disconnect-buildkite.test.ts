import { describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { disconnectBuildkite, type DisconnectResult } from "@/lib/integrations/buildkite/disconnect";
import { reconcileSecrets } from "@/lib/integrations/buildkite/reconcile";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend } from "../support/secret-backends";
import { auditOf, connectionsOf, createTenant, freshToken, refuseConnectionWrites, type Tenant } from "../support/tenants";

/**
 * Disconnect against real parts on both secret backends: revoke first (when asked), then the record, then the
 * secret. Never a "Connected" record whose secret is gone; a secret whose deletion fails is left for the reconciler.
 */

const harness = setUpIntegrationHarness();
const DAY_MS = 24 * 60 * 60 * 1000;

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("disconnect with the $name secret store", (backend) => {
  const cleanups = freshBackendPerTest(backend);

  async function connected() {
    const tenant = await createTenant(harness.db);
    const { token, uuid } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, harness.deps(backend.store()));
    expect(result.ok).toBe(true);
    const row = (await connectionsOf(harness.db, tenant.organizationId))[0]!;
    return { tenant, token, uuid, row };
  }

  const disconnect = (tenant: Tenant, options: { revoke: boolean; anyway?: boolean }): Promise<DisconnectResult> =>
    disconnectBuildkite(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: options.revoke, evenIfRevokeFails: options.anyway ?? false },
      harness.deps(backend.store()),
    );

  const deletesOf = (token: string) => harness.buildkite.requests.filter((request) => request.method === "DELETE" && request.token === token);

  /** Gone from both places: no record, and the store no longer serves the secret. */
  async function expectDisconnected(before: Awaited<ReturnType<typeof connected>>) {
    expect(await connectionsOf(harness.db, before.tenant.organizationId)).toEqual([]);
    const state = await backend.state(before.tenant.organizationId);
    if (backend.name === "aws") {
      expect(state?.deleted).toBe(true);
      const secret = harness.secretsManager.secrets().find((candidate) => candidate.arn === before.row.secretRef)!;
      const windowDays = (Date.parse(secret.deletionDate!) - Date.parse(secret.deletedDate!)) / DAY_MS;
      expect(windowDays).toBe(7);
    } else {
      expect(state).toBeNull();
    }
    await expect(backend.store().read(before.tenant.organizationId, { ref: before.row.secretRef, version: before.row.secretVersion })).rejects.toMatchObject({ code: "not_found" });
  }

  async function expectStillConnected(before: Awaited<ReturnType<typeof connected>>) {
    expect(await connectionsOf(harness.db, before.tenant.organizationId)).toEqual([before.row]);
    expect(await backend.state(before.tenant.organizationId)).toMatchObject({ current: before.row.secretVersion, deleted: false });
    expect(await backend.store().read(before.tenant.organizationId, { ref: before.row.secretRef, version: before.row.secretVersion })).toBe(before.token);
  }

  it("revokes the token at Buildkite, then removes the record and the secret", async () => {
    const before = await connected();

    const result = await disconnect(before.tenant, { revoke: true });

    expect(result).toEqual({ ok: true, revoke: { status: "revoked" }, secretDeleted: true });
    expect(deletesOf(before.token)).toHaveLength(1);
    await expect(harness.client.getAccessToken(before.token)).rejects.toMatchObject({ code: "unauthorized" });
    await expectDisconnected(before);
    const events = await auditOf(harness.db, before.tenant.organizationId);
    expect(events.map((event) => [event.action, event.outcome])).toEqual([
      ["buildkite.connect", "success"],
      ["buildkite.revoke", "success"],
      ["buildkite.disconnect", "success"],
    ]);
    expect(events[2]!.detail).toMatchObject({ tokenUuid: before.uuid, tokenLastFour: before.token.slice(-4), revoke: "revoked" });
    expect(JSON.stringify(events)).not.toContain(before.token);
  });

  it("disconnects without revoking when not asked: the token stays valid at Buildkite", async () => {
    const before = await connected();

    const result = await disconnect(before.tenant, { revoke: false });

    expect(result).toEqual({ ok: true, revoke: { status: "not_requested" }, secretDeleted: true });
    expect(deletesOf(before.token)).toEqual([]);
    await expect(harness.client.getAccessToken(before.token)).resolves.toMatchObject({ uuid: before.uuid });
    await expectDisconnected(before);
  });

  it("carries on when Buildkite says the token is already dead (401)", async () => {
    const before = await connected();
    harness.buildkite.revoke(before.token);

    const result = await disconnect(before.tenant, { revoke: true });

    expect(result).toEqual({ ok: true, revoke: { status: "already_revoked" }, secretDeleted: true });
    await expectDisconnected(before);
  });

  it("changes nothing when revoking fails, and disconnects anyway when told to", async () => {
    const before = await connected();
    harness.buildkite.register(before.token, { kind: "server_error", status: 503 });

    const refused = await disconnect(before.tenant, { revoke: true });

    expect(refused).toEqual({ ok: false, failure: { code: "revoke_failed", cause: { code: "buildkite_unreachable", reason: "unavailable" } } });
    await expectStillConnected(before);
    const afterRefusal = await auditOf(harness.db, before.tenant.organizationId);
    expect(afterRefusal.slice(1).map((event) => [event.action, event.outcome, event.code])).toEqual([
      ["buildkite.revoke", "failure", "buildkite_unreachable"],
      ["buildkite.disconnect", "failure", "revoke_failed"],
    ]);

    const anyway = await disconnect(before.tenant, { revoke: true, anyway: true });

    expect(anyway).toMatchObject({ ok: true, revoke: { status: "failed" }, secretDeleted: true });
    await expectDisconnected(before);
    expect((await auditOf(harness.db, before.tenant.organizationId)).at(-1)).toMatchObject({
      action: "buildkite.disconnect",
      outcome: "success",
      detail: { revoke: "failed" },
    });
  });

  it("refuses, changing nothing, when the stored token cannot be read to revoke it", async () => {
    const before = await connected();
    if (backend.name === "aws") harness.secretsManager.injectFault({ operation: "GetSecretValue", error: "AccessDeniedException" });
    else await backend.store().deleteSecret(before.tenant.organizationId, before.row.secretRef);

    const result = await disconnect(before.tenant, { revoke: true });
    harness.secretsManager.clearFaults();

    expect(result).toMatchObject({ ok: false, failure: { code: "revoke_failed", cause: { code: "secret_unreadable" } } });
    expect(await connectionsOf(harness.db, before.tenant.organizationId)).toEqual([before.row]);
  });

  it("leaves the record when the database refuses the delete", async () => {
    const before = await connected();
    cleanups.push(await refuseConnectionWrites(harness.db, before.tenant.organizationId, { operations: ["DELETE"] }));

    const result = await disconnect(before.tenant, { revoke: false });

    expect(result).toEqual({ ok: false, failure: { code: "database_failed" } });
    await expectStillConnected(before);
  });

  it.runIf(backend.name === "aws").each(["AccessDeniedException", "ThrottlingException"] as const)(
    "disconnects when Secrets Manager answers the deletion with %s, and the reconciler deletes the leftover",
    async (error) => {
      const before = await connected();
      harness.secretsManager.injectFault({ operation: "DeleteSecret", error });

      const result = await disconnect(before.tenant, { revoke: false });
      harness.secretsManager.clearFaults();

      expect(result).toEqual({ ok: true, revoke: { status: "not_requested" }, secretDeleted: false });
      expect(await connectionsOf(harness.db, before.tenant.organizationId)).toEqual([]);
      expect(await backend.state(before.tenant.organizationId)).toMatchObject({ deleted: false });

      const report = await reconcileSecrets(harness.deps(backend.store()));

      expect(report.orphansDeleted).toBeGreaterThanOrEqual(1);
      await expectDisconnected(before);
    },
  );

  it.runIf(backend.name === "aws")("changes nothing when Secrets Manager throttles reading the token to revoke it", async () => {
    const before = await connected();
    harness.secretsManager.injectFault({ operation: "GetSecretValue", error: "ThrottlingException" });

    const result = await disconnect(before.tenant, { revoke: true });
    harness.secretsManager.clearFaults();

    expect(result).toMatchObject({ ok: false, failure: { code: "revoke_failed", cause: { code: "secret_unreadable", reason: "throttled" } } });
    await expectStillConnected(before);
  });

  it("connects again straight after a disconnect (AWS: while the name is in its recovery window)", async () => {
    const before = await connected();
    expect((await disconnect(before.tenant, { revoke: true })).ok).toBe(true);
    const again = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);

    const result = await connectBuildkite(
      { organizationId: before.tenant.organizationId, actor: personActor(before.tenant.actor), token: again.token },
      harness.deps(backend.store()),
    );

    expect(result.ok).toBe(true);
    const [row] = await connectionsOf(harness.db, before.tenant.organizationId);
    expect(row).toMatchObject({ status: "connected", tokenUuid: again.uuid });
    const state = await backend.state(before.tenant.organizationId);
    expect(state).toMatchObject({ current: row!.secretVersion, deleted: false });
    expect(await backend.store().read(row!.organizationId, { ref: row!.secretRef, version: row!.secretVersion })).toBe(again.token);
    // The disconnected token came back with the restored secret, but carries no label any more.
    expect(state!.versions.find((version) => version.id === before.row.secretVersion)?.stages ?? []).toEqual([]);
  });

  it("answers not_connected when there is nothing to disconnect", async () => {
    const tenant = await createTenant(harness.db);

    expect(await disconnect(tenant, { revoke: true })).toEqual({ ok: false, failure: { code: "not_connected" } });
  });
});
