import { describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { createTokenCheckLimiter } from "@/lib/integrations/buildkite/token-check-limit";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { freshBackendPerTest, localBackend } from "../support/secret-backends";
import { auditOf, connectionsOf, createTenant, freshToken, type Tenant } from "../support/tenants";

/** Connect and rotate send pasted tokens to Buildkite: an organisation may have only so many checked at a time. */

const harness = setUpIntegrationHarness();

describe("the token-check limit", () => {
  const backend = localBackend();
  freshBackendPerTest(backend);
  const LIMIT = 3;
  const limited = () => harness.deps(backend.store(), { tokenChecks: createTokenCheckLimiter(harness.lockPool, { points: LIMIT, windowSeconds: 900 }) });

  const connect = (tenant: Tenant, token: string, deps = limited()) =>
    connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, deps);
  const checksWith = (token: string) => harness.buildkite.requests.filter((request) => request.token === token).length;

  it("refuses a check past the limit before anything reaches Buildkite, says when to retry, and leaves a trace", async () => {
    const tenant = await createTenant(harness.db);
    const deps = limited();
    for (let attempt = 0; attempt < LIMIT; attempt += 1) {
      const result = await connect(tenant, freshToken(harness.buildkite, BUILDKITE_FIXTURES.missingScopes).token, deps);
      expect(result).toMatchObject({ ok: false, failure: { code: "missing_scopes" } });
    }
    const good = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);

    const refused = await connect(tenant, good.token, deps);

    expect(refused.ok).toBe(false);
    const failure = refused.ok ? null : refused.failure;
    expect(failure).toMatchObject({ code: "too_many_token_checks" });
    expect(failure?.code === "too_many_token_checks" && failure.retryAfterSeconds).toBeGreaterThan(800);
    expect(checksWith(good.token)).toBe(0);
    expect(await connectionsOf(harness.db, tenant.organizationId)).toEqual([]);
    const audit = await auditOf(harness.db, tenant.organizationId);
    expect(audit.map((event) => event.code)).toEqual([...Array(LIMIT).fill("missing_scopes"), "too_many_token_checks"]);
  });

  it("counts rotations with connects, per organisation only", async () => {
    const tenant = await createTenant(harness.db);
    const neighbour = await createTenant(harness.db);
    const deps = limited();
    expect((await connect(tenant, freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token, deps)).ok).toBe(true);
    const rotate = (token: string) =>
      rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token, revokePrevious: false }, deps);
    expect((await rotate(freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token)).ok).toBe(true);
    expect((await rotate(freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token)).ok).toBe(true);

    expect(await rotate(freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token)).toMatchObject({ ok: false, failure: { code: "too_many_token_checks" } });
    expect((await connect(neighbour, freshToken(harness.buildkite, BUILDKITE_FIXTURES.good).token, deps)).ok).toBe(true);
  });
});
