import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { personActor } from "@/lib/audit/actor";
import { REQUIRED_SCOPE_NAMES, REQUIRED_SCOPES } from "@/lib/buildkite/scopes";
import type { ConnectionDependencies } from "@/lib/integrations/buildkite/dependencies";
import { runDiagnostics, type DiagnosticsReport, type DiagnosticsResult } from "@/lib/integrations/buildkite/diagnostics";
import { diagnosticsState } from "@/lib/integrations/buildkite/presentation/diagnostics-view";
import { BUILDKITE_FIXTURES } from "../support/buildkite-fixtures";
import { STAND_IN_JOB_SECRET, type OkScenario } from "../support/buildkite-stand-in";
import { connectFresh, expectTokenKeptSecret, goodScenario, requestsWith, reverify, tenantTracker, watchSecret, type ConnectedTenant } from "../support/connection-checks";
// Imported under another name: a top-level "use…" call reads as a React hook to the linter (react-hooks/rules-of-hooks).
import { setUpIntegrationHarness } from "../support/integration-harness";
import { awsBackend, localBackend, type SecretBackend } from "../support/secret-backends";
import { auditOf, dumpedRows } from "../support/tenants";

/**
 * "Run diagnostics" against the Buildkite stand-in's organisation data (three pipelines, one without a repository;
 * builds with script jobs that have artifacts, a log and an environment holding a customer's secret).
 */

const ORG = "acme-inc";
/** The default environment's other secret-looking value (tests/support/buildkite-stand-in.ts defaultEnv). */
const JOB_DATABASE_PASSWORD = "st4nd1n-db-p4ssw0rd";
/** The six calls that need nothing but the token and the organisation: they go out together. */
const FIRST_WAVE = [
  "GET /v2/analytics/organizations/acme-inc/suites",
  "GET /v2/organizations/acme-inc",
  "GET /v2/organizations/acme-inc/builds",
  "GET /v2/organizations/acme-inc/pipelines",
  "GET /v2/organizations/acme-inc/teams",
  "GET /v2/user",
];
const JOB_SCOPES = ["read_artifacts", "read_build_logs", "read_job_env"];

const harness = setUpIntegrationHarness();
const tenants = tenantTracker(() => harness.db);
afterAll(() => tenants.removeAll());

/** Request paths without their query strings, sorted. */
const pathsOf = (requests: string[]) => requests.map((request) => request.replace(/\?.*$/, "")).sort();

function reportOf(result: DiagnosticsResult): DiagnosticsReport {
  expect(result.ok).toBe(true);
  return (result as Extract<DiagnosticsResult, { ok: true }>).report;
}

const statuses = (report: DiagnosticsReport) => ({
  scopes: Object.fromEntries(report.scopes.map((check) => [check.scope, check.status])),
  data: Object.fromEntries(report.data.map((check) => [check.id, check.status])),
});

function suiteFor(backend: SecretBackend) {
  beforeEach(() => backend.setUp());
  afterEach(async () => {
    harness.buildkite.setLatency(0);
    await backend.tearDown();
  });

  const deps = (overrides: Partial<ConnectionDependencies> = {}) => harness.deps(backend.store(), overrides);

  async function connected(scenario: OkScenario = goodScenario()) {
    return connectFresh(harness, deps(), await tenants.create(), scenario);
  }

  async function diagnose(connection: ConnectedTenant) {
    const since = harness.buildkite.requests.length;
    const secret = await watchSecret(harness, backend, connection.tenant.organizationId);
    const started = Date.now();
    const result = await runDiagnostics({ organizationId: connection.tenant.organizationId, actor: personActor(connection.tenant.actor) }, deps());
    const elapsed = Date.now() - started;
    await secret.expectUntouched();
    // Nothing a job's environment holds goes anywhere: not in the result, the card's state, or any row.
    for (const value of [STAND_IN_JOB_SECRET, JOB_DATABASE_PASSWORD]) {
      expect(JSON.stringify(result)).not.toContain(value);
      expect(JSON.stringify(diagnosticsState(result))).not.toContain(value);
      for (const row of await dumpedRows(harness.db)) expect(row).not.toContain(value);
    }
    await expectTokenKeptSecret(harness.db, connection.token, result, diagnosticsState(result));
    return { result, elapsed, calls: requestsWith(harness.buildkite, connection.token, since) };
  }

  return { connected, diagnose, deps };
}

describe("runDiagnostics with the local secret store", () => {
  const { connected, diagnose, deps } = suiteFor(localBackend());

  it("a good token with builds: all nine scopes and the data checks pass; the pipeline without a repository is named; audited", async () => {
    const connection = await connected();

    const { result, calls } = await diagnose(connection);

    const report = reportOf(result);
    expect(report.organization).toEqual({ slug: ORG, name: "Acme Inc" });
    expect(report.scopes.map((check) => check.scope)).toEqual(REQUIRED_SCOPES.map(({ scope }) => scope));
    expect(report.scopes.every((check) => check.status === "passed")).toBe(true);
    expect(report.data).toEqual([
      { id: "organization", status: "passed", detail: "The token reaches Acme Inc." },
      { id: "pipelines", status: "passed", detail: "3 pipelines are visible to this token." },
      { id: "latest_build", status: "passed", detail: expect.stringMatching(/^Latest build: Web App #42, failed on \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/) },
      {
        id: "pipeline_repositories",
        status: "warning",
        detail: "1 pipeline has no repository: Scratchpad.",
        fix: expect.stringContaining("Set a repository"),
      },
    ]);
    // Six calls together, then the three on the newest build's script job: nine in all.
    expect(calls).toHaveLength(9);
    expect(pathsOf(calls.slice(0, 6))).toEqual(FIRST_WAVE);
    expect(pathsOf(calls.slice(6))).toEqual(
      ["artifacts", "env", "log"].map((leaf) => expect.stringMatching(new RegExp(`^GET /v2/organizations/${ORG}/pipelines/web-app/builds/42/jobs/[0-9a-f-]{36}/${leaf}$`))),
    );
    // The stand-in's RateLimit-* headers, as parsed from the last answer.
    expect(report.rateLimit).toEqual({ scope: "rest", limit: 200, remaining: 199, resetSeconds: 60, user: { limit: 50, remaining: 49, resetSeconds: 60 } });

    const events = await auditOf(harness.db, connection.tenant.organizationId);
    expect(events.at(-1)).toMatchObject({
      actorType: "person",
      actorUserId: connection.tenant.actor.userId,
      action: "buildkite.diagnostics",
      outcome: "success",
      detail: { tokenUuid: connection.uuid, tokenLastFour: connection.token.slice(-4), buildkiteOrganization: ORG, passed: 12, failed: 0 },
    });
    // The card's summary names no failure (its exact words belong to the view's own tests).
    expect(diagnosticsState(result)).toMatchObject({ status: "report", summary: expect.not.stringMatching(/fail/i) });
  });

  it("needs two round trips of Buildkite's latency, not one per call", async () => {
    const connection = await connected();
    // Long enough that the difference is unmistakable on a busy machine: two round trips take 2 s, nine one after
    // another would take 9 s.
    const latency = 1_000;
    harness.buildkite.setLatency(latency);

    const { result, elapsed, calls } = await diagnose(connection);

    expect(reportOf(result).scopes.every((check) => check.status === "passed")).toBe(true);
    expect(calls).toHaveLength(9);
    expect(elapsed).toBeGreaterThanOrEqual(2 * latency);
    expect(elapsed).toBeLessThan(5 * latency);
  });

  it("a token without read_build_logs: that scope fails, saying what the product cannot do without it; the others pass", async () => {
    const connection = await connected();
    harness.buildkite.register(connection.token, { ...(BUILDKITE_FIXTURES.missingBuildLogs as OkScenario), uuid: connection.uuid });

    const { result } = await diagnose(connection);

    const report = reportOf(result);
    expect(statuses(report).scopes).toEqual({ ...Object.fromEntries(REQUIRED_SCOPE_NAMES.map((scope) => [scope, "passed"])), read_build_logs: "failed" });
    expect(report.scopes.find((check) => check.scope === "read_build_logs")!.detail).toBe("Buildkite says the token lacks read_build_logs.");
    const row = diagnosticsState(result);
    expect(row).toMatchObject({ status: "report", summary: expect.stringMatching(/^1 check failed\b/) });
    const logsRow = (row as Extract<typeof row, { status: "report" }>).scopes.find((scope) => scope.key === "read_build_logs");
    expect(logsRow?.fix).toContain("Without it: read the logs of failed jobs to analyse failures.");
    expect((await auditOf(harness.db, connection.tenant.organizationId)).at(-1)).toMatchObject({
      action: "buildkite.diagnostics",
      detail: { passed: 11, failed: 1 },
    });
  });

  it("an organisation with no builds: the job scopes come from the token's scope list, and the latest build is a warning", async () => {
    const connection = await connected({ ...(BUILDKITE_FIXTURES.noBuilds as OkScenario) });

    const { result, calls } = await diagnose(connection);

    const report = reportOf(result);
    expect(report.scopes.every((check) => check.status === "passed")).toBe(true);
    for (const scope of JOB_SCOPES) {
      expect(report.scopes.find((check) => check.scope === scope)!.detail).toMatch(/comes from the token's scope list: granted/);
    }
    expect(report.data.find((check) => check.id === "latest_build")).toMatchObject({ status: "warning", detail: "There are no builds yet." });
    expect(pathsOf(calls)).toEqual(FIRST_WAVE);
  });

  it("no builds and a scope the record no longer lists: that job scope fails from the list", async () => {
    const connection = await connected({ ...(BUILDKITE_FIXTURES.noBuilds as OkScenario) });
    // Buildkite took read_job_env away; a verify refreshes the record's scopes.
    harness.buildkite.register(connection.token, {
      ...(BUILDKITE_FIXTURES.noBuilds as OkScenario),
      uuid: connection.uuid,
      scopes: REQUIRED_SCOPE_NAMES.filter((scope) => scope !== "read_job_env"),
    });
    await reverify(deps(), connection.tenant);

    const { result } = await diagnose(connection);

    const check = reportOf(result).scopes.find((scope) => scope.scope === "read_job_env");
    expect(check).toMatchObject({ status: "failed", detail: expect.stringMatching(/scope list: not granted/) });
  });

  it("the organisation removed from the token: the organisation check fails, and nothing claims a job scope works", async () => {
    const connection = await connected();
    harness.buildkite.register(connection.token, goodScenario({ uuid: connection.uuid, organizations: [] }));

    const { result, calls } = await diagnose(connection);

    const report = reportOf(result);
    expect(report.data.find((check) => check.id === "organization")).toMatchObject({ status: "failed", detail: "The token cannot reach Acme Inc." });
    expect(report.organization).toEqual({ slug: ORG, name: "Acme Inc" });
    expect(statuses(report).scopes).toMatchObject({
      read_user: "passed",
      read_organizations: "not_checked",
      read_pipelines: "not_checked",
      read_builds: "not_checked",
      read_teams: "not_checked",
      read_suites: "not_checked",
    });
    expect(statuses(report).data).toMatchObject({ pipelines: "not_checked", latest_build: "not_checked", pipeline_repositories: "not_checked" });
    expect(pathsOf(calls)).toEqual(FIRST_WAVE);
    // The builds could not be listed, so there is no telling whether the job scopes work: they must not read
    // "passed — there is no build to test it against yet" (diagnostics.ts byJob falls back to the scope list
    // whenever there is no latest build, including when listing the builds failed).
    for (const scope of JOB_SCOPES) {
      const check = report.scopes.find((candidate) => candidate.scope === scope)!;
      expect({ scope, status: check.status }).toEqual({ scope, status: "not_checked" });
    }
  });

  it("a revoked token → failure token_rejected after the first six calls, audited", async () => {
    const connection = await connected();
    harness.buildkite.revoke(connection.token);

    const { result, calls } = await diagnose(connection);

    expect(result).toEqual({ ok: false, failure: { code: "token_rejected" } });
    expect(pathsOf(calls)).toEqual(FIRST_WAVE);
    expect((await auditOf(harness.db, connection.tenant.organizationId)).at(-1)).toMatchObject({
      action: "buildkite.diagnostics",
      outcome: "failure",
      code: "token_rejected",
    });
  });
});

describe("runDiagnostics with the aws secret store", () => {
  const { connected, diagnose } = suiteFor(awsBackend(() => harness.secretsManager));

  it("a good token: every scope passes, nine calls, audited", async () => {
    const connection = await connected();

    const { result, calls } = await diagnose(connection);

    expect(statuses(reportOf(result))).toEqual({
      scopes: Object.fromEntries(REQUIRED_SCOPE_NAMES.map((scope) => [scope, "passed"])),
      data: { organization: "passed", pipelines: "passed", latest_build: "passed", pipeline_repositories: "warning" },
    });
    expect(calls).toHaveLength(9);
    expect((await auditOf(harness.db, connection.tenant.organizationId)).at(-1)).toMatchObject({
      action: "buildkite.diagnostics",
      detail: { passed: 12, failed: 0 },
    });
  });
});
