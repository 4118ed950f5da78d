import { describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { createBuildkiteClient } from "@/lib/buildkite/client";
import { connectBuildkite, type ConnectResult } from "@/lib/integrations/buildkite/connect";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest } from "../support/secret-backends";
import { auditOf, connectionsOf, createTenant, freshToken, type Tenant } from "../support/tenants";

/**
 * One deadline for a whole change (OPERATION_DEADLINE_MS). Each step below is slow but within its own client's
 * budget, so without the deadline the change would finish — and commit — long after the person was told it failed
 * (or their proxy gave up). With it: an answer within the deadline, and nothing changed.
 */

const harness = setUpIntegrationHarness();
const DEADLINE_MS = 2_000;
/** The answer may come a little after the deadline (a commit or an undo finishing); never a client budget later. */
const ANSWERED_WITHIN_MS = DEADLINE_MS + 700;
/** Under the harness's 1.5 s per-call budgets, so each call on its own succeeds. */
const SLOW_STEP_MS = 800;

describe("one deadline for the whole operation (Secrets Manager stand-in)", () => {
  const backend = awsBackend(() => harness.secretsManager);
  const cleanups = freshBackendPerTest(backend);
  const deps = (overrides: Partial<ConnectionDependencies> = {}) => harness.deps(backend.store(), { operationDeadlineMs: DEADLINE_MS, ...overrides });

  async function timed<T>(run: () => Promise<T>): Promise<{ result: T; elapsedMs: number }> {
    const started = performance.now();
    const result = await run();
    return { result, elapsedMs: performance.now() - started };
  }

  const connect = (tenant: Tenant, token: string, overrides: Partial<ConnectionDependencies> = {}) =>
    connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, deps(overrides));

  /** Buildkite, the write and the read-back each slow but in budget: together past the deadline. */
  function slowEverywhere() {
    harness.buildkite.setLatency(SLOW_STEP_MS);
    cleanups.push(async () => harness.buildkite.setLatency(0));
    harness.secretsManager.injectFault({ operation: "CreateSecret", delayMs: SLOW_STEP_MS, times: 1 });
    harness.secretsManager.injectFault({ operation: "PutSecretValue", delayMs: SLOW_STEP_MS, times: 1 });
    harness.secretsManager.injectFault({ operation: "GetSecretValue", delayMs: SLOW_STEP_MS, times: 1 });
  }

  it("a first connect that runs past the deadline answers in time, records nothing and leaves no usable secret", async () => {
    const tenant = await createTenant(harness.db);
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    slowEverywhere();

    const { result, elapsedMs } = await timed(() => connect(tenant, token));

    expect(result).toEqual({ ok: false, failure: { code: "deadline_exceeded", seconds: 2 } } satisfies ConnectResult);
    expect(elapsedMs).toBeLessThan(ANSWERED_WITHIN_MS);
    expect(await connectionsOf(harness.db, tenant.organizationId)).toEqual([]);
    expect((await backend.state(tenant.organizationId))?.deleted ?? true).toBe(true);
    expect(await auditOf(harness.db, tenant.organizationId)).toMatchObject([{ action: "buildkite.connect", outcome: "failure", code: "deadline_exceeded" }]);
  });

  it("a rotation that runs past the deadline leaves the old token recorded, current and readable", async () => {
    const tenant = await createTenant(harness.db);
    const old = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    expect((await connect(tenant, old.token)).ok).toBe(true);
    const [before] = await connectionsOf(harness.db, tenant.organizationId);
    const next = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    slowEverywhere();

    const { result, elapsedMs } = await timed(() =>
      rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next.token, revokePrevious: false }, deps()),
    );

    expect(result).toEqual({ ok: false, failure: { code: "deadline_exceeded", seconds: 2 } });
    expect(elapsedMs).toBeLessThan(ANSWERED_WITHIN_MS);
    expect(await connectionsOf(harness.db, tenant.organizationId)).toEqual([before]);
    expect(await backend.state(tenant.organizationId)).toMatchObject({ current: before!.secretVersion, deleted: false });
    expect(await backend.store().read(tenant.organizationId, { ref: before!.secretRef, version: before!.secretVersion })).toBe(old.token);
  });

  it("cuts a Buildkite call short at the deadline, even when the client's own budget is longer", async () => {
    const patientClient = createBuildkiteClient({ baseUrl: harness.buildkite.url, connectTimeoutMs: 1_000, timeoutMs: 10_000 });
    cleanups.push(() => patientClient.close());
    harness.buildkite.setLatency(5_000);
    cleanups.push(async () => harness.buildkite.setLatency(0));
    const tenant = await createTenant(harness.db);
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);

    const { result, elapsedMs } = await timed(() => connect(tenant, token, { buildkite: patientClient }));

    expect(result).toEqual({ ok: false, failure: { code: "buildkite_unreachable", reason: "timeout" } });
    expect(elapsedMs).toBeLessThan(ANSWERED_WITHIN_MS);
    await backend.expectNothingWritten(tenant.organizationId);
  });

  it("waits for a busy organisation only as long as the deadline leaves", async () => {
    const tenant = await createTenant(harness.db);
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    const held = await harness.locks.acquire(tenant.organizationId);
    cleanups.push(() => held!.release());

    // The harness's locks wait 10 s by default; the deadline leaves 1.6 s.
    const { result, elapsedMs } = await timed(() => connect(tenant, token));

    expect(result).toEqual({ ok: false, failure: { code: "busy" } });
    expect(elapsedMs).toBeLessThan(ANSWERED_WITHIN_MS);
    await backend.expectNothingWritten(tenant.organizationId);
  });

  it("a disconnect whose revoke runs past the deadline changes nothing and says revoking failed", async () => {
    const tenant = await createTenant(harness.db);
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    expect((await connect(tenant, token)).ok).toBe(true);
    const before = await connectionsOf(harness.db, tenant.organizationId);
    const patientClient = createBuildkiteClient({ baseUrl: harness.buildkite.url, connectTimeoutMs: 1_000, timeoutMs: 10_000 });
    cleanups.push(() => patientClient.close());
    harness.buildkite.setLatency(5_000);
    cleanups.push(async () => harness.buildkite.setLatency(0));

    const { result, elapsedMs } = await timed(() =>
      disconnectBuildkite(
        { organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: true, evenIfRevokeFails: false },
        deps({ buildkite: patientClient }),
      ),
    );

    expect(result).toEqual({ ok: false, failure: { code: "revoke_failed", cause: { code: "buildkite_unreachable", reason: "timeout" } } });
    expect(elapsedMs).toBeLessThan(ANSWERED_WITHIN_MS);
    expect(await connectionsOf(harness.db, tenant.organizationId)).toEqual(before);
    // The stand-in acts only after its latency: a revoke the client gave up on never happened.
    expect(harness.buildkite.requests.filter((request) => request.method === "DELETE" && request.token === token).length).toBeLessThanOrEqual(1);
  });
});
