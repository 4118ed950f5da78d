import { describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { rotateBuildkiteToken, type RotateResult } from "@/lib/integrations/buildkite/rotate";
import type { SecretStore } from "@/lib/secrets/store";
import { BUILDKITE_FIXTURES, SEVERAL_ORGANIZATIONS } from "../support/buildkite-fixtures";
import type { OkScenario } from "../support/buildkite-stand-in";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend } from "../support/secret-backends";
import {
  auditOf,
  connectionsOf,
  createTenant,
  expectTokenNowhereInDatabase,
  freshToken,
  refuseConnectionWrites,
  type Tenant,
} from "../support/tenants";

/**
 * Rotate against real parts on both secret backends: the new token becomes current only once it is stored, read back
 * and recorded; with AWS the old value becomes AWSPREVIOUS; revoking the old token happens after the switch, and a
 * failure to revoke never undoes the rotation. Any failure before the switch leaves everything exactly as it was.
 */

const harness = setUpIntegrationHarness();
const good = BUILDKITE_FIXTURES.good as OkScenario;

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("rotate with the $name secret store", (backend) => {
  const cleanups = freshBackendPerTest(backend);

  async function connected(scenario: OkScenario = good) {
    const tenant = await createTenant(harness.db);
    const old = freshToken(harness.buildkite, scenario);
    const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: old.token }, harness.deps(backend.store()));
    expect(result.ok).toBe(true);
    const row = (await connectionsOf(harness.db, tenant.organizationId))[0]!;
    return { tenant, old, row, state: await backend.state(tenant.organizationId) };
  }

  const rotate = async (tenant: Tenant, token: string, options: { revokePrevious?: boolean; secrets?: SecretStore } = {}): Promise<RotateResult> => {
    const result = await rotateBuildkiteToken(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), token, revokePrevious: options.revokePrevious ?? false },
      harness.deps(options.secrets ?? backend.store()),
    );
    expect(JSON.stringify(result)).not.toContain(token);
    await expectTokenNowhereInDatabase(harness.db, token);
    return result;
  };

  /** A failure before the switch: the record, the store and the old token's validity are exactly as they were. */
  async function expectUnchanged(before: Awaited<ReturnType<typeof connected>>) {
    expect(await connectionsOf(harness.db, before.tenant.organizationId)).toEqual([before.row]);
    expect(await backend.state(before.tenant.organizationId)).toMatchObject({ current: before.row.secretVersion, deleted: false });
    expect(await backend.store().read(before.tenant.organizationId, { ref: before.row.secretRef, version: before.row.secretVersion })).toBe(before.old.token);
    const deletes = harness.buildkite.requests.filter((request) => request.method === "DELETE" && request.token === before.old.token);
    expect(deletes).toEqual([]);
  }

  it("replaces the token: the new one current and recorded, the old one kept as previous and still valid", async () => {
    const before = await connected();
    const next = freshToken(harness.buildkite, good);
    harness.secretsManager.requests.length = 0;

    const result = await rotate(before.tenant, next.token);
    const operations = harness.secretsManager.requests.map((request) => request.operation);

    expect(result).toMatchObject({ ok: true, organization: { slug: "acme-inc" }, revoke: { status: "not_requested" }, ownerChange: null });
    expect(result.ok && result.previous).toEqual({ tokenUuid: before.old.uuid, tokenLastFour: before.old.token.slice(-4) });
    const [row] = await connectionsOf(harness.db, before.tenant.organizationId);
    expect(row).toMatchObject({
      id: before.row.id,
      secretRef: before.row.secretRef,
      status: "connected",
      tokenUuid: next.uuid,
      tokenLastFour: next.token.slice(-4),
      rotatedById: before.tenant.actor.userId,
      connectedById: before.tenant.actor.userId,
      connectedAt: before.row.connectedAt,
      revision: before.row.revision + 1,
    });
    expect(row!.rotatedAt).toBeInstanceOf(Date);
    const state = await backend.state(before.tenant.organizationId);
    expect(state?.current).toBe(row!.secretVersion);
    const previous = state!.versions.find((version) => version.id === before.row.secretVersion);
    expect(previous?.stages).toEqual([backend.name === "aws" ? "AWSPREVIOUS" : "previous"]);
    expect(await backend.store().read(row!.organizationId, { ref: row!.secretRef, version: row!.secretVersion })).toBe(next.token);
    // The old token still works at Buildkite: nobody asked to revoke it.
    const mine = new Set([before.old.token, next.token]);
    expect(harness.buildkite.requests.some((request) => request.method === "DELETE" && mine.has(request.token ?? ""))).toBe(false);

    const events = await auditOf(harness.db, before.tenant.organizationId);
    expect(events.map((event) => [event.action, event.outcome])).toEqual([
      ["buildkite.connect", "success"],
      ["buildkite.rotate", "success"],
    ]);
    expect(events[1]!.detail).toMatchObject({
      tokenUuid: next.uuid,
      tokenLastFour: next.token.slice(-4),
      previousTokenUuid: before.old.uuid,
      previousTokenLastFour: before.old.token.slice(-4),
    });
    if (backend.name === "aws") {
      // A known secret is written to directly: one write and its read-back, nothing looked up first.
      expect(operations).toEqual(["PutSecretValue", "GetSecretValue"]);
    }
  });

  it("revokes the previous token at Buildkite after the switch when asked", async () => {
    const before = await connected();
    const next = freshToken(harness.buildkite, good);

    const result = await rotate(before.tenant, next.token, { revokePrevious: true });

    expect(result).toMatchObject({ ok: true, revoke: { status: "revoked" } });
    const mine = new Set([before.old.token, next.token]);
    const deletes = harness.buildkite.requests.filter((request) => request.method === "DELETE" && mine.has(request.token ?? ""));
    expect(deletes.map((request) => request.token)).toEqual([before.old.token]);
    await expect(harness.client.getAccessToken(before.old.token)).rejects.toMatchObject({ code: "unauthorized" });
    await expect(harness.client.getAccessToken(next.token)).resolves.toMatchObject({ uuid: next.uuid });
    const events = await auditOf(harness.db, before.tenant.organizationId);
    expect(events.map((event) => [event.action, event.outcome])).toEqual([
      ["buildkite.connect", "success"],
      ["buildkite.rotate", "success"],
      ["buildkite.revoke", "success"],
    ]);
    expect(events[2]!.detail).toMatchObject({ tokenUuid: before.old.uuid, revoke: "revoked" });
  });

  it("keeps the rotation when revoking the previous token fails, and says so", async () => {
    const before = await connected();
    const next = freshToken(harness.buildkite, good);
    // Buildkite answers the old token with 503s from now on.
    harness.buildkite.register(before.old.token, { kind: "server_error", status: 503 });

    const result = await rotate(before.tenant, next.token, { revokePrevious: true });

    expect(result).toMatchObject({ ok: true, revoke: { status: "failed", failure: { code: "buildkite_unreachable" } } });
    const [row] = await connectionsOf(harness.db, before.tenant.organizationId);
    expect(row?.tokenUuid).toBe(next.uuid);
    const events = await auditOf(harness.db, before.tenant.organizationId);
    expect(events.at(-1)).toMatchObject({ action: "buildkite.revoke", outcome: "failure", code: "buildkite_unreachable" });
  });

  it("treats a previous token Buildkite already revoked as revoked", async () => {
    const before = await connected();
    const next = freshToken(harness.buildkite, good);
    harness.buildkite.revoke(before.old.token);

    const result = await rotate(before.tenant, next.token, { revokePrevious: true });

    expect(result).toMatchObject({ ok: true, revoke: { status: "already_revoked" } });
  });

  it("warns, naming both, when the new token belongs to someone else", async () => {
    const before = await connected();
    const next = freshToken(harness.buildkite, { ...good, owner: { name: "Grace Hopper", email: "grace@acme.test" } });

    const result = await rotate(before.tenant, next.token);

    expect(result).toMatchObject({ ok: true, ownerChange: { previous: "buildkite-integration@acme.test", next: "grace@acme.test" } });
  });

  describe("failures before the switch change nothing", () => {
    it("the same token again → token_already_connected", async () => {
      const before = await connected();

      const result = await rotate(before.tenant, before.old.token);

      expect(result).toEqual({ ok: false, failure: { code: "token_already_connected" } });
      await expectUnchanged(before);
      expect((await auditOf(harness.db, before.tenant.organizationId)).at(-1)).toMatchObject({
        action: "buildkite.rotate",
        outcome: "failure",
        code: "token_already_connected",
      });
    });

    it("a token that cannot reach the connected organisation → organization_mismatch", async () => {
      const before = await connected();
      const elsewhere = freshToken(harness.buildkite, { ...good, organizations: [SEVERAL_ORGANIZATIONS[2]!] });

      const result = await rotate(before.tenant, elsewhere.token);

      expect(result).toEqual({ ok: false, failure: { code: "organization_mismatch", connected: { slug: "acme-inc", name: "Acme Inc" } } });
      await expectUnchanged(before);
    });

    it("a token missing scopes → missing_scopes", async () => {
      const before = await connected();
      const lacking = freshToken(harness.buildkite, BUILDKITE_FIXTURES.missingScopes);

      const result = await rotate(before.tenant, lacking.token);

      expect(result).toEqual({ ok: false, failure: { code: "missing_scopes", missing: ["read_job_env", "read_suites"] } });
      await expectUnchanged(before);
    });

    it("Buildkite down → buildkite_unreachable", async () => {
      const before = await connected();
      const next = freshToken(harness.buildkite, { kind: "server_error", status: 503 });

      const result = await rotate(before.tenant, next.token, { revokePrevious: true });

      expect(result).toEqual({ ok: false, failure: { code: "buildkite_unreachable", reason: "unavailable" } });
      await expectUnchanged(before);
    });

    it("the database refusing the record → database_failed, the old version current again", async () => {
      const before = await connected();
      const next = freshToken(harness.buildkite, good);
      cleanups.push(await refuseConnectionWrites(harness.db, before.tenant.organizationId));

      const result = await rotate(before.tenant, next.token, { revokePrevious: true });

      expect(result).toEqual({ ok: false, failure: { code: "database_failed" } });
      await expectUnchanged(before);
    });

    it.each(backend.writeFaults(true).map((fault) => ({ ...fault, name: fault.label })))("the secret write failing ($name)", async (fault) => {
      const before = await connected();
      const next = freshToken(harness.buildkite, good);
      const failingStore = await fault.arm();

      const result = await rotate(before.tenant, next.token, { revokePrevious: true, secrets: failingStore });

      expect(result).toEqual({ ok: false, failure: { code: "secret_store_failed", reason: fault.reason } });
      await expectUnchanged(before);
    });

    it.runIf(backend.name === "aws")("Secrets Manager denying the read-back → the old version current again", async () => {
      const before = await connected();
      const next = freshToken(harness.buildkite, good);
      const fault = backend.breakReadBack!();

      const result = await rotate(before.tenant, next.token);
      fault.repair();

      expect(result).toEqual({ ok: false, failure: { code: "secret_store_failed", reason: "access_denied" } });
      await expectUnchanged(before);
    });

    it("nothing connected → not_connected", async () => {
      const tenant = await createTenant(harness.db);
      const next = freshToken(harness.buildkite, good);

      expect(await rotate(tenant, next.token)).toEqual({ ok: false, failure: { code: "not_connected" } });
      expect(await connectionsOf(harness.db, tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
    });
  });

  it("a rotation with an expiring token records it as needing attention", async () => {
    const before = await connected();
    const next = freshToken(harness.buildkite, BUILDKITE_FIXTURES.goodExpiring as OkScenario);

    const result = await rotate(before.tenant, next.token);

    expect(result).toMatchObject({ ok: true, health: { status: "needs_attention", attention: { code: "expires_soon" } } });
    expect((await connectionsOf(harness.db, before.tenant.organizationId))[0]).toMatchObject({ status: "needs_attention", attentionCode: "expires_soon" });
  });
});
