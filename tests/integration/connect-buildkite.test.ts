import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { createBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import { connectBuildkite, type ConnectResult } from "@/lib/integrations/buildkite/connect";
import type { ConnectionFailure } from "@/lib/integrations/buildkite/failures";
import type { SecretRef, SecretStore } from "@/lib/secrets/store";
import { ACME_ORGANIZATION, BUILDKITE_FIXTURES, BUILDKITE_TOKENS, FIXTURE_OWNER, SEVERAL_ORGANIZATIONS } from "../support/buildkite-fixtures";
import type { BuildkiteScenario } from "../support/buildkite-stand-in";
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, freshBackendPerTest, localBackend } from "../support/secret-backends";
import {
  auditOf as auditRows,
  connectionsOf as connectionRows,
  createTenant as newTenant,
  dumpedRows as allRows,
  freshToken as newToken,
  refuseConnectionWrites as refuseWrites,
  type Tenant,
} from "../support/tenants";

/**
 * The connect use case end to end against real parts: the real Buildkite client against the Buildkite stand-in on
 * a real port, the real AWS SDK against the Secrets Manager stand-in (or the real local store in a temp dir), and a
 * real Postgres. Faults are real too: stand-in faults, an unusable data directory, a Postgres trigger.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const SORTED_REQUIRED_SCOPES = [
  "read_artifacts",
  "read_build_logs",
  "read_builds",
  "read_job_env",
  "read_organizations",
  "read_pipelines",
  "read_suites",
  "read_teams",
  "read_user",
];
const REQUIRED_IN_BUILDKITE_ORDER = BUILDKITE_FIXTURES.good.kind === "ok" ? [...BUILDKITE_FIXTURES.good.scopes] : [];

const harness = setUpIntegrationHarness();
const createTenant = () => newTenant(harness.db);
const freshToken = (scenario: BuildkiteScenario) => newToken(harness.buildkite, scenario);
const connectionsOf = (organizationId: string) => connectionRows(harness.db, organizationId);
const auditOf = (organizationId: string) => auditRows(harness.db, organizationId);
const dumpedRows = () => allRows(harness.db);
const refuseConnectionWrites = (organizationId: string) => refuseWrites(harness.db, organizationId);

async function expectTokenNowhereInDatabase(token: string) {
  const rows = await dumpedRows();
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(row).not.toContain(token);
}

type ConnectOptions = { secrets: SecretStore; buildkite?: BuildkiteClient; now?: () => Date; buildkiteOrgSlug?: string };

async function connect(tenant: Tenant, token: string, options: ConnectOptions): Promise<ConnectResult> {
  let result: ConnectResult;
  try {
    result = await connectBuildkite(
      { organizationId: tenant.organizationId, actor: personActor(tenant.actor), token, buildkiteOrgSlug: options.buildkiteOrgSlug },
      harness.deps(options.secrets, { buildkite: options.buildkite ?? harness.client, now: options.now }),
    );
  } catch (error) {
    for (const text of [String(error), (error as Error)?.stack ?? "", inspect(error, { depth: 10 })]) expect(text).not.toContain(token);
    throw error;
  }
  expect(JSON.stringify(result)).not.toContain(token);
  expect(inspect(result, { depth: 10 })).not.toContain(token);
  await expectTokenNowhereInDatabase(token);
  return result;
}

function failureOf(result: ConnectResult): ConnectionFailure {
  expect(result.ok).toBe(false);
  return (result as Extract<ConnectResult, { ok: false }>).failure;
}

async function expectOneFailureAudit(tenant: Tenant, code: string, detail?: Record<string, unknown>) {
  const events = await auditOf(tenant.organizationId);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    action: "buildkite.connect",
    outcome: "failure",
    code,
    actorType: "person",
    actorUserId: tenant.actor.userId,
    actorEmail: tenant.actor.email,
  });
  if (detail) expect(events[0]!.detail).toEqual(detail);
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------------------------

describe.each([localBackend(), awsBackend(() => harness.secretsManager)])("connectBuildkite with the $name secret store", (backend) => {
  const cleanups = freshBackendPerTest(backend);

  /** Connects a good token and returns what a later failure must leave untouched. */
  async function connectedTenant() {
    const tenant = await createTenant();
    const first = freshToken(BUILDKITE_FIXTURES.good);
    const result = await connect(tenant, first.token, { secrets: backend.store() });
    expect(result.ok).toBe(true);
    const rows = await connectionsOf(tenant.organizationId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const secretState = await backend.state(tenant.organizationId);
    expect(secretState).toMatchObject({ current: row.secretVersion, deleted: false });
    return { tenant, token: first.token, row, ref: { ref: row.secretRef, version: row.secretVersion } satisfies SecretRef };
  }

  /** The previous connection is exactly as it was and its secret version still reads the old token. */
  async function expectPreviousIntact(previous: Awaited<ReturnType<typeof connectedTenant>>, options: { currentUnchanged: boolean }) {
    expect(await connectionsOf(previous.tenant.organizationId)).toEqual([previous.row]);
    expect(await backend.store().read(previous.tenant.organizationId, previous.ref)).toBe(previous.token);
    if (options.currentUnchanged) {
      expect(await backend.state(previous.tenant.organizationId)).toMatchObject({ current: previous.ref.version, deleted: false });
    }
  }

  it("connects a good token: one connected row, the token in the store at that version, one success audit event", async () => {
    const tenant = await createTenant();
    const { token, uuid } = freshToken(BUILDKITE_FIXTURES.good);
    const at = new Date(Date.now());

    const result = await connect(tenant, token, { secrets: backend.store(), now: () => at });

    expect(result).toEqual({ ok: true, organization: { slug: "acme-inc", name: "Acme Inc" }, warnings: [], health: { status: "connected" } });
    const rows = await connectionsOf(tenant.organizationId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      organizationId: tenant.organizationId,
      status: "connected",
      buildkiteOrgSlug: ACME_ORGANIZATION.slug,
      buildkiteOrgName: ACME_ORGANIZATION.name,
      tokenUuid: uuid,
      tokenDescription: "Gitar Integration",
      tokenOwnerName: FIXTURE_OWNER.name,
      tokenOwnerEmail: FIXTURE_OWNER.email,
      tokenLastFour: token.slice(-4),
      scopes: SORTED_REQUIRED_SCOPES,
      tokenExpiresAt: null,
      connectedById: tenant.actor.userId,
      connectedAt: at,
      lastVerifiedAt: at,
      attentionCode: null,
      revision: 0,
    });
    // The stand-in dates the token 7 days before the request, in Buildkite's whole-second docs format.
    expect(Math.abs(row.tokenCreatedAt!.getTime() - (at.getTime() - 7 * DAY_MS))).toBeLessThan(5_000);
    expect(row.secretRef).toMatch(backend.expectedRef(tenant.organizationId));
    expect(row.secretVersion).toMatch(/^[0-9a-f-]{36}$/);

    expect(await backend.state(tenant.organizationId)).toMatchObject({ current: row.secretVersion, deleted: false });
    expect(await backend.secretCount(tenant.organizationId)).toBe(1);
    expect(await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion })).toBe(token);

    const events = await auditOf(tenant.organizationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "buildkite.connect",
      outcome: "success",
      code: null,
      actorUserId: tenant.actor.userId,
      actorEmail: tenant.actor.email,
      detail: { buildkiteOrganization: "acme-inc", tokenUuid: uuid, tokenLastFour: token.slice(-4), scopes: REQUIRED_IN_BUILDKITE_ORDER },
    });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  describe("a token Buildkite turns down changes nothing and records one failure", () => {
    type Case = { label: string; token: () => string; expected: ConnectionFailure; detail?: (token: string) => Record<string, unknown> };
    const cases: Case[] = [
      { label: "unknown token", token: () => `bkua_MTA.${randomBytes(18).toString("hex")}`, expected: { code: "token_rejected" } },
      { label: "token Buildkite says has expired", token: () => BUILDKITE_TOKENS.expired, expected: { code: "token_rejected" } },
      { label: "plain 403", token: () => BUILDKITE_TOKENS.forbidden, expected: { code: "token_forbidden" } },
      {
        label: "403 naming a scope",
        token: () => freshToken({ kind: "forbidden", missingScope: "read_builds" }).token,
        expected: { code: "token_forbidden", scope: "read_builds" },
      },
      { label: "rate limited", token: () => BUILDKITE_TOKENS.rateLimited, expected: { code: "rate_limited", retryAfterSeconds: 42 } },
      {
        label: "503 twice",
        token: () => BUILDKITE_TOKENS.unavailable,
        expected: { code: "buildkite_unreachable", reason: "unavailable" },
        detail: () => ({ reason: "unavailable" }),
      },
      {
        label: "connection reset twice",
        token: () => BUILDKITE_TOKENS.resetAlways,
        expected: { code: "buildkite_unreachable", reason: "unreachable" },
        detail: () => ({ reason: "unreachable" }),
      },
      { label: "HTML body", token: () => BUILDKITE_TOKENS.htmlBody, expected: { code: "buildkite_unexpected_response" } },
      { label: "no uuid", token: () => BUILDKITE_TOKENS.missingUuid, expected: { code: "buildkite_unexpected_response" } },
      {
        label: "missing two scopes",
        token: () => BUILDKITE_TOKENS.missingScopes,
        expected: { code: "missing_scopes", missing: ["read_job_env", "read_suites"] },
        detail: () => ({ tokenUuid: expect.stringMatching(/^[0-9a-f-]{36}$/), missingScopes: ["read_job_env", "read_suites"] }),
      },
      {
        label: "no organisations",
        token: () => BUILDKITE_TOKENS.noOrganizations,
        expected: { code: "no_organizations" },
        detail: () => ({ tokenUuid: expect.stringMatching(/^[0-9a-f-]{36}$/) }),
      },
    ];

    it.each(cases)("$label → $expected.code", async ({ token: makeToken, expected, detail }) => {
      const tenant = await createTenant();
      const token = makeToken();

      const result = await connect(tenant, token, { secrets: backend.store() });

      expect(result).toEqual({ ok: false, failure: expected });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      expect(await backend.state(tenant.organizationId)).toBeNull();
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, expected.code, detail?.(token) ?? {});
    });

    it("Buildkite never answering → buildkite_unreachable (timeout) within the client's budget", async () => {
      const tenant = await createTenant();
      const impatient = createBuildkiteClient({ baseUrl: harness.buildkite.url, connectTimeoutMs: 500, timeoutMs: 800 });
      cleanups.push(() => impatient.close());
      const started = Date.now();

      const result = await connect(tenant, BUILDKITE_TOKENS.hang, { secrets: backend.store(), buildkite: impatient });

      expect(Date.now() - started).toBeLessThan(5_000);
      expect(result).toEqual({ ok: false, failure: { code: "buildkite_unreachable", reason: "timeout" } });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, "buildkite_unreachable", { reason: "timeout" });
    });

    it("nothing listening on Buildkite's port → buildkite_unreachable (unreachable)", async () => {
      const tenant = await createTenant();
      const nowhere = createBuildkiteClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, connectTimeoutMs: 1000, timeoutMs: 1500 });
      cleanups.push(() => nowhere.close());

      const result = await connect(tenant, BUILDKITE_TOKENS.good, { secrets: backend.store(), buildkite: nowhere });

      expect(result).toEqual({ ok: false, failure: { code: "buildkite_unreachable", reason: "unreachable" } });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, "buildkite_unreachable", { reason: "unreachable" });
    });

    it("a token Buildkite still accepts but our clock says has expired → token_expired (clock skew)", async () => {
      const tenant = await createTenant();
      const { token, uuid } = freshToken(BUILDKITE_FIXTURES.goodExpiring); // expires 3 days after Buildkite's "now"
      const started = Date.now();

      const result = await connect(tenant, token, { secrets: backend.store(), now: () => new Date(Date.now() + 4 * DAY_MS) });

      const failure = failureOf(result);
      expect(failure.code).toBe("token_expired");
      const expiredAt = (failure as Extract<ConnectionFailure, { code: "token_expired" }>).expiredAt;
      expect(expiredAt).toBeInstanceOf(Date);
      expect(Math.abs(expiredAt.getTime() - (started + 3 * DAY_MS))).toBeLessThan(5_000);
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, "token_expired", { tokenUuid: uuid });
    });
  });

  describe("warnings", () => {
    it("a token expiring in 3 days connects with an expires_soon warning", async () => {
      const tenant = await createTenant();
      const { token } = freshToken(BUILDKITE_FIXTURES.goodExpiring);
      const started = Date.now();

      const result = await connect(tenant, token, { secrets: backend.store() });

      expect(result.ok).toBe(true);
      const { warnings } = result as Extract<ConnectResult, { ok: true }>;
      expect(warnings).toEqual([{ code: "expires_soon", expiresAt: expect.any(Date), daysLeft: 3 }]);
      const expiresAt = (warnings[0] as { expiresAt: Date }).expiresAt;
      expect(Math.abs(expiresAt.getTime() - (started + 3 * DAY_MS))).toBeLessThan(5_000);
      const [row] = await connectionsOf(tenant.organizationId);
      expect(row?.tokenExpiresAt).toEqual(expiresAt);
      // Connected, and flagged at once: the same rule as the scheduled checks (health.ts).
      expect(row).toMatchObject({ status: "needs_attention", attentionCode: "expires_soon" });
    });

    it("a token with write scopes connects with a broader_scopes warning naming them", async () => {
      const tenant = await createTenant();
      const { token } = freshToken(BUILDKITE_FIXTURES.extraScopes);

      const result = await connect(tenant, token, { secrets: backend.store() });

      expect(result).toEqual({
        ok: true,
        organization: ACME_ORGANIZATION,
        warnings: [{ code: "broader_scopes", extra: ["write_builds", "write_pipelines"], writeScopes: ["write_builds", "write_pipelines"] }],
        health: { status: "connected" },
      });
      const [row] = await connectionsOf(tenant.organizationId);
      expect(row?.scopes).toEqual([...SORTED_REQUIRED_SCOPES, "write_builds", "write_pipelines"]);
    });
  });

  describe("several Buildkite organisations", () => {
    it("asks which one, writing nothing", async () => {
      const tenant = await createTenant();
      const { token } = freshToken(BUILDKITE_FIXTURES.severalOrganizations);

      const result = await connect(tenant, token, { secrets: backend.store() });

      expect(result).toEqual({ ok: false, failure: { code: "organization_choice_required", organizations: [...SEVERAL_ORGANIZATIONS] } });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      expect(await backend.state(tenant.organizationId)).toBeNull();
      await backend.expectNothingWritten(tenant.organizationId);
      expect(await auditOf(tenant.organizationId)).toEqual([]);
    });

    it("connects to the one chosen", async () => {
      const tenant = await createTenant();
      const { token } = freshToken(BUILDKITE_FIXTURES.severalOrganizations);

      const result = await connect(tenant, token, { secrets: backend.store(), buildkiteOrgSlug: "acme-labs" });

      expect(result).toEqual({ ok: true, organization: { slug: "acme-labs", name: "Acme Labs" }, warnings: [], health: { status: "connected" } });
      const rows = await connectionsOf(tenant.organizationId);
      expect(rows.map(({ buildkiteOrgSlug, buildkiteOrgName }) => ({ buildkiteOrgSlug, buildkiteOrgName }))).toEqual([
        { buildkiteOrgSlug: "acme-labs", buildkiteOrgName: "Acme Labs" },
      ]);
      expect((await auditOf(tenant.organizationId))[0]?.detail).toMatchObject({ buildkiteOrganization: "acme-labs" });
    });

    it("refuses an organisation the token cannot reach", async () => {
      const tenant = await createTenant();
      const { token, uuid } = freshToken(BUILDKITE_FIXTURES.severalOrganizations);

      const result = await connect(tenant, token, { secrets: backend.store(), buildkiteOrgSlug: "wile-e-coyote" });

      expect(result).toEqual({ ok: false, failure: { code: "organization_not_found", slug: "wile-e-coyote" } });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, "organization_not_found", { tokenUuid: uuid, buildkiteOrganization: "wile-e-coyote" });
    });
  });

  it.each([
    { fixture: "flakyOnce" as const, label: "one 503" },
    { fixture: "resetOnce" as const, label: "one connection reset" },
  ])("connects after $label (one retry)", async ({ fixture }) => {
    const tenant = await createTenant();
    const { token } = freshToken(BUILDKITE_FIXTURES[fixture]);

    const result = await connect(tenant, token, { secrets: backend.store() });

    expect(result).toEqual({ ok: true, organization: ACME_ORGANIZATION, warnings: [], health: { status: "connected" } });
    // The two calls go out together; whichever met the fault was retried once.
    const calls = harness.buildkite.requests.filter((request) => request.token === token).map((request) => request.path);
    expect(calls).toHaveLength(3);
    expect(new Set(calls)).toEqual(new Set(["/v2/access-token", "/v2/organizations?per_page=100"]));
    expect(await connectionsOf(tenant.organizationId)).toHaveLength(1);
  });

  describe("a failure at each step leaves the previous state", () => {
    it("(a) Buildkite failing leaves the previous connection and its secret as they were", async () => {
      const previous = await connectedTenant();

      const result = await connect(previous.tenant, BUILDKITE_TOKENS.unavailable, { secrets: backend.store() });

      expect(failureOf(result)).toEqual({ code: "buildkite_unreachable", reason: "unavailable" });
      await expectPreviousIntact(previous, { currentUnchanged: true });
      expect(await backend.secretCount(previous.tenant.organizationId)).toBe(1);
    });

    it.each(backend.writeFaults(true).map((fault) => ({ ...fault, name: fault.label })))(
      "(b) secret write failing ($name) keeps the previous connection",
      async (fault) => {
        const previous = await connectedTenant();
        const next = freshToken(BUILDKITE_FIXTURES.good);
        const failingStore = await fault.arm();

        const result = await connect(previous.tenant, next.token, { secrets: failingStore });

        expect(failureOf(result)).toEqual({ code: "secret_store_failed", reason: fault.reason });
        // Even a write that landed despite timing out is undone: the previous version is current again.
        await expectPreviousIntact(previous, { currentUnchanged: true });
        const events = await auditOf(previous.tenant.organizationId);
        expect(events.map((event) => [event.outcome, event.code])).toEqual([
          ["success", null],
          ["failure", "secret_store_failed"],
        ]);
        expect(events[1]?.detail).toEqual({ tokenUuid: next.uuid, reason: fault.reason });
      },
    );

    it.each(backend.writeFaults(false).map((fault) => ({ ...fault, name: fault.label })))(
      "(b) secret write failing ($name) on a first connect records nothing",
      async (fault) => {
        const tenant = await createTenant();
        const { token } = freshToken(BUILDKITE_FIXTURES.good);
        const failingStore = await fault.arm();

        const result = await connect(tenant, token, { secrets: failingStore });

        expect(failureOf(result)).toEqual({ code: "secret_store_failed", reason: fault.reason });
        expect(await connectionsOf(tenant.organizationId)).toEqual([]);
        const left = await backend.state(tenant.organizationId);
        // A write that landed despite timing out is scheduled for deletion, like any undone first write.
        if (fault.mayLandLate) expect(left === null || left.deleted).toBe(true);
        else expect(left).toBeNull();
        await expectOneFailureAudit(tenant, "secret_store_failed");
      },
    );

    describe.runIf(backend.breakReadBack !== undefined)("(c) read-back failing", () => {
      it("restores the previous version as current and keeps the previous connection", async () => {
        const previous = await connectedTenant();
        const next = freshToken(BUILDKITE_FIXTURES.good);
        const fault = backend.breakReadBack!();

        const result = await connect(previous.tenant, next.token, { secrets: backend.store() });
        fault.repair();

        expect(failureOf(result)).toEqual({ code: "secret_store_failed", reason: fault.reason });
        await expectPreviousIntact(previous, { currentUnchanged: true });
        expect(await backend.secretCount(previous.tenant.organizationId)).toBe(1);
      });

      it("removes the new secret when there was no previous one, and records nothing", async () => {
        const tenant = await createTenant();
        const { token } = freshToken(BUILDKITE_FIXTURES.good);
        const fault = backend.breakReadBack!();

        const result = await connect(tenant, token, { secrets: backend.store() });
        fault.repair();

        expect(failureOf(result)).toEqual({ code: "secret_store_failed", reason: fault.reason });
        expect(await connectionsOf(tenant.organizationId)).toEqual([]);
        const state = await backend.state(tenant.organizationId);
        expect(state === null || state.deleted).toBe(true);
        await expectOneFailureAudit(tenant, "secret_store_failed");
      });
    });

    it("(d) the database refusing the record rolls the secret back to the previous version; a retry converges", async () => {
      const previous = await connectedTenant();
      const organizationId = previous.tenant.organizationId;
      const next = freshToken(BUILDKITE_FIXTURES.good);
      const removeFault = await refuseConnectionWrites(organizationId);
      cleanups.push(removeFault);

      const failed = await connect(previous.tenant, next.token, { secrets: backend.store() });

      expect(failureOf(failed)).toEqual({ code: "database_failed" });
      await expectPreviousIntact(previous, { currentUnchanged: true });

      await removeFault();
      const retried = await connect(previous.tenant, next.token, { secrets: backend.store() });

      expect(retried.ok).toBe(true);
      const rows = await connectionsOf(organizationId);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toMatchObject({ id: previous.row.id, tokenUuid: next.uuid, tokenLastFour: next.token.slice(-4), secretRef: previous.row.secretRef });
      expect(row.secretVersion).not.toBe(previous.row.secretVersion);
      expect(await backend.secretCount(organizationId)).toBe(1);
      expect(await backend.state(organizationId)).toMatchObject({ current: row.secretVersion, deleted: false });
      expect(await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion })).toBe(next.token);
      expect((await auditOf(organizationId)).map((event) => [event.outcome, event.code])).toEqual([
        ["success", null],
        ["failure", "database_failed"],
        ["success", null],
      ]);
    });

    it("(d) the database refusing a first record removes the new secret; a retry converges", async () => {
      const tenant = await createTenant();
      const { token, uuid } = freshToken(BUILDKITE_FIXTURES.good);
      const removeFault = await refuseConnectionWrites(tenant.organizationId);
      cleanups.push(removeFault);

      const failed = await connect(tenant, token, { secrets: backend.store() });

      expect(failureOf(failed)).toEqual({ code: "database_failed" });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      const rolledBack = await backend.state(tenant.organizationId);
      expect(rolledBack === null || rolledBack.deleted).toBe(true);
      await expectOneFailureAudit(tenant, "database_failed", { tokenUuid: uuid });

      await removeFault();
      const retried = await connect(tenant, token, { secrets: backend.store() });

      expect(retried.ok).toBe(true);
      const rows = await connectionsOf(tenant.organizationId);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row.tokenUuid).toBe(uuid);
      expect(await backend.secretCount(tenant.organizationId)).toBe(1);
      expect(await backend.state(tenant.organizationId)).toMatchObject({ current: row.secretVersion, deleted: false });
      expect(await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion })).toBe(token);
    });
  });

  it("two successful connects with different tokens leave one row and one secret, pointing at the second", async () => {
    const tenant = await createTenant();
    const first = freshToken(BUILDKITE_FIXTURES.good);
    const second = freshToken(BUILDKITE_FIXTURES.extraScopes);

    expect((await connect(tenant, first.token, { secrets: backend.store() })).ok).toBe(true);
    const [firstRow] = await connectionsOf(tenant.organizationId);
    expect((await connect(tenant, second.token, { secrets: backend.store() })).ok).toBe(true);

    const rows = await connectionsOf(tenant.organizationId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ id: firstRow!.id, tokenUuid: second.uuid, tokenLastFour: second.token.slice(-4), secretRef: firstRow!.secretRef });
    expect(row.secretVersion).not.toBe(firstRow!.secretVersion);
    expect(await backend.secretCount(tenant.organizationId)).toBe(1);
    expect(await backend.state(tenant.organizationId)).toMatchObject({ current: row.secretVersion, deleted: false });
    expect(await backend.store().read(row.organizationId, { ref: row.secretRef, version: row.secretVersion })).toBe(second.token);
    const events = await auditOf(tenant.organizationId);
    expect(events.map((event) => [event.outcome, (event.detail as { tokenUuid?: string }).tokenUuid])).toEqual([
      ["success", first.uuid],
      ["success", second.uuid],
    ]);
    const dump = (await dumpedRows()).join("\n");
    expect(dump).not.toContain(first.token);
    expect(dump).not.toContain(second.token);
  });
});
