import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import type { Database } from "@/lib/db/client";
import { connectBuildkite, type ConnectResult } from "@/lib/integrations/buildkite/connect";
import type { ConnectFailure } from "@/lib/integrations/buildkite/outcomes";
import { createAwsSecretStore } from "@/lib/secrets/aws";
import { createLocalSecretStore } from "@/lib/secrets/local";
import { secretName, type SecretRef, type SecretStore, type SecretStoreErrorCode } from "@/lib/secrets/store";
import {
  ACME_ORGANIZATION,
  BUILDKITE_FIXTURES,
  BUILDKITE_TOKENS,
  FIXTURE_OWNER,
  registerFixtures,
  SEVERAL_ORGANIZATIONS,
} from "../support/buildkite-fixtures";
import { startBuildkiteStandIn, type BuildkiteScenario, type BuildkiteStandIn, type OkScenario } from "../support/buildkite-stand-in";
import { connectTestDb } from "../support/db";
import { startSecretsManagerStandIn, STAND_IN_CREDENTIALS, type Fault, type SecretsManagerStandIn } from "../support/secrets-manager-stand-in";

/**
 * The connect use case end to end against real parts: the real Buildkite client against the Buildkite stand-in on
 * a real port, the real AWS SDK against the Secrets Manager stand-in (or the real local store in a temp dir), and a
 * real Postgres. Faults are real too: stand-in faults, an unusable data directory, a Postgres trigger.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const AWS_PREFIX = "gitar-test";
const LOCAL_PREFIX = "gitar";
const KMS_KEY_ID = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const SECRETS_TIMEOUT_MS = 1500;
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

let db: Database;
let buildkite: BuildkiteStandIn;
let secretsManager: SecretsManagerStandIn;
let client: BuildkiteClient;

beforeAll(async () => {
  db = connectTestDb();
  buildkite = await startBuildkiteStandIn();
  registerFixtures(buildkite);
  secretsManager = await startSecretsManagerStandIn();
  client = createBuildkiteClient({ baseUrl: buildkite.url, connectTimeoutMs: 1000, timeoutMs: 1500 });
});

afterAll(async () => {
  await client?.close();
  await buildkite?.close();
  await secretsManager?.close();
  await db?.$disconnect();
});

// ---------------------------------------------------------------------------------------------------------------
// Secret backends: the same tests run against each, through what each one really keeps.

type SecretState = {
  /** The version the backend serves as current (AWSCURRENT / the file's `current`), if the secret exists. */
  current: string | undefined;
  /** aws: scheduled for deletion; local: never (a rolled-back first write removes the file). */
  deleted: boolean;
};

type WriteFault = { label: string; reason: SecretStoreErrorCode; arm(): Promise<SecretStore>; mayLandLate?: boolean };

type Backend = {
  name: "local" | "aws";
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  store(): SecretStore;
  expectedRef(organizationId: string): string | RegExp;
  /** null when the backend holds nothing at all for the organisation. */
  state(organizationId: string): Promise<SecretState | null>;
  /** How many separate secrets (aws: names in the stand-in; local: files) the organisation has. */
  secretCount(organizationId: string): Promise<number>;
  /** Asserts nothing was written for the organisation (beyond what `state` shows, e.g. requests that were made). */
  expectNothingWritten(organizationId: string): Promise<void>;
  /** Ways to make the next secret write fail; `previous` says whether a connection already exists. */
  writeFaults(previous: boolean): WriteFault[];
  /** aws only: make the read-back after a successful write fail. */
  breakReadBack?: () => { reason: SecretStoreErrorCode; repair(): void };
};

function localBackend(): Backend {
  let dataDir: string;
  let encryptionKey: Buffer;
  let store: SecretStore;
  const secretsDir = () => path.join(dataDir, "secrets");
  const fileFor = (organizationId: string) => path.join(secretsDir(), `${secretName(LOCAL_PREFIX, organizationId)}.json`);
  const orgDir = (organizationId: string) => path.dirname(fileFor(organizationId));

  async function state(organizationId: string): Promise<SecretState | null> {
    let text: string;
    try {
      text = await readFile(fileFor(organizationId), "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return null;
      throw error;
    }
    const stored = JSON.parse(text) as { current: { id: string } };
    return { current: stored.current.id, deleted: false };
  }

  async function filesOf(organizationId: string): Promise<string[]> {
    try {
      return await readdir(orgDir(organizationId));
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
  }

  return {
    name: "local",
    async setUp() {
      dataDir = await mkdtemp(path.join(tmpdir(), "connect-buildkite-"));
      encryptionKey = randomBytes(32);
      store = createLocalSecretStore({ dataDir, prefix: LOCAL_PREFIX, encryptionKey });
    },
    async tearDown() {
      await rm(dataDir, { recursive: true, force: true });
    },
    store: () => store,
    expectedRef: (organizationId) => `local:${LOCAL_PREFIX}/${organizationId}/buildkite-api-token`,
    state,
    secretCount: async (organizationId) => (await filesOf(organizationId)).length,
    async expectNothingWritten(organizationId) {
      expect(await filesOf(organizationId)).toEqual([]);
    },
    writeFaults: () => [
      {
        label: "data directory is a regular file",
        reason: "misconfigured",
        async arm() {
          const notADirectory = path.join(dataDir, "not-a-directory");
          await writeFile(notADirectory, "this is a file\n");
          return createLocalSecretStore({ dataDir: notADirectory, prefix: LOCAL_PREFIX, encryptionKey });
        },
      },
    ],
  };
}

function awsBackend(): Backend {
  let store: SecretStore;
  const nameFor = (organizationId: string) => secretName(AWS_PREFIX, organizationId);
  const secretsOf = (organizationId: string) => secretsManager.secrets().filter((secret) => secret.name === nameFor(organizationId));
  const writeRequests = (organizationId: string) =>
    secretsManager.requests.filter(
      (request) =>
        (request.operation === "PutSecretValue" || request.operation === "CreateSecret") && request.secretId?.includes(organizationId),
    );

  const fault = (label: string, reason: SecretStoreErrorCode, spec: Fault, mayLandLate = false): WriteFault => ({
    label,
    reason,
    mayLandLate,
    async arm() {
      secretsManager.injectFault(spec);
      return store;
    },
  });
  const faultsOn = (operation: "PutSecretValue" | "CreateSecret") => [
    fault(`AccessDeniedException on ${operation}`, "access_denied", { operation, error: "AccessDeniedException" }),
    fault(`ThrottlingException on every ${operation}`, "throttled", { operation, error: "ThrottlingException" }),
    fault(`InternalServiceError on ${operation}`, "unavailable", { operation, error: "InternalServiceError" }),
    // The stand-in does the work on arrival and only answers late, as a real lost response would.
    fault(`${operation} answering past the timeout`, "timeout", { operation, delayMs: SECRETS_TIMEOUT_MS + 500 }, true),
  ];

  return {
    name: "aws",
    async setUp() {
      secretsManager.reset();
      for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) vi.stubEnv(name, undefined);
      vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent/aws-config");
      vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
      vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
      vi.stubEnv("AWS_REGION", secretsManager.region);
      vi.stubEnv("AWS_ACCESS_KEY_ID", STAND_IN_CREDENTIALS.accessKeyId);
      vi.stubEnv("AWS_SECRET_ACCESS_KEY", STAND_IN_CREDENTIALS.secretAccessKey);
      vi.stubEnv("AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManager.url);
      store = createAwsSecretStore({ prefix: AWS_PREFIX, kmsKeyId: KMS_KEY_ID, timeoutMs: SECRETS_TIMEOUT_MS });
    },
    async tearDown() {
      secretsManager.clearFaults();
      vi.unstubAllEnvs();
    },
    store: () => store,
    expectedRef: (organizationId) =>
      new RegExp(`^arn:aws:secretsmanager:${secretsManager.region}:\\d{12}:secret:${nameFor(organizationId)}-[A-Za-z0-9]{6}$`),
    async state(organizationId) {
      const [secret, ...others] = secretsOf(organizationId);
      expect(others).toEqual([]);
      if (!secret) return null;
      return {
        current: secret.versions.find((version) => version.stages.includes("AWSCURRENT"))?.versionId,
        deleted: secret.deletedDate !== undefined,
      };
    },
    secretCount: async (organizationId) => secretsOf(organizationId).length,
    async expectNothingWritten(organizationId) {
      expect(secretsOf(organizationId)).toEqual([]);
      expect(writeRequests(organizationId)).toEqual([]);
    },
    writeFaults: (previous) => faultsOn(previous ? "PutSecretValue" : "CreateSecret"),
    breakReadBack() {
      secretsManager.injectFault({ operation: "GetSecretValue", error: "AccessDeniedException" });
      return { reason: "access_denied", repair: () => secretsManager.clearFaults() };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Tenants, tokens and the connect call, with the "the token is nowhere" check built into every call.

type Tenant = { organizationId: string; actor: { userId: string; email: string } };

async function createTenant(): Promise<Tenant> {
  const id = randomUUID();
  const organization = await db.organization.create({ data: { name: `Org ${id}`, slug: `org-${id}` } });
  const user = await db.user.create({ data: { email: `admin-${id}@example.test`, name: "Ada Admin" } });
  await db.membership.create({ data: { userId: user.id, organizationId: organization.id, role: "admin" } });
  return { organizationId: organization.id, actor: { userId: user.id, email: user.email } };
}

/** A token nobody else uses, answered like `scenario` (ok scenarios get a known UUID). */
function freshToken(scenario: BuildkiteScenario): { token: string; uuid: string } {
  const token = `bkua_MTA.${randomBytes(18).toString("hex")}`;
  const uuid = randomUUID();
  const withUuid = (ok: OkScenario): OkScenario => ({ ...ok, uuid });
  const registered: BuildkiteScenario =
    scenario.kind === "ok" ? withUuid(scenario) : "then" in scenario ? { ...scenario, then: withUuid(scenario.then) } : scenario;
  buildkite.register(token, registered);
  return { token, uuid };
}

async function dumpedRows(): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<Array<{ json: string }>>(
    `SELECT row_to_json(c)::text AS json FROM buildkite_connections c
     UNION ALL SELECT row_to_json(a)::text AS json FROM audit_events a`,
  );
  return rows.map((row) => row.json);
}

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
      { organizationId: tenant.organizationId, actor: tenant.actor, token, buildkiteOrgSlug: options.buildkiteOrgSlug },
      { db, buildkite: options.buildkite ?? client, secrets: options.secrets, now: options.now },
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

const connectionsOf = (organizationId: string) => db.buildkiteConnection.findMany({ where: { organizationId } });
const auditOf = (organizationId: string) => db.auditEvent.findMany({ where: { organizationId }, orderBy: { createdAt: "asc" } });

function failureOf(result: ConnectResult): ConnectFailure {
  expect(result.kind).toBe("failed");
  return (result as Extract<ConnectResult, { kind: "failed" }>).failure;
}

async function expectOneFailureAudit(tenant: Tenant, code: string, detail?: Record<string, unknown>) {
  const events = await auditOf(tenant.organizationId);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    action: "buildkite.connect",
    outcome: "failure",
    code,
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

/** A real database fault: a trigger that refuses any write of this organisation's connection row. */
async function refuseConnectionWrites(organizationId: string): Promise<() => Promise<void>> {
  const name = `refuse_${randomBytes(6).toString("hex")}`;
  await db.$executeRawUnsafe(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF NEW.organization_id = '${organizationId}'::uuid THEN RAISE EXCEPTION 'injected fault: writes refused'; END IF;
       RETURN NEW;
     END $$`,
  );
  await db.$executeRawUnsafe(
    `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON buildkite_connections FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  let dropped = false;
  return async () => {
    if (dropped) return;
    dropped = true;
    await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${name} ON buildkite_connections`);
    await db.$executeRawUnsafe(`DROP FUNCTION IF EXISTS ${name}()`);
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe.each([localBackend(), awsBackend()])("connectBuildkite with the $name secret store", (backend) => {
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    await backend.setUp();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await backend.tearDown();
  });

  /** Connects a good token and returns what a later failure must leave untouched. */
  async function connectedTenant() {
    const tenant = await createTenant();
    const first = freshToken(BUILDKITE_FIXTURES.good);
    const result = await connect(tenant, first.token, { secrets: backend.store() });
    expect(result.kind).toBe("connected");
    const rows = await connectionsOf(tenant.organizationId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const secretState = await backend.state(tenant.organizationId);
    expect(secretState).toEqual({ current: row.secretVersion, deleted: false });
    return { tenant, token: first.token, row, ref: { ref: row.secretRef, version: row.secretVersion } satisfies SecretRef };
  }

  /** The previous connection is exactly as it was and its secret version still reads the old token. */
  async function expectPreviousIntact(previous: Awaited<ReturnType<typeof connectedTenant>>, options: { currentUnchanged: boolean }) {
    expect(await connectionsOf(previous.tenant.organizationId)).toEqual([previous.row]);
    expect(await backend.store().read(previous.ref)).toBe(previous.token);
    if (options.currentUnchanged) {
      expect(await backend.state(previous.tenant.organizationId)).toEqual({ current: previous.ref.version, deleted: false });
    }
  }

  it("connects a good token: one connected row, the token in the store at that version, one success audit event", async () => {
    const tenant = await createTenant();
    const { token, uuid } = freshToken(BUILDKITE_FIXTURES.good);
    const at = new Date(Date.now());

    const result = await connect(tenant, token, { secrets: backend.store(), now: () => at });

    expect(result).toEqual({ kind: "connected", organization: { slug: "acme-inc", name: "Acme Inc" }, warnings: [] });
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
      lastErrorCode: null,
    });
    // The stand-in dates the token 7 days before the request, in Buildkite's whole-second docs format.
    expect(Math.abs(row.tokenCreatedAt!.getTime() - (at.getTime() - 7 * DAY_MS))).toBeLessThan(5_000);
    expect(row.secretRef).toMatch(backend.expectedRef(tenant.organizationId));
    expect(row.secretVersion).toMatch(/^[0-9a-f-]{36}$/);

    expect(await backend.state(tenant.organizationId)).toEqual({ current: row.secretVersion, deleted: false });
    expect(await backend.secretCount(tenant.organizationId)).toBe(1);
    expect(await backend.store().read({ ref: row.secretRef, version: row.secretVersion })).toBe(token);

    const events = await auditOf(tenant.organizationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "buildkite.connect",
      outcome: "success",
      code: null,
      actorUserId: tenant.actor.userId,
      actorEmail: tenant.actor.email,
      detail: { buildkiteOrganization: "acme-inc", tokenUuid: uuid, scopes: REQUIRED_IN_BUILDKITE_ORDER },
    });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  describe("a token Buildkite turns down changes nothing and records one failure", () => {
    type Case = { label: string; token: () => string; expected: ConnectFailure; detail?: (token: string) => Record<string, unknown> };
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

      expect(result).toEqual({ kind: "failed", failure: expected });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      expect(await backend.state(tenant.organizationId)).toBeNull();
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, expected.code, detail?.(token) ?? {});
    });

    it("Buildkite never answering → buildkite_unreachable (timeout) within the client's budget", async () => {
      const tenant = await createTenant();
      const impatient = createBuildkiteClient({ baseUrl: buildkite.url, connectTimeoutMs: 500, timeoutMs: 800 });
      cleanups.push(() => impatient.close());
      const started = Date.now();

      const result = await connect(tenant, BUILDKITE_TOKENS.hang, { secrets: backend.store(), buildkite: impatient });

      expect(Date.now() - started).toBeLessThan(5_000);
      expect(result).toEqual({ kind: "failed", failure: { code: "buildkite_unreachable", reason: "timeout" } });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, "buildkite_unreachable", { reason: "timeout" });
    });

    it("nothing listening on Buildkite's port → buildkite_unreachable (unreachable)", async () => {
      const tenant = await createTenant();
      const nowhere = createBuildkiteClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, connectTimeoutMs: 1000, timeoutMs: 1500 });
      cleanups.push(() => nowhere.close());

      const result = await connect(tenant, BUILDKITE_TOKENS.good, { secrets: backend.store(), buildkite: nowhere });

      expect(result).toEqual({ kind: "failed", failure: { code: "buildkite_unreachable", reason: "unreachable" } });
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
      const expiredAt = (failure as Extract<ConnectFailure, { code: "token_expired" }>).expiredAt;
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

      expect(result.kind).toBe("connected");
      const { warnings } = result as Extract<ConnectResult, { kind: "connected" }>;
      expect(warnings).toEqual([{ code: "expires_soon", expiresAt: expect.any(Date), daysLeft: 3 }]);
      const expiresAt = (warnings[0] as { expiresAt: Date }).expiresAt;
      expect(Math.abs(expiresAt.getTime() - (started + 3 * DAY_MS))).toBeLessThan(5_000);
      const [row] = await connectionsOf(tenant.organizationId);
      expect(row?.tokenExpiresAt).toEqual(expiresAt);
    });

    it("a token with write scopes connects with a broader_scopes warning naming them", async () => {
      const tenant = await createTenant();
      const { token } = freshToken(BUILDKITE_FIXTURES.extraScopes);

      const result = await connect(tenant, token, { secrets: backend.store() });

      expect(result).toEqual({
        kind: "connected",
        organization: ACME_ORGANIZATION,
        warnings: [{ code: "broader_scopes", extra: ["write_builds", "write_pipelines"], writeScopes: ["write_builds", "write_pipelines"] }],
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

      expect(result).toEqual({ kind: "choose_organization", organizations: [...SEVERAL_ORGANIZATIONS] });
      expect((result as Extract<ConnectResult, { kind: "choose_organization" }>).organizations).toHaveLength(3);
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      expect(await backend.state(tenant.organizationId)).toBeNull();
      await backend.expectNothingWritten(tenant.organizationId);
      expect(await auditOf(tenant.organizationId)).toEqual([]);
    });

    it("connects to the one chosen", async () => {
      const tenant = await createTenant();
      const { token } = freshToken(BUILDKITE_FIXTURES.severalOrganizations);

      const result = await connect(tenant, token, { secrets: backend.store(), buildkiteOrgSlug: "acme-labs" });

      expect(result).toEqual({ kind: "connected", organization: { slug: "acme-labs", name: "Acme Labs" }, warnings: [] });
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

      expect(result).toEqual({ kind: "failed", failure: { code: "organization_not_found", slug: "wile-e-coyote" } });
      expect(await connectionsOf(tenant.organizationId)).toEqual([]);
      await backend.expectNothingWritten(tenant.organizationId);
      await expectOneFailureAudit(tenant, "organization_not_found", { tokenUuid: uuid });
    });
  });

  it.each([
    { fixture: "flakyOnce" as const, label: "one 503" },
    { fixture: "resetOnce" as const, label: "one connection reset" },
  ])("connects after $label (one retry)", async ({ fixture }) => {
    const tenant = await createTenant();
    const { token } = freshToken(BUILDKITE_FIXTURES[fixture]);

    const result = await connect(tenant, token, { secrets: backend.store() });

    expect(result).toEqual({ kind: "connected", organization: ACME_ORGANIZATION, warnings: [] });
    const calls = buildkite.requests.filter((request) => request.token === token).map((request) => request.path);
    expect(calls).toEqual(["/v2/access-token", "/v2/access-token", "/v2/organizations?per_page=100"]);
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

      expect(retried.kind).toBe("connected");
      const rows = await connectionsOf(organizationId);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toMatchObject({ id: previous.row.id, tokenUuid: next.uuid, tokenLastFour: next.token.slice(-4), secretRef: previous.row.secretRef });
      expect(row.secretVersion).not.toBe(previous.row.secretVersion);
      expect(await backend.secretCount(organizationId)).toBe(1);
      expect(await backend.state(organizationId)).toEqual({ current: row.secretVersion, deleted: false });
      expect(await backend.store().read({ ref: row.secretRef, version: row.secretVersion })).toBe(next.token);
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

      expect(retried.kind).toBe("connected");
      const rows = await connectionsOf(tenant.organizationId);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row.tokenUuid).toBe(uuid);
      expect(await backend.secretCount(tenant.organizationId)).toBe(1);
      expect(await backend.state(tenant.organizationId)).toEqual({ current: row.secretVersion, deleted: false });
      expect(await backend.store().read({ ref: row.secretRef, version: row.secretVersion })).toBe(token);
    });
  });

  it("two successful connects with different tokens leave one row and one secret, pointing at the second", async () => {
    const tenant = await createTenant();
    const first = freshToken(BUILDKITE_FIXTURES.good);
    const second = freshToken(BUILDKITE_FIXTURES.extraScopes);

    expect((await connect(tenant, first.token, { secrets: backend.store() })).kind).toBe("connected");
    const [firstRow] = await connectionsOf(tenant.organizationId);
    expect((await connect(tenant, second.token, { secrets: backend.store() })).kind).toBe("connected");

    const rows = await connectionsOf(tenant.organizationId);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ id: firstRow!.id, tokenUuid: second.uuid, tokenLastFour: second.token.slice(-4), secretRef: firstRow!.secretRef });
    expect(row.secretVersion).not.toBe(firstRow!.secretVersion);
    expect(await backend.secretCount(tenant.organizationId)).toBe(1);
    expect(await backend.state(tenant.organizationId)).toEqual({ current: row.secretVersion, deleted: false });
    expect(await backend.store().read({ ref: row.secretRef, version: row.secretVersion })).toBe(second.token);
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
