import { writeFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { personActor, SCHEDULER, type Actor } from "@/lib/audit/actor";
import { createBuildkiteClient } from "@/lib/buildkite/client";
import { REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import type { ConnectionFailure } from "@/lib/integrations/buildkite/failures";
import { findConnectionForChange } from "@/lib/integrations/buildkite/repository";
import { reverifyConnection } from "@/lib/integrations/buildkite/reverify";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";
import type { BuildkiteScenario } from "../support/buildkite-stand-in";
import {
  accessTokenChecks,
  at,
  connectFresh,
  connectionOf,
  DAY_MS,
  expectTokenKeptSecret,
  goodScenario,
  localSecretFile,
  MINUTE_MS,
  requestsWith,
  reverify,
  tenantTracker,
  watchSecret,
  type ConnectedTenant,
} from "../support/connection-checks";
import { gateSecretStore } from "../support/gated-secret-store";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend } from "../support/secret-backends";
import { auditOf, freshToken, waitFor } from "../support/tenants";

/**
 * Re-verifying a connection ("Verify now" and the schedule's check) against real parts: the stored token is read from
 * the real store, Buildkite's answers come from the stand-in on a real port, the verdict lands in Postgres. Every
 * case also checks that verifying never writes the secret and never puts the token in the database.
 */

const INTERVAL_MINUTES = 60;
/** check-timing.ts: a regular check is never less than a minute after the last one, so it may be a minute late. */
const MIN_GAP_MS = MINUTE_MS;
/** check-timing.ts: retries after an inconclusive check carry up to 30 s of jitter. */
const RETRY_JITTER_MS = 30_000;
const RETRY_AFTER_UNREACHABLE_MS = 15 * MINUTE_MS;

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("reverifyConnection with the $name secret store", (backend) => {
  const cleanups = freshBackendPerTest(backend);

  const deps = (overrides: Partial<ConnectionDependencies> = {}) =>
    harness.deps(backend.store(), { verifyIntervalMinutes: INTERVAL_MINUTES, ...overrides });

  /** A connection made an hour ago (by the clock the test passes on), so a check now visibly moves its dates. */
  async function connectedAnHourAgo(now: Date, scenario = goodScenario()) {
    const tenant = await tenants.create();
    const connectedAt = at(now, -60 * MINUTE_MS);
    const connection = await connectFresh(harness, deps({ now: () => connectedAt }), tenant, scenario);
    const row = await connectionOf(harness.db, tenant.organizationId);
    const store = await watchSecret(harness, backend, tenant.organizationId);
    return { ...connection, connectedAt, row, store };
  }

  /** Re-registers the connected token at the stand-in (same Buildkite UUID), answering like `scenario` from now on. */
  const answerAs = (connection: ConnectedTenant, scenario: BuildkiteScenario) =>
    harness.buildkite.register(connection.token, scenario.kind === "ok" ? { ...scenario, uuid: connection.uuid } : scenario);

  const newAudit = async (organizationId: string, seen: number) => (await auditOf(harness.db, organizationId)).slice(seen);

  it("a good connection verifies: passed, dates move, next check within an interval; a person's verify is audited, an uneventful scheduled one is not", async () => {
    const now = new Date();
    const connection = await connectedAnHourAgo(now);
    const { tenant, token, uuid } = connection;
    const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;

    const result = await reverify(deps({ now: () => now }), tenant);

    expect(result).toEqual({ ok: true, outcome: "passed", status: "connected", statusChanged: false, attention: null });
    const row = await connectionOf(harness.db, tenant.organizationId);
    expect(row).toMatchObject({
      status: "connected",
      attentionCode: null,
      attentionDetail: null,
      lastVerifiedAt: now,
      lastCheckedAt: now,
      lastCheckOutcome: "passed",
      unreachableSince: null,
      revision: connection.row.revision + 1,
      tokenUuid: uuid,
      secretRef: connection.row.secretRef,
      secretVersion: connection.row.secretVersion,
    });
    expect(row.nextVerifyAt.getTime()).toBeGreaterThan(now.getTime());
    expect(row.nextVerifyAt.getTime()).toBeLessThanOrEqual(now.getTime() + INTERVAL_MINUTES * MINUTE_MS + MIN_GAP_MS);
    const events = await newAudit(tenant.organizationId, auditBefore);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: "person",
      actorUserId: tenant.actor.userId,
      actorEmail: tenant.actor.email,
      action: "buildkite.verify",
      outcome: "success",
      code: "passed",
      detail: { tokenUuid: uuid, tokenLastFour: token.slice(-4), statusFrom: "connected", statusTo: "connected" },
    });

    // The schedule's check a little later: the record moves on, the audit log does not.
    const later = at(now, 5 * MINUTE_MS);
    const scheduled = await reverify(deps({ now: () => later }), tenant, SCHEDULER);
    expect(scheduled).toEqual({ ok: true, outcome: "passed", status: "connected", statusChanged: false, attention: null });
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({ lastCheckedAt: later, lastVerifiedAt: later, revision: row.revision + 1 });
    expect(await newAudit(tenant.organizationId, auditBefore)).toHaveLength(1);

    await connection.store.expectUntouched();
    await expectTokenKeptSecret(harness.db, token, result, scheduled);
  });

  it("a verify asks Buildkite exactly two things about the stored token: the token itself and the connected organisation", async () => {
    const connection = await connectedAnHourAgo(new Date());
    const since = harness.buildkite.requests.length;

    await reverify(deps(), connection.tenant);

    expect(requestsWith(harness.buildkite, connection.token, since).sort()).toEqual(["GET /v2/access-token", "GET /v2/organizations/acme-inc"]);
  });

  it("revoked at Buildkite → needs_attention token_rejected, audited connected → needs_attention; lastVerifiedAt stays", async () => {
    const now = new Date();
    const connection = await connectedAnHourAgo(now);
    const { tenant, token, uuid } = connection;
    const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;
    harness.buildkite.revoke(token);

    const result = await reverify(deps({ now: () => now }), tenant);

    expect(result).toEqual({ ok: true, outcome: "needs_attention", status: "needs_attention", statusChanged: true, attention: { code: "token_rejected" } });
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({
      status: "needs_attention",
      attentionCode: "token_rejected",
      attentionDetail: { code: "token_rejected" },
      lastVerifiedAt: connection.connectedAt,
      lastCheckedAt: now,
      lastCheckOutcome: "needs_attention",
      unreachableSince: null,
      tokenUuid: uuid,
    });
    const events = await newAudit(tenant.organizationId, auditBefore);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: "person",
      action: "buildkite.verify",
      outcome: "success",
      code: "needs_attention",
      detail: { tokenUuid: uuid, tokenLastFour: token.slice(-4), statusFrom: "connected", statusTo: "needs_attention", reason: "token_rejected" },
    });
    await connection.store.expectUntouched();
    await expectTokenKeptSecret(harness.db, token, result);
  });

  it("the schedule audits a status change as the scheduler, and not the same verdict again", async () => {
    const connection = await connectedAnHourAgo(new Date());
    const { tenant, token } = connection;
    const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;
    harness.buildkite.revoke(token);

    const first = await reverify(deps(), tenant, SCHEDULER);
    const second = await reverify(deps(), tenant, SCHEDULER);

    expect(first).toMatchObject({ ok: true, outcome: "needs_attention", statusChanged: true });
    expect(second).toMatchObject({ ok: true, outcome: "needs_attention", statusChanged: false });
    const events = await newAudit(tenant.organizationId, auditBefore);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: "scheduler",
      actorUserId: null,
      actorEmail: null,
      action: "buildkite.verify",
      code: "needs_attention",
      detail: { statusFrom: "connected", statusTo: "needs_attention", reason: "token_rejected" },
    });
    await connection.store.expectUntouched();
  });

  it("a token Buildkite refuses and then accepts again goes needs_attention → connected, with the attention cleared", async () => {
    const now = new Date();
    const connection = await connectedAnHourAgo(now);
    const { tenant } = connection;
    const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;

    answerAs(connection, { kind: "unauthorized" });
    const refused = await reverify(deps({ now: () => now }), tenant);
    answerAs(connection, goodScenario());
    const later = at(now, MINUTE_MS);
    const accepted = await reverify(deps({ now: () => later }), tenant);

    expect(refused).toMatchObject({ ok: true, outcome: "needs_attention", attention: { code: "token_rejected" } });
    expect(accepted).toEqual({ ok: true, outcome: "passed", status: "connected", statusChanged: true, attention: null });
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({
      status: "connected",
      attentionCode: null,
      attentionDetail: null,
      lastVerifiedAt: later,
      lastCheckOutcome: "passed",
    });
    const events = await newAudit(tenant.organizationId, auditBefore);
    expect(events.map((event) => [event.code, (event.detail as { statusFrom: string }).statusFrom, (event.detail as { statusTo: string }).statusTo])).toEqual([
      ["needs_attention", "connected", "needs_attention"],
      ["passed", "needs_attention", "connected"],
    ]);
    await connection.store.expectUntouched();
    await expectTokenKeptSecret(harness.db, connection.token, refused, accepted);
  });

  it("a required scope removed at Buildkite → needs_attention missing_scopes naming it, scopes refreshed, and not 'last verified'", async () => {
    const now = new Date();
    const connection = await connectedAnHourAgo(now);
    answerAs(connection, goodScenario({ scopes: REQUIRED_SCOPE_NAMES.filter((scope) => scope !== "read_builds") }));

    const result = await reverify(deps({ now: () => now }), connection.tenant);

    expect(result).toEqual({
      ok: true,
      outcome: "needs_attention",
      status: "needs_attention",
      statusChanged: true,
      attention: { code: "missing_scopes", missingScopes: ["read_builds"] },
    });
    const row = await connectionOf(harness.db, connection.tenant.organizationId);
    expect(row).toMatchObject({
      status: "needs_attention",
      attentionCode: "missing_scopes",
      attentionDetail: { code: "missing_scopes", missingScopes: ["read_builds"] },
      scopes: [...REQUIRED_SCOPE_NAMES].filter((scope) => scope !== "read_builds").sort(),
      lastCheckedAt: now,
      lastCheckOutcome: "needs_attention",
    });
    // prisma/schema.prisma: lastVerifiedAt is the "Last check that passed" (the card's "Last verified"). This check
    // did not pass; a revoked token or a lost organisation leaves it alone, and so should a missing scope.
    expect(row.lastVerifiedAt).toEqual(connection.connectedAt);
    await connection.store.expectUntouched();
  });

  it("the organisation removed from the token → needs_attention organization_unreachable naming it", async () => {
    const now = new Date();
    const connection = await connectedAnHourAgo(now);
    answerAs(connection, goodScenario({ organizations: [] }));

    const result = await reverify(deps({ now: () => now }), connection.tenant);

    expect(result).toEqual({
      ok: true,
      outcome: "needs_attention",
      status: "needs_attention",
      statusChanged: true,
      attention: { code: "organization_unreachable", organization: "acme-inc" },
    });
    expect(await connectionOf(harness.db, connection.tenant.organizationId)).toMatchObject({
      status: "needs_attention",
      attentionCode: "organization_unreachable",
      attentionDetail: { code: "organization_unreachable", organization: "acme-inc" },
      buildkiteOrgSlug: "acme-inc",
      lastVerifiedAt: connection.connectedAt,
      lastCheckOutcome: "needs_attention",
    });
    await connection.store.expectUntouched();
  });

  it("a token that now expires within 7 days → needs_attention expires_soon with the date, and the expiry recorded", async () => {
    const connection = await connectedAnHourAgo(new Date());
    answerAs(connection, goodScenario({ expiresOffsetMs: 3 * DAY_MS, dateFormat: "iso" }));
    const before = Date.now();

    // The stand-in dates the expiry from the wall clock, so this check uses it too.
    const result = await reverify(deps(), connection.tenant);

    expect(result).toMatchObject({ ok: true, outcome: "needs_attention", status: "needs_attention", attention: { code: "expires_soon" } });
    const row = await connectionOf(harness.db, connection.tenant.organizationId);
    expect(row.attentionCode).toBe("expires_soon");
    expect(Math.abs(row.tokenExpiresAt!.getTime() - (before + 3 * DAY_MS))).toBeLessThan(5_000);
    expect(row.attentionDetail).toEqual({ code: "expires_soon", expiresAt: row.tokenExpiresAt!.toISOString() });
    await connection.store.expectUntouched();
  });

  describe("a stored secret that cannot be read → needs_attention secret_unreadable, without asking Buildkite", () => {
    type Case = { label: string; reason: string; only?: "aws" | "local"; breakIt(connection: ConnectedTenant): Promise<void> };
    const cases: Case[] = [
      {
        label: "deleted from the store (local: set aside; aws: scheduled for deletion)",
        reason: "not_found",
        breakIt: (connection) => backend.store().deleteSecret(connection.tenant.organizationId, connection.secret.ref),
      },
      {
        label: "its file overwritten with something that is not a secret file",
        reason: "corrupt",
        only: "local",
        breakIt: async (connection) => writeFile(await localSecretFile(connection.tenant.organizationId), "{ not json\n"),
      },
      {
        label: "AccessDeniedException on GetSecretValue",
        reason: "access_denied",
        only: "aws",
        breakIt: async () => harness.secretsManager.injectFault({ operation: "GetSecretValue", error: "AccessDeniedException" }),
      },
    ];

    it.each(cases.filter((testCase) => !testCase.only || testCase.only === backend.name))("$label", async ({ reason, breakIt }) => {
      const now = new Date();
      const connection = await connectedAnHourAgo(now);
      const { tenant, token } = connection;
      const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;
      await breakIt(connection);
      const since = harness.buildkite.requests.length;

      const result = await reverify(deps({ now: () => now }), tenant);

      expect(result).toEqual({
        ok: true,
        outcome: "needs_attention",
        status: "needs_attention",
        statusChanged: true,
        attention: { code: "secret_unreadable", reason },
      });
      expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({
        status: "needs_attention",
        attentionCode: "secret_unreadable",
        attentionDetail: { code: "secret_unreadable", reason },
        lastVerifiedAt: connection.connectedAt,
        secretRef: connection.secret.ref,
        secretVersion: connection.secret.version,
      });
      expect(requestsWith(harness.buildkite, token, since)).toEqual([]);
      const events = await newAudit(tenant.organizationId, auditBefore);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ code: "needs_attention", detail: { statusFrom: "connected", statusTo: "needs_attention", reason: "secret_unreadable" } });
      await expectTokenKeptSecret(harness.db, token, result);
    });
  });

  it.runIf(backend.name === "aws")("a throttled secret store is no verdict: unreachable, status unchanged, a retry soon", async () => {
    const now = new Date();
    const connection = await connectedAnHourAgo(now);
    const { tenant, token } = connection;
    harness.secretsManager.injectFault({ operation: "GetSecretValue", error: "ThrottlingException" });
    const since = harness.buildkite.requests.length;

    const result = await reverify(deps({ now: () => now }), tenant);

    expect(result).toEqual({
      ok: true,
      outcome: "unreachable",
      status: "connected",
      statusChanged: false,
      attention: null,
      unreachable: { code: "secret_unreadable", reason: "throttled" },
    });
    const row = await connectionOf(harness.db, tenant.organizationId);
    expect(row).toMatchObject({
      status: "connected",
      attentionCode: null,
      lastCheckOutcome: "unreachable",
      lastCheckedAt: now,
      lastVerifiedAt: connection.connectedAt,
      unreachableSince: now,
    });
    expect(row.nextVerifyAt.getTime() - now.getTime()).toBeGreaterThanOrEqual(RETRY_AFTER_UNREACHABLE_MS);
    expect(row.nextVerifyAt.getTime() - now.getTime()).toBeLessThanOrEqual(RETRY_AFTER_UNREACHABLE_MS + RETRY_JITTER_MS);
    expect(requestsWith(harness.buildkite, token, since)).toEqual([]);
    harness.secretsManager.clearFaults();
    await connection.store.expectUntouched();
  });

  it.runIf(backend.name === "aws")("a day of a failing secret store is blamed on the secret store, not on Buildkite", async () => {
    const t0 = new Date();
    const connection = await connectedAnHourAgo(t0);
    const { tenant, token } = connection;
    // A 500 is as transient as throttling, and the SDK backs off from it faster.
    harness.secretsManager.injectFault({ operation: "GetSecretValue", error: "InternalServiceError" });
    const since = harness.buildkite.requests.length;

    await reverify(deps({ now: () => t0 }), tenant, SCHEDULER);
    const dayLater = await reverify(deps({ now: () => at(t0, DAY_MS + MINUTE_MS) }), tenant, SCHEDULER);

    // Buildkite was never asked anything: the admin must not be sent to check the network path to Buildkite
    // (messages.ts: "Checks have not reached Buildkite … Check the server's network access to Buildkite").
    expect(requestsWith(harness.buildkite, token, since)).toEqual([]);
    expect(dayLater).toMatchObject({
      ok: true,
      status: "needs_attention",
      attention: { code: "secret_unreadable", since: t0.toISOString(), reason: "unavailable" },
    });
    harness.secretsManager.clearFaults();
  });

  describe("Buildkite not answering is no verdict: outcome unreachable, status unchanged, a retry scheduled", () => {
    type Case = {
      label: string;
      scenario: BuildkiteScenario;
      unreachable: ConnectionFailure;
      impatient?: boolean;
      retryAfterSeconds?: number;
      minDelayMs: number;
    };
    const cases: Case[] = [
      {
        label: "503 (twice, with the client's retry)",
        scenario: { kind: "server_error", status: 503 },
        unreachable: { code: "buildkite_unreachable", reason: "unavailable" },
        minDelayMs: RETRY_AFTER_UNREACHABLE_MS,
      },
      {
        label: "no answer before the timeout",
        scenario: { kind: "hang" },
        unreachable: { code: "buildkite_unreachable", reason: "timeout" },
        impatient: true,
        minDelayMs: RETRY_AFTER_UNREACHABLE_MS,
      },
      {
        label: "connection reset (twice)",
        scenario: { kind: "connection_reset" },
        unreachable: { code: "buildkite_unreachable", reason: "unreachable" },
        minDelayMs: RETRY_AFTER_UNREACHABLE_MS,
      },
      {
        label: "429 with a 300 s reset",
        scenario: { kind: "rate_limited", resetSeconds: 300 },
        unreachable: { code: "rate_limited", retryAfterSeconds: 300 },
        retryAfterSeconds: 300,
        minDelayMs: 300_000,
      },
    ];

    it.each(cases)("$label", async ({ scenario, unreachable, impatient, retryAfterSeconds, minDelayMs }) => {
      const now = new Date();
      const connection = await connectedAnHourAgo(now);
      const { tenant, token } = connection;
      const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;
      answerAs(connection, scenario);
      const overrides: Partial<ConnectionDependencies> = { now: () => now };
      if (impatient) {
        const client = createBuildkiteClient({ baseUrl: harness.buildkite.url, connectTimeoutMs: 300, timeoutMs: 400 });
        cleanups.push(() => client.close());
        overrides.buildkite = client;
      }

      const result = await reverify(deps(overrides), tenant, SCHEDULER);

      expect(result).toEqual({
        ok: true,
        outcome: "unreachable",
        status: "connected",
        statusChanged: false,
        attention: null,
        unreachable,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      });
      const row = await connectionOf(harness.db, tenant.organizationId);
      expect(row).toMatchObject({
        status: "connected",
        attentionCode: null,
        lastCheckOutcome: "unreachable",
        lastCheckedAt: now,
        lastVerifiedAt: connection.connectedAt,
        unreachableSince: now,
      });
      const delay = row.nextVerifyAt.getTime() - now.getTime();
      expect(delay).toBeGreaterThanOrEqual(minDelayMs);
      expect(delay).toBeLessThanOrEqual(minDelayMs + RETRY_JITTER_MS);
      // Nothing changed, so the schedule's check leaves no audit event.
      expect(await newAudit(tenant.organizationId, auditBefore)).toEqual([]);
      await connection.store.expectUntouched();
      await expectTokenKeptSecret(harness.db, token, result);
    });
  });

  it("a day of unreachable checks → needs_attention buildkite_unreachable since the first; a passing check clears it", async () => {
    const t0 = new Date();
    const connection = await connectedAnHourAgo(t0);
    const { tenant } = connection;
    const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;
    answerAs(connection, { kind: "server_error", status: 503 });
    const checkAt = (time: Date) => reverify(deps({ now: () => time }), tenant, SCHEDULER);

    const first = await checkAt(t0);
    const halfDay = await checkAt(at(t0, 12 * 60 * MINUTE_MS));
    const justUnder = await checkAt(at(t0, DAY_MS - MINUTE_MS));
    expect([first, halfDay, justUnder].map((result) => result.ok && [result.outcome, result.status])).toEqual([
      ["unreachable", "connected"],
      ["unreachable", "connected"],
      ["unreachable", "connected"],
    ]);
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({ status: "connected", unreachableSince: t0 });

    const dayLater = at(t0, DAY_MS + MINUTE_MS);
    const overDay = await checkAt(dayLater);
    expect(overDay).toEqual({
      ok: true,
      outcome: "unreachable",
      status: "needs_attention",
      statusChanged: true,
      attention: { code: "buildkite_unreachable", since: t0.toISOString(), reason: expect.any(String) },
      unreachable: { code: "buildkite_unreachable", reason: "unavailable" },
    });
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({
      status: "needs_attention",
      attentionCode: "buildkite_unreachable",
      attentionDetail: { code: "buildkite_unreachable", since: t0.toISOString() },
      unreachableSince: t0,
      lastCheckOutcome: "unreachable",
      lastVerifiedAt: connection.connectedAt,
    });

    answerAs(connection, goodScenario());
    const recoveredAt = at(dayLater, 15 * MINUTE_MS);
    const recovered = await checkAt(recoveredAt);
    expect(recovered).toEqual({ ok: true, outcome: "passed", status: "connected", statusChanged: true, attention: null });
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({
      status: "connected",
      attentionCode: null,
      attentionDetail: null,
      unreachableSince: null,
      lastVerifiedAt: recoveredAt,
      lastCheckOutcome: "passed",
    });

    // Only the two status changes were audited, both as the scheduler.
    const events = await newAudit(tenant.organizationId, auditBefore);
    expect(events.map((event) => [event.actorType, event.code, event.detail])).toEqual([
      [
        "scheduler",
        "unreachable",
        expect.objectContaining({ statusFrom: "connected", statusTo: "needs_attention", reason: "buildkite_unreachable" }),
      ],
      ["scheduler", "passed", expect.objectContaining({ statusFrom: "needs_attention", statusTo: "connected" })],
    ]);
    await connection.store.expectUntouched();
  });

  /** Connects, revokes that token at Buildkite, and starts a verify that is held until a replacement is connected. */
  async function verifyRacingAReplacement(actor?: Actor) {
    const gated = gateSecretStore(backend.store());
    const tenant = await tenants.create();
    const gatedDeps = deps({ secrets: gated.store });
    const old = await connectFresh(harness, gatedDeps, tenant);
    // The old token is revoked: a verdict about it would say "needs attention".
    harness.buildkite.revoke(old.token);
    const replacement = freshToken(harness.buildkite, goodScenario());
    let replaced = false;
    gated.holdReadsOf(old.token, () => waitFor(() => replaced, 5_000));
    const auditBefore = (await auditOf(harness.db, tenant.organizationId)).length;

    const verifying = reverify(gatedDeps, tenant, actor);
    const reconnect = await connectBuildkite(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: replacement.token },
      gatedDeps,
    );
    expect(reconnect.ok).toBe(true);
    const afterReconnect = await connectionOf(harness.db, tenant.organizationId);
    replaced = true;
    const result = await verifying;
    // The stale check did ask Buildkite about the old token (that is how it got its verdict).
    expect(accessTokenChecks(harness.buildkite, old.token)).toBeGreaterThanOrEqual(2);
    await expectTokenKeptSecret(harness.db, old.token, result);
    await expectTokenKeptSecret(harness.db, replacement.token, result);
    return { tenant, replacement, afterReconnect, result, events: await newAudit(tenant.organizationId, auditBefore) };
  }

  it("a scheduled check whose connection was replaced while it checked drops its verdict: the new connection is untouched", async () => {
    const { tenant, replacement, afterReconnect, result, events } = await verifyRacingAReplacement(SCHEDULER);

    expect(result).toEqual({ ok: false, failure: { code: "busy" } });
    expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(afterReconnect);
    expect(afterReconnect).toMatchObject({ status: "connected", tokenUuid: replacement.uuid, attentionCode: null });
    expect(events.map((event) => [event.action, event.outcome])).toEqual([["buildkite.connect", "success"]]);
  });

  it("a person's verify whose connection was replaced while it checked answers about the new token instead", async () => {
    const { tenant, replacement, result, events } = await verifyRacingAReplacement();

    expect(result).toMatchObject({ ok: true, outcome: "passed", status: "connected" });
    expect(await connectionOf(harness.db, tenant.organizationId)).toMatchObject({ status: "connected", tokenUuid: replacement.uuid });
    expect(events.map((event) => [event.action, event.outcome, event.code])).toEqual([
      ["buildkite.connect", "success", null],
      ["buildkite.verify", "success", "passed"],
    ]);
  });

  it("two verifies at once never both write a verdict over each other: the record moves once per verdict written", async () => {
    const connection = await connectedAnHourAgo(new Date());
    const { tenant } = connection;

    const results = await Promise.all([reverify(deps(), tenant), reverify(deps(), tenant, SCHEDULER)]);

    const written = results.filter((result) => result.ok).length;
    expect(written).toBeGreaterThanOrEqual(1);
    for (const result of results) if (!result.ok) expect(result.failure).toEqual({ code: "busy" });
    expect((await connectionOf(harness.db, tenant.organizationId)).revision).toBe(connection.row.revision + written);
    await connection.store.expectUntouched();
  });

  it("a scheduled check that finds a change under way leaves it alone, without waiting; the next run checks it", async () => {
    const connection = await connectedAnHourAgo(new Date());
    const { tenant } = connection;
    const held = await harness.locks.acquire(tenant.organizationId);
    expect(held).not.toBeNull();
    let result: Awaited<ReturnType<typeof reverify>>;
    try {
      result = await reverify(deps(), tenant, SCHEDULER);
      expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(connection.row);
    } finally {
      await held!.release();
    }
    expect(result).toEqual({ ok: false, failure: { code: "busy" } });

    expect(await reverify(deps(), tenant, SCHEDULER)).toMatchObject({ ok: true, outcome: "passed" });
    expect((await connectionOf(harness.db, tenant.organizationId)).revision).toBe(connection.row.revision + 1);
  });

  it("a scheduled check does not wait for a change whose transaction has written the record and waits for its read-back", async () => {
    const connection = await connectedAnHourAgo(new Date());
    const { tenant } = connection;
    const held = await harness.locks.acquire(tenant.organizationId);
    expect(held).not.toBeNull();
    // A connect or rotate between its record's write and its commit (replace-secret.ts): the row is locked by its
    // transaction. Were the verdict to wait for the row, it would wait for this gate, which opens only after it.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    const change = harness.db
      .$transaction(async (tx) => {
        await tx.buildkiteConnection.updateMany({ where: { organizationId: tenant.organizationId }, data: { revision: { increment: 1 } } });
        wrote();
        await gate;
        throw new Error("the read-back failed: roll back");
      })
      .catch(() => undefined);
    try {
      await written;
      expect(await reverify(deps(), tenant, SCHEDULER)).toEqual({ ok: false, failure: { code: "busy" } });
    } finally {
      open();
      await change;
      await held!.release();
    }
    expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(connection.row);
  });

  it("a scheduled check given a record read before a rotation drops its verdict: the rotated connection is untouched", async () => {
    const connection = await connectedAnHourAgo(new Date());
    const { tenant } = connection;
    // What the schedule read with its batch of claims, a moment before the check.
    const readEarlier = await findConnectionForChange(harness.db, tenant.organizationId);
    const next = freshToken(harness.buildkite, goodScenario());
    expect(await rotateBuildkiteToken({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token: next.token, revokePrevious: false }, deps())).toMatchObject({ ok: true });
    const rotated = await connectionOf(harness.db, tenant.organizationId);

    const result = await reverifyConnection({ organizationId: tenant.organizationId, actor: SCHEDULER }, deps(), { record: readEarlier });

    expect(result).toEqual({ ok: false, failure: { code: "busy" } });
    expect(await connectionOf(harness.db, tenant.organizationId)).toEqual(rotated);
  });

  it("an organisation with no connection → not_connected, audited as a failed verify", async () => {
    const tenant = await tenants.create();

    const result = await reverify(deps(), tenant);

    expect(result).toEqual({ ok: false, failure: { code: "not_connected" } });
    expect(await auditOf(harness.db, tenant.organizationId)).toMatchObject([{ action: "buildkite.verify", outcome: "failure", code: "not_connected" }]);
    await backend.expectNothingWritten(tenant.organizationId);
  });
});
