import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import type { ConnectionLease } from "@/lib/integrations/buildkite/lock";
import { reconcileSecrets, type ReconcileReport } from "@/lib/integrations/buildkite/reconcile";
import { RECOVERY_DAYS, type SecretRef } from "@/lib/secrets/store";
import { connectFresh, connectionOf, DAY_MS, expectTokenKeptSecret, logLines, MINUTE_MS, tenantTracker } from "../support/connection-checks";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend } from "../support/secret-backends";
import { auditOf } from "../support/tenants";

/**
 * The reconciler against the real stores and Postgres. It walks every record and every secret there is, so other
 * tests' leftovers are in its way too: counts in its report are checked as "at least" on a first run, and each case
 * checks its own organisations in the store and the database.
 */

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

const strayToken = () => `bkua_MTA.${randomBytes(18).toString("hex")}`;

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("reconcileSecrets with the $name secret store", (backend) => {
  const cleanups = freshBackendPerTest(backend);

  const deps = (overrides: Partial<ConnectionDependencies> = {}) => harness.deps(backend.store(), overrides);
  const reconcile = (overrides: Partial<ConnectionDependencies> = {}) => reconcileSecrets(deps(overrides));
  const connected = async () => connectFresh(harness, deps(), await tenants.create());

  /** What a connect that died between its secret write and its commit leaves: a newer, unrecorded current version. */
  async function diedBeforeCommit(organizationId: string, previous: SecretRef | null): Promise<{ token: string; written: SecretRef }> {
    const token = strayToken();
    const written = await backend.store().write(organizationId, token, { requestToken: randomUUID(), previous });
    expect(await backend.state(organizationId)).toMatchObject({ current: written.version, deleted: false });
    return { token, written };
  }

  async function holdLock(organizationId: string): Promise<ConnectionLease> {
    const lease = await harness.locks.acquire(organizationId);
    expect(lease).not.toBeNull();
    cleanups.push(() => lease!.release());
    return lease!;
  }

  const zeroChanges = (report: ReconcileReport) => ({ restoredCurrent: report.restoredCurrent, markedUnreadable: report.markedUnreadable, orphansDeleted: report.orphansDeleted });

  it("a recorded version that is no longer current is made current again, still reads the recorded token, and is logged", async () => {
    const connection = await connected();
    const { organizationId } = connection.tenant;
    const stray = await diedBeforeCommit(organizationId, connection.secret);
    const rowBefore = await connectionOf(harness.db, organizationId);
    const auditBefore = await auditOf(harness.db, organizationId);
    const stderr = vi.spyOn(console, "error");

    const report = await reconcile();

    expect(report.restoredCurrent).toBeGreaterThanOrEqual(1);
    expect(await backend.state(organizationId)).toMatchObject({ current: connection.secret.version, deleted: false });
    expect(await backend.store().read(organizationId, connection.secret)).toBe(connection.token);
    // The record was right all along: untouched, and nothing to audit.
    expect(await connectionOf(harness.db, organizationId)).toEqual(rowBefore);
    expect(await auditOf(harness.db, organizationId)).toEqual(auditBefore);
    expect(logLines(stderr)).toContainEqual(expect.objectContaining({ level: "warn", event: "buildkite.reconcile.restored_current", organizationId }));
    await expectTokenKeptSecret(harness.db, connection.token);
    await expectTokenKeptSecret(harness.db, stray.token);
    for (const line of stderr.mock.calls.flat()) expect(String(line)).not.toContain(stray.token);
  });

  it("a record whose secret was deleted behind its back, still recoverable, gets it back", async () => {
    const connection = await connected();
    const { organizationId } = connection.tenant;
    await backend.store().deleteSecret(organizationId, connection.secret.ref);
    const rowBefore = await connectionOf(harness.db, organizationId);

    const report = await reconcile();

    expect(report.restoredCurrent).toBeGreaterThanOrEqual(1);
    expect(await connectionOf(harness.db, organizationId)).toEqual(rowBefore);
    expect(await backend.store().read(organizationId, connection.secret)).toBe(connection.token);
    expect(await backend.state(organizationId)).toMatchObject({ current: connection.secret.version, deleted: false });
  });

  it("a record whose secret is gone for good → needs_attention secret_unreadable, audited as the scheduler", async () => {
    const connection = await connected();
    const { organizationId } = connection.tenant;
    await backend.store().deleteSecret(organizationId, connection.secret.ref);
    // Past the recovery window: the store no longer has it at all.
    if (backend.name === "aws") harness.secretsManager.purgeDeleted();
    else await backend.store().purgeDeleted(new Date(Date.now() + 31 * 24 * 60 * 60 * 1000));
    const rowBefore = await connectionOf(harness.db, organizationId);

    const report = await reconcile();

    expect(report.markedUnreadable).toBeGreaterThanOrEqual(1);
    expect(await connectionOf(harness.db, organizationId)).toMatchObject({
      status: "needs_attention",
      attentionCode: "secret_unreadable",
      attentionDetail: { code: "secret_unreadable", reason: "not_found" },
      revision: rowBefore.revision + 1,
      secretRef: rowBefore.secretRef,
      secretVersion: rowBefore.secretVersion,
      lastVerifiedAt: rowBefore.lastVerifiedAt,
    });
    const events = await auditOf(harness.db, organizationId);
    expect(events.at(-1)).toMatchObject({
      actorType: "scheduler",
      actorUserId: null,
      action: "buildkite.verify",
      outcome: "success",
      code: "needs_attention",
      detail: {
        tokenUuid: connection.uuid,
        tokenLastFour: connection.token.slice(-4),
        statusFrom: "connected",
        statusTo: "needs_attention",
        reason: "secret_unreadable",
      },
    });
    await expectTokenKeptSecret(harness.db, connection.token);
  });

  it("a secret no record refers to is deleted (aws: scheduled with the recovery window; local: set aside), and logged", async () => {
    const tenant = await tenants.create();
    const orphan = await diedBeforeCommit(tenant.organizationId, null);
    const stderr = vi.spyOn(console, "error");

    const report = await reconcile();

    expect(report.orphansDeleted).toBeGreaterThanOrEqual(1);
    expect(await harness.db.buildkiteConnection.count({ where: { organizationId: tenant.organizationId } })).toBe(0);
    expect((await backend.store().list()).filter((secret) => secret.organizationId === tenant.organizationId && !secret.deleted)).toEqual([]);
    if (backend.name === "aws") {
      expect(await backend.state(tenant.organizationId)).toMatchObject({ deleted: true });
      const [secret] = harness.secretsManager.secrets().filter((candidate) => candidate.arn === orphan.written.ref);
      expect(Date.parse(secret!.deletionDate!) - Date.parse(secret!.deletedDate!)).toBe(RECOVERY_DAYS.default * DAY_MS);
    } else {
      expect(await backend.state(tenant.organizationId)).toBeNull();
      expect(await backend.secretCount(tenant.organizationId)).toBe(0);
    }
    expect(logLines(stderr)).toContainEqual(
      expect.objectContaining({ level: "warn", event: "buildkite.reconcile.orphan_deleted", organizationId: tenant.organizationId, backend: backend.name }),
    );
    for (const line of stderr.mock.calls.flat()) expect(String(line)).not.toContain(orphan.token);
  });

  it("organisations whose lock is held (a change in flight) are skipped, not repaired or deleted; the next run does both", async () => {
    const connection = await connected();
    const mid = connection.tenant.organizationId;
    const stray = await diedBeforeCommit(mid, connection.secret);
    const firstConnect = await tenants.create();
    const inFlight = await diedBeforeCommit(firstConnect.organizationId, null);
    const leases = [await holdLock(mid), await holdLock(firstConnect.organizationId)];

    const whileHeld = await reconcile();

    expect(whileHeld.skipped).toBeGreaterThanOrEqual(2);
    expect(await backend.state(mid)).toMatchObject({ current: stray.written.version, deleted: false });
    expect(await backend.state(firstConnect.organizationId)).toMatchObject({ current: inFlight.written.version, deleted: false });
    expect(await backend.store().read(firstConnect.organizationId, inFlight.written)).toBe(inFlight.token);

    for (const lease of leases) await lease.release();
    const afterwards = await reconcile();

    expect(afterwards.restoredCurrent).toBeGreaterThanOrEqual(1);
    expect(afterwards.orphansDeleted).toBeGreaterThanOrEqual(1);
    expect(await backend.state(mid)).toMatchObject({ current: connection.secret.version, deleted: false });
    expect((await backend.store().list()).filter((secret) => secret.organizationId === firstConnect.organizationId && !secret.deleted)).toEqual([]);
  });

  it("a second reconcile right after the first changes nothing", async () => {
    const restored = await connected();
    await diedBeforeCommit(restored.tenant.organizationId, restored.secret);
    const lost = await connected();
    await backend.store().deleteSecret(lost.tenant.organizationId, lost.secret.ref);
    const orphanTenant = await tenants.create();
    await diedBeforeCommit(orphanTenant.organizationId, null);
    const healthy = await connected();
    const ids = [restored, lost, healthy].map((connection) => connection.tenant.organizationId).concat(orphanTenant.organizationId);
    const snapshot = async () => ({
      rows: await harness.db.buildkiteConnection.findMany({ where: { organizationId: { in: ids } }, orderBy: { organizationId: "asc" } }),
      states: await Promise.all(ids.map((id) => backend.state(id))),
      audit: await Promise.all(ids.map((id) => auditOf(harness.db, id))),
    });

    const first = await reconcile();
    const afterFirst = await snapshot();
    const since = harness.secretsManager.requests.length;
    const second = await reconcile();

    expect(first.restoredCurrent + first.markedUnreadable + first.orphansDeleted).toBeGreaterThanOrEqual(3);
    expect(zeroChanges(second)).toEqual({ restoredCurrent: 0, markedUnreadable: 0, orphansDeleted: 0 });
    expect(await snapshot()).toEqual(afterFirst);
    if (backend.name === "aws") {
      const writes = harness.secretsManager.requests.slice(since).filter((request) => !["DescribeSecret", "GetSecretValue", "ListSecrets"].includes(request.operation));
      expect(writes.map((request) => request.operation)).toEqual([]);
    }
  });

  it.runIf(backend.name === "local")("purgeDeleted removes a set-aside secret only once the recovery window has passed", async () => {
    const tenant = await tenants.create();
    await diedBeforeCommit(tenant.organizationId, null);
    const deletedAt = Date.now();

    const setAside = await reconcile();
    const withinWindow = await reconcile({ now: () => new Date(deletedAt + RECOVERY_DAYS.default * DAY_MS - MINUTE_MS) });
    const pastWindow = await reconcile({ now: () => new Date(Date.now() + RECOVERY_DAYS.default * DAY_MS + MINUTE_MS) });
    const again = await reconcile({ now: () => new Date(Date.now() + RECOVERY_DAYS.default * DAY_MS + MINUTE_MS) });

    // Each test has a data directory of its own, so these counts are this test's alone.
    expect(setAside).toMatchObject({ orphansDeleted: 1, purged: 0 });
    expect(withinWindow.purged).toBe(0);
    expect(pastWindow.purged).toBe(1);
    expect(again.purged).toBe(0);
  });
});
