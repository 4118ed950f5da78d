// Helpers shared by the tests of what happens to a connection after it is made: re-verify, the schedule, the
// reconciler, diagnostics and the job runner. They connect through the real use case and look at what the real
// stores and the stand-ins saw.
import { randomInt, randomUUID } from "node:crypto";
import { access, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, vi, type MockInstance } from "vitest";
import { personActor, type Actor } from "@/lib/audit/actor";
import type { Database } from "@/lib/db/client";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { reverifyConnection, type ReverifyResult } from "@/lib/integrations/buildkite/reverify";
import type { SecretRef } from "@/lib/secrets/store";
import { BUILDKITE_FIXTURES } from "./buildkite-fixtures";
import type { BuildkiteStandIn, OkScenario } from "./buildkite-stand-in";
import type { IntegrationHarness } from "./integration-harness";
import { LOCAL_PREFIX, type SecretBackend, type SecretState } from "./secret-backends";
import { createTenant, expectTokenNowhereInDatabase, freshToken, type Tenant } from "./tenants";

export const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;

/** The `good` fixture (all nine scopes, acme-inc, never expires), with changes. */
export function goodScenario(overrides: Partial<OkScenario> = {}): OkScenario {
  const good = BUILDKITE_FIXTURES.good as OkScenario;
  return { ...good, ...overrides };
}

/**
 * A clock far in the past, different for every call and earlier than every earlier call's. The schedule claims every
 * due connection in the database, whichever test made it: connections made on such a clock are due only on it, and
 * never on the clock of an earlier test (whose rows lie years later) nor on the wall clock's (other files' rows).
 */
let epochsHandedOut = 0;
// Each file (each module instance) starts from a year of its own, so two files' clocks do not meet either.
const EPOCH_BASE = Date.UTC(1950 - randomInt(0, 800), 0, 1);
export function pastEpoch(): Date {
  epochsHandedOut += 1;
  // Midnight less whole days: whole minutes, so nothing depends on where in a minute a test happens to start.
  return new Date(EPOCH_BASE - epochsHandedOut * 400 * DAY_MS);
}

export const at = (base: Date, offsetMs: number) => new Date(base.getTime() + offsetMs);

export type ConnectedTenant = {
  tenant: Tenant;
  token: string;
  uuid: string;
  secret: SecretRef;
};

/** Remembers the organisations a file made, so it can remove them (and their rows) when it is done. */
export function tenantTracker(db: () => Database) {
  const organizationIds: string[] = [];
  return {
    async create(role: "admin" | "member" = "admin"): Promise<Tenant> {
      const tenant = await createTenant(db(), role);
      organizationIds.push(tenant.organizationId);
      return tenant;
    },
    /** `count` organisations with an admin each, made in three statements rather than three per organisation. */
    async createMany(count: number): Promise<Tenant[]> {
      const made = Array.from({ length: count }, () => {
        const id = randomUUID();
        return { organizationId: id, userId: randomUUID(), email: `admin-${id}@example.test` };
      });
      await db().organization.createMany({ data: made.map(({ organizationId }) => ({ id: organizationId, name: `Org ${organizationId}`, slug: `org-${organizationId}` })) });
      await db().user.createMany({ data: made.map(({ userId, email }) => ({ id: userId, email, name: "Ada Admin" })) });
      await db().membership.createMany({ data: made.map(({ organizationId, userId }) => ({ organizationId, userId, role: "admin" as const })) });
      organizationIds.push(...made.map(({ organizationId }) => organizationId));
      return made.map(({ organizationId, userId, email }) => ({ organizationId, actor: { userId, email } }));
    },
    /** Deletes every organisation made so far; connections and audit events go with them (ON DELETE CASCADE). */
    async removeAll(): Promise<void> {
      const ids = organizationIds.splice(0);
      for (let start = 0; start < ids.length; start += 500) {
        await db().organization.deleteMany({ where: { id: { in: ids.slice(start, start + 500) } } });
      }
    },
  };
}

/** Connects a fresh token (answered like `scenario`) for a new organisation, through the real connect use case. */
export async function connectFresh(
  harness: IntegrationHarness,
  deps: ConnectionDependencies,
  tenant: Tenant,
  scenario: OkScenario = goodScenario(),
): Promise<ConnectedTenant> {
  const { token, uuid } = freshToken(harness.buildkite, scenario);
  const result = await connectBuildkite({ organizationId: tenant.organizationId, actor: personActor(tenant.actor), token }, deps);
  expect(result, "the connect the test starts from").toMatchObject({ ok: true });
  const row = await harness.db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId: tenant.organizationId } });
  return { tenant, token, uuid, secret: { ref: row.secretRef, version: row.secretVersion } };
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const connectionOf = (db: Database, organizationId: string) => db.buildkiteConnection.findUniqueOrThrow({ where: { organizationId } });

/** How many times the stand-in was asked to describe `token` (GET /v2/access-token) since request number `since`. */
export function accessTokenChecks(buildkite: BuildkiteStandIn, token: string, since = 0): number {
  return buildkite.requests.slice(since).filter((request) => request.token === token && request.method === "GET" && request.path === "/v2/access-token")
    .length;
}

/** Every /v2 request made with `token` since request number `since`, as "METHOD path". */
export function requestsWith(buildkite: BuildkiteStandIn, token: string, since = 0): string[] {
  return buildkite.requests.slice(since).filter((request) => request.token === token).map((request) => `${request.method} ${request.path}`);
}

const WRITING_OPERATIONS = new Set(["PutSecretValue", "CreateSecret", "UpdateSecretVersionStage", "DeleteSecret", "RestoreSecret"]);

/**
 * Watches one organisation's secret across an operation that must not change it: what the backend holds is the same
 * afterwards, and (aws) the Secrets Manager stand-in saw no request that writes.
 */
export async function watchSecret(harness: IntegrationHarness, backend: SecretBackend, organizationId: string) {
  const before: SecretState | null = await backend.state(organizationId);
  const since = harness.secretsManager.requests.length;
  return {
    async expectUntouched() {
      expect(await backend.state(organizationId)).toEqual(before);
      if (backend.name === "aws") {
        const writes = harness.secretsManager.requests.slice(since).filter((request) => WRITING_OPERATIONS.has(request.operation));
        expect(writes.map((request) => request.operation)).toEqual([]);
      }
    },
  };
}

/** A person's "Verify now", or the schedule's check when `actor` is the scheduler. */
export async function reverify(deps: ConnectionDependencies, tenant: Tenant, actor: Actor = personActor(tenant.actor)): Promise<ReverifyResult> {
  return reverifyConnection({ organizationId: tenant.organizationId, actor }, deps);
}

/** The token is in no row of the database, and in nothing the caller got back. */
export async function expectTokenKeptSecret(db: Database, token: string, ...returned: unknown[]) {
  await expectTokenNowhereInDatabase(db, token);
  for (const value of returned) expect(JSON.stringify(value) ?? "").not.toContain(token);
}

/** The structured log lines (lib/log.ts) written through a console spy, parsed. */
export function logLines(spy: MockInstance<(...args: unknown[]) => void>): Array<Record<string, unknown>> {
  return spy.mock.calls.flatMap((call) => {
    const [line] = call;
    if (typeof line !== "string") return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/**
 * The file the local backend (secret-backends.ts localBackend) keeps an organisation's secret in. The backend does not
 * say where its temporary data directory is, so this looks for the organisation's file in each of them.
 */
export async function localSecretFile(organizationId: string): Promise<string> {
  const root = tmpdir();
  for (const entry of (await readdir(root)).filter((name) => name.startsWith("secret-backend-"))) {
    const file = path.join(root, entry, "secrets", ...LOCAL_PREFIX.split("/"), organizationId, "buildkite-api-token.json");
    if (await access(file).then(() => true, () => false)) return file;
  }
  throw new Error(`no local secret file for organisation ${organizationId}`);
}

/**
 * Watches the structured log (lib/log.ts writes through console.log and console.error) from each test's start to
 * its end, for tests that must find no token in it.
 */
export function watchLogLines() {
  let spies: Array<MockInstance<(...args: unknown[]) => void>> = [];
  beforeEach(() => {
    spies = [vi.spyOn(console, "log"), vi.spyOn(console, "error")];
  });
  afterEach(() => vi.restoreAllMocks());
  return {
    /** None of `tokens` is in any line; with `somethingLogged`, there was at least one line to look in. */
    expectNone(tokens: readonly string[], options: { somethingLogged?: boolean } = {}) {
      const lines = spies.flatMap((spy) => spy.mock.calls.map((call) => call.map(String).join(" ")));
      if (options.somethingLogged) expect(lines.length, "the operation logged what it did").toBeGreaterThan(0);
      for (const line of lines) for (const token of tokens) expect(line).not.toContain(token);
    },
  };
}

/** A form state shows the admin words of its own (a title and a message), and none of `tokens`. */
export function expectShownWithout(state: { status: string; title?: string; message?: string }, ...tokens: string[]) {
  expect(`${state.title ?? ""} ${state.message ?? ""}`.trim().length).toBeGreaterThan(10);
  for (const token of tokens) expect(JSON.stringify(state)).not.toContain(token);
}
