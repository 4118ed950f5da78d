import { afterAll, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import { connectState, rotateState, verifyState } from "@/lib/integrations/buildkite/presentation/form-state";
import { reconcileSecrets } from "@/lib/integrations/buildkite/reconcile";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import type { SecretStoreErrorCode } from "@/lib/secrets/store";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { connectFresh, connectionOf, expectShownWithout, expectTokenKeptSecret, reverify, tenantTracker, watchLogLines } from "../support/connection-checks";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, SECRETS_TIMEOUT_MS } from "../support/secret-backends";
import type { Fault, FaultError } from "../support/secrets-manager-stand-in";
import { auditOf, freshToken } from "../support/tenants";

/**
 * Every way Secrets Manager can fail us, against every operation that calls it, through the real AWS SDK to the
 * stand-in on a real port: connect (CreateSecret), rotate (PutSecretValue), verify (GetSecretValue), disconnect
 * (GetSecretValue to revoke, then DeleteSecret). What must hold: a failed change changes nothing and says which
 * part failed and what to do; a check that cannot read the secret gives no verdict on a passing fault (throttling,
 * an outage) and turns "Needs attention" on a lasting one (denied, KMS); no secret is lost or left behind for good;
 * the token is in no log line, result or table.
 */

type StoreFault = {
  name: string;
  /** The error on a write (CreateSecret, PutSecretValue) and on a read (GetSecretValue). */
  write: Omit<Fault, "operation">;
  read: Omit<Fault, "operation">;
  reason: SecretStoreErrorCode;
  /** A passing fault: a check that meets it gives no verdict. */
  passing: boolean;
};

const always = (error: FaultError): Omit<Fault, "operation"> => ({ error });

const FAULTS: StoreFault[] = [
  { name: "throttling past the SDK's retries", write: always("ThrottlingException"), read: always("ThrottlingException"), reason: "throttled", passing: true },
  { name: "AccessDenied", write: always("AccessDeniedException"), read: always("AccessDeniedException"), reason: "access_denied", passing: false },
  { name: "expired credentials", write: always("ExpiredTokenException"), read: always("ExpiredTokenException"), reason: "access_denied", passing: false },
  { name: "a KMS failure", write: always("EncryptionFailure"), read: always("DecryptionFailure"), reason: "encryption", passing: false },
  { name: "InternalServiceError on every attempt", write: always("InternalServiceError"), read: always("InternalServiceError"), reason: "unavailable", passing: true },
  { name: "503 on every attempt", write: always("ServiceUnavailable"), read: always("ServiceUnavailable"), reason: "unavailable", passing: true },
  { name: "the connection dropped on every attempt", write: always("ConnectionReset"), read: always("ConnectionReset"), reason: "unavailable", passing: true },
  {
    name: "no answer within the timeout",
    write: { error: "InternalServiceError", delayMs: SECRETS_TIMEOUT_MS + 500 },
    read: { error: "InternalServiceError", delayMs: SECRETS_TIMEOUT_MS + 500 },
    reason: "timeout",
    passing: true,
  },
];

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());
const backend = awsBackend(() => harness.secretsManager);
freshBackendPerTest(backend);

const logs = watchLogLines();

async function failureCodes(organizationId: string, action: string) {
  return (await auditOf(harness.db, organizationId)).filter((event) => event.action === action && event.outcome === "failure").map((event) => event.code);
}

/** Nothing of the organisation's is readable in the store: no secret, or one scheduled for deletion. */
async function expectNoLiveSecret(organizationId: string) {
  const state = await backend.state(organizationId);
  expect(state === null || state.deleted).toBe(true);
}

describe.each(FAULTS)("Secrets Manager: $name", (fault) => {
  it(`connect: refused (secret_store_failed, ${fault.reason}); no record, no live secret`, async () => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    harness.secretsManager.injectFault({ operation: "CreateSecret", ...fault.write });

    const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, deps);

    expect(result).toMatchObject({ ok: false, failure: { code: "secret_store_failed", reason: fault.reason } });
    expectShownWithout(connectState(result), token);
    expect(await harness.db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } })).toBeNull();
    await expectNoLiveSecret(tenant.organizationId);
    expect(await failureCodes(tenant.organizationId, "buildkite.connect")).toContain("secret_store_failed");
    await expectTokenKeptSecret(harness.db, token, result);
    logs.expectNone([token]);
  });

  it(`rotate: refused (secret_store_failed, ${fault.reason}); the old token stays recorded, current and readable`, async () => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const connected = await connectFresh(harness, deps, tenant);
    const before = await connectionOf(harness.db, tenant.organizationId);
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    harness.secretsManager.injectFault({ operation: "PutSecretValue", ...fault.write });

    const result = await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token, revokePrevious: true }, deps);

    expect(result).toMatchObject({ ok: false, failure: { code: "secret_store_failed", reason: fault.reason } });
    expectShownWithout(rotateState(result), token, connected.token);
    harness.secretsManager.clearFaults();
    expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(before);
    expect((await backend.state(tenant.organizationId))?.current).toBe(connected.secret.version);
    expect(await backend.store().read(tenant.organizationId, connected.secret)).toBe(connected.token);
    // The old token was not revoked: the rotation stopped before it.
    expect(harness.buildkite.requests.filter((request) => request.token === connected.token && request.method === "DELETE")).toEqual([]);
    expect(await failureCodes(tenant.organizationId, "buildkite.rotate")).toContain("secret_store_failed");
    await expectTokenKeptSecret(harness.db, token, result);
    await expectTokenKeptSecret(harness.db, connected.token, result);
    logs.expectNone([token, connected.token]);
  });

  it(`verify: ${fault.passing ? "no verdict, the status kept" : "needs attention (secret_unreadable)"}; nothing written`, async () => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const connected = await connectFresh(harness, deps, tenant);
    const stateBefore = await backend.state(tenant.organizationId);
    harness.secretsManager.injectFault({ operation: "GetSecretValue", ...fault.read });

    const result = await reverify(deps, tenant);

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const record = await connectionOf(harness.db, tenant.organizationId);
    if (fault.passing) {
      expect(result).toMatchObject({ outcome: "unreachable", statusChanged: false, unreachable: { code: "secret_unreadable", reason: fault.reason } });
      expect(record.status).toBe("connected");
    } else {
      expect(result).toMatchObject({ outcome: "needs_attention", attention: { code: "secret_unreadable" } });
      expect(record.status).toBe("needs_attention");
    }
    expectShownWithout(verifyState(result), connected.token);
    harness.secretsManager.clearFaults();
    expect(await backend.state(tenant.organizationId)).toEqual(stateBefore);
    expect(record.secretVersion).toBe(connected.secret.version);
    await expectTokenKeptSecret(harness.db, connected.token, result);
    logs.expectNone([connected.token]);
  });

  it("disconnect, when the token cannot be read to revoke it: refused, nothing changed", async () => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const connected = await connectFresh(harness, deps, tenant);
    const before = await connectionOf(harness.db, tenant.organizationId);
    harness.secretsManager.injectFault({ operation: "GetSecretValue", ...fault.read });

    const result = await disconnectBuildkite(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: true, evenIfRevokeFails: false },
      deps,
    );

    expect(result).toMatchObject({ ok: false, failure: { code: "revoke_failed", cause: { code: "secret_unreadable", reason: fault.reason } } });
    harness.secretsManager.clearFaults();
    expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(before);
    expect(await backend.store().read(tenant.organizationId, connected.secret)).toBe(connected.token);
    expect(await failureCodes(tenant.organizationId, "buildkite.disconnect")).toContain("revoke_failed");
    logs.expectNone([connected.token]);
  });

  it("disconnect, when the secret cannot be deleted: disconnected; the reconciler deletes the secret once the store is back", async () => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const connected = await connectFresh(harness, deps, tenant);
    harness.secretsManager.injectFault({ operation: "DeleteSecret", ...fault.write });

    const result = await disconnectBuildkite(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: true, evenIfRevokeFails: false },
      deps,
    );

    expect(result).toMatchObject({ ok: true, revoke: { status: "revoked" }, secretDeleted: false });
    expect(await harness.db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } })).toBeNull();
    // Left behind only until the store answers again: then the reconciler (every start, and on the job runner) deletes it.
    expect((await backend.state(tenant.organizationId))?.deleted).toBe(false);
    harness.secretsManager.clearFaults();
    await reconcileSecrets(deps);
    expect((await backend.state(tenant.organizationId))?.deleted).toBe(true);
    await expectTokenKeptSecret(harness.db, connected.token, result);
    logs.expectNone([connected.token]);
  });
});

describe("Secrets Manager: a write that lands but whose answer is lost", () => {
  it.each(["connect", "rotate"] as const)("%s: refused (timeout); the late write is undone, the previous state current", async (operation) => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    const connected = operation === "rotate" ? await connectFresh(harness, deps, tenant) : null;
    const { token } = freshToken(harness.buildkite, BUILDKITE_FIXTURES.good);
    // The stand-in does the write on arrival and only answers late, as a real lost response would.
    harness.secretsManager.injectFault({ operation: operation === "connect" ? "CreateSecret" : "PutSecretValue", delayMs: SECRETS_TIMEOUT_MS + 500 });
    const actor = personActor(tenant.actor);

    const result =
      operation === "connect"
        ? await connectBuildkite({ organizationId: tenant.organizationId, actor, token }, deps)
        : await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor, token, revokePrevious: false }, deps);

    expect(result).toMatchObject({ ok: false, failure: { code: "secret_store_failed", reason: "timeout" } });
    harness.secretsManager.clearFaults();
    if (connected) {
      expect((await backend.state(tenant.organizationId))?.current).toBe(connected.secret.version);
      expect(await backend.store().read(tenant.organizationId, connected.secret)).toBe(connected.token);
    } else {
      await expectNoLiveSecret(tenant.organizationId);
      expect(await harness.db.buildkiteConnection.findUnique({ where: { organizationId: tenant.organizationId } })).toBeNull();
    }
    await expectTokenKeptSecret(harness.db, token, result);
    logs.expectNone([token]);
  });
});

describe("Secrets Manager: a name still scheduled for deletion", () => {
  it("connect after a disconnect: the secret is brought back and holds the new token, current", async () => {
    const deps = harness.deps(backend.store());
    const tenant = await tenants.create();
    await connectFresh(harness, deps, tenant);
    const disconnected = await disconnectBuildkite(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), revokeAtBuildkite: false, evenIfRevokeFails: false },
      deps,
    );
    expect(disconnected).toMatchObject({ ok: true, secretDeleted: true });
    expect((await backend.state(tenant.organizationId))?.deleted).toBe(true);

    const again = await connectFresh(harness, deps, tenant);

    const state = await backend.state(tenant.organizationId);
    expect(state).toMatchObject({ deleted: false, current: again.secret.version });
    expect(await backend.store().read(tenant.organizationId, again.secret)).toBe(again.token);
    logs.expectNone([again.token]);
  });
});
