import { afterAll, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import type { ConnectionFailureCode } from "@/lib/integrations/buildkite/failures";
import type { AttentionCode } from "@/lib/integrations/buildkite/health";
import { connectState, disconnectState, rotateState, verifyState } from "@/lib/integrations/buildkite/presentation/form-state";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import type { BuildkiteScenario } from "../support/buildkite-stand-in";
import { connectFresh, connectionOf, expectShownWithout, expectTokenKeptSecret, goodScenario, reverify, tenantTracker, watchLogLines, watchSecret } from "../support/connection-checks";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend, type SecretBackend } from "../support/secret-backends";
import { auditOf, freshToken } from "../support/tenants";

/**
 * Every way Buildkite can fail us, against every operation that calls it: connect and rotate (a new token that
 * meets the fault), verify and disconnect (the connected token meets it). Each fault is the stand-in on a real
 * port answering as Buildkite does, read by the real undici client. What must hold each time: the admin is told
 * what happened in words of their own (never the token), a failed change changes nothing, a refused call leaves an
 * audit trace, and the token is in no log line, no result and no table.
 */

type Verdict = { outcome: "unreachable" } | { outcome: "needs_attention"; attention: AttentionCode };

type BuildkiteFault = {
  name: string;
  scenario: BuildkiteScenario;
  /** What connect and rotate answer when the new token meets the fault. */
  refusedWith: ConnectionFailureCode;
  /** What a check of the connected token concludes: a fault that says nothing about the token changes no status. */
  verify: Verdict;
  /** Disconnect with revoking: refused (nothing changed; "Disconnect anyway" is offered), or done. */
  disconnect: "revoke_failed" | "disconnected";
};

const unreachable: Verdict = { outcome: "unreachable" };

const FAULTS: BuildkiteFault[] = [
  // A 401 on the revoke means the token is already dead: as good as revoked. Any other answer but Buildkite's 204
  // (an HTML page, a body too large to read) leaves it unknown whether the token still works: refused.
  { name: "401 Unauthorized", scenario: { kind: "unauthorized" }, refusedWith: "token_rejected", verify: { outcome: "needs_attention", attention: "token_rejected" }, disconnect: "disconnected" },
  { name: "403 Forbidden", scenario: { kind: "forbidden" }, refusedWith: "token_forbidden", verify: { outcome: "needs_attention", attention: "token_forbidden" }, disconnect: "revoke_failed" },
  { name: "403 naming a missing scope", scenario: { kind: "forbidden", missingScope: "read_builds" }, refusedWith: "token_forbidden", verify: { outcome: "needs_attention", attention: "token_forbidden" }, disconnect: "revoke_failed" },
  { name: "429 Too Many Requests", scenario: { kind: "rate_limited", resetSeconds: 42 }, refusedWith: "rate_limited", verify: unreachable, disconnect: "revoke_failed" },
  { name: "500 on every attempt", scenario: { kind: "server_error", status: 500 }, refusedWith: "buildkite_unreachable", verify: unreachable, disconnect: "revoke_failed" },
  { name: "502 on every attempt", scenario: { kind: "server_error", status: 502 }, refusedWith: "buildkite_unreachable", verify: unreachable, disconnect: "revoke_failed" },
  { name: "503 on every attempt", scenario: { kind: "server_error", status: 503 }, refusedWith: "buildkite_unreachable", verify: unreachable, disconnect: "revoke_failed" },
  { name: "the connection reset on every attempt", scenario: { kind: "connection_reset" }, refusedWith: "buildkite_unreachable", verify: unreachable, disconnect: "revoke_failed" },
  { name: "no answer at all (timeout)", scenario: { kind: "hang" }, refusedWith: "buildkite_unreachable", verify: unreachable, disconnect: "revoke_failed" },
  { name: "a body that never ends", scenario: { kind: "slow_body" }, refusedWith: "buildkite_unreachable", verify: unreachable, disconnect: "revoke_failed" },
  { name: "an HTML page with 200", scenario: { kind: "html_body" }, refusedWith: "buildkite_unexpected_response", verify: unreachable, disconnect: "revoke_failed" },
  { name: "a 5 MiB body", scenario: { kind: "huge_body" }, refusedWith: "buildkite_unexpected_response", verify: unreachable, disconnect: "revoke_failed" },
  { name: "JSON without the token's uuid", scenario: { kind: "missing_uuid", base: goodScenario() }, refusedWith: "buildkite_unexpected_response", verify: unreachable, disconnect: "disconnected" },
];

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

const logs = watchLogLines();

async function expectRefusalAudited(organizationId: string, action: string, code: string) {
  const events = await auditOf(harness.db, organizationId);
  expect(events.filter((event) => event.action === action && event.outcome === "failure").map((event) => event.code)).toContain(code);
}

describe.each([awsBackend(() => harness.secretsManager), localBackend()])("Buildkite faults, with the $name secret store", (backend: SecretBackend) => {
  freshBackendPerTest(backend);

  describe.each(FAULTS)("$name", (fault) => {
    it("connect: refused with its own words; no record, no secret, no trace of the token", async () => {
      const deps = harness.deps(backend.store());
      const tenant = await tenants.create();
      const { token } = freshToken(harness.buildkite, fault.scenario);

      const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, deps);

      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.failure.code).toBe(fault.refusedWith);
      expectShownWithout(connectState(result), token);
      expect(await harness.db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } })).toBeNull();
      await backend.expectNothingWritten(tenant.organizationId);
      await expectRefusalAudited(tenant.organizationId, "buildkite.connect", fault.refusedWith);
      await expectTokenKeptSecret(harness.db, token, result);
      logs.expectNone([token], { somethingLogged: true });
    });

    it("rotate: refused with its own words; the connected token stays recorded, current and readable", async () => {
      const deps = harness.deps(backend.store());
      const tenant = await tenants.create();
      const connected = await connectFresh(harness, deps, tenant);
      const before = await connectionOf(harness.db, tenant.organizationId);
      const secret = await watchSecret(harness, backend, tenant.organizationId);
      const { token } = freshToken(harness.buildkite, fault.scenario);

      const result = await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token, revokePrevious: true }, deps);

      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.failure.code).toBe(fault.refusedWith);
      expectShownWithout(rotateState(result), token);
      expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(before);
      await secret.expectUntouched();
      expect(await backend.store().read(tenant.organizationId, connected.secret)).toBe(connected.token);
      await expectRefusalAudited(tenant.organizationId, "buildkite.rotate", fault.refusedWith);
      await expectTokenKeptSecret(harness.db, token, result);
      await expectTokenKeptSecret(harness.db, connected.token, result);
      logs.expectNone([token], { somethingLogged: true });
      logs.expectNone([connected.token], { somethingLogged: true });
    });

    it(`verify: ${fault.verify.outcome === "unreachable" ? "no verdict on the token, the status kept" : `needs attention (${fault.verify.outcome === "needs_attention" ? fault.verify.attention : ""})`}; the secret untouched`, async () => {
      const deps = harness.deps(backend.store());
      const tenant = await tenants.create();
      const connected = await connectFresh(harness, deps, tenant);
      const secret = await watchSecret(harness, backend, tenant.organizationId);
      harness.buildkite.register(connected.token, fault.scenario);

      const result = await reverify(deps, tenant);

      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.outcome).toBe(fault.verify.outcome);
      const record = await connectionOf(harness.db, tenant.organizationId);
      if (fault.verify.outcome === "unreachable") {
        expect(result.statusChanged).toBe(false);
        expect(record.status).toBe("connected");
      } else {
        expect(result.attention?.code).toBe(fault.verify.attention);
        expect(record.status).toBe("needs_attention");
      }
      expect(record.secretVersion).toBe(connected.secret.version);
      await secret.expectUntouched();
      expectShownWithout(verifyState(result), connected.token);
      await expectTokenKeptSecret(harness.db, connected.token, result);
      logs.expectNone([connected.token], { somethingLogged: true });
    });

    it(`disconnect: ${fault.disconnect === "revoke_failed" ? "refused, nothing changed, “Disconnect anyway” offered" : "done (the token cannot be used)"}`, async () => {
      const deps = harness.deps(backend.store());
      const tenant = await tenants.create();
      const connected = await connectFresh(harness, deps, tenant);
      const before = await connectionOf(harness.db, tenant.organizationId);
      const secret = await watchSecret(harness, backend, tenant.organizationId);
      harness.buildkite.register(connected.token, fault.scenario);

      const result = await disconnectBuildkite(
        { organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: true, evenIfRevokeFails: false },
        deps,
      );

      const shown = disconnectState(result);
      expectShownWithout({ ...shown, message: "message" in shown ? shown.message : "notices" in shown ? shown.notices.map((notice) => notice.text).join(" ") : "" }, connected.token);
      if (fault.disconnect === "revoke_failed") {
        expect(result).toMatchObject({ ok: false, failure: { code: "revoke_failed" } });
        expect(shown.status).toBe("revoke_failed");
        expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(before);
        await secret.expectUntouched();
        expect(await backend.store().read(tenant.organizationId, connected.secret)).toBe(connected.token);
        await expectRefusalAudited(tenant.organizationId, "buildkite.disconnect", "revoke_failed");
      } else {
        expect(result).toMatchObject({ ok: true });
        expect(await harness.db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } })).toBeNull();
      }
      await expectTokenKeptSecret(harness.db, connected.token, result);
      logs.expectNone([connected.token], { somethingLogged: true });
    });
  });
});
