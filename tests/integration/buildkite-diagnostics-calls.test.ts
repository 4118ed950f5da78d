import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBuildkiteClient, type BuildkiteClient } from "@/lib/buildkite/client";
import { BuildkiteError } from "@/lib/buildkite/errors";
import { REQUIRED_SCOPE_NAMES } from "@/lib/buildkite/scopes";
import { ACME_ORGANIZATION, BUILDKITE_FIXTURES, BUILDKITE_TOKENS, FIXTURE_OWNER, registerFixtures } from "../support/buildkite-fixtures";
import { defaultOrganizationData, STAND_IN_JOB_SECRET, startBuildkiteStandIn, type BuildkiteStandIn, type OkScenario } from "../support/buildkite-stand-in";

/**
 * The calls behind "Run diagnostics" and the organisation check, with the real client against the Buildkite
 * stand-in: what each returns, a 403 naming the missing scope, a 404 for an organisation the token cannot reach,
 * URL-encoded path segments, and that neither a job's environment nor its log leaves the client.
 */

const ORG = ACME_ORGANIZATION.slug;
const GOOD = BUILDKITE_TOKENS.good;

let standIn: BuildkiteStandIn;
let client: BuildkiteClient;

beforeAll(async () => {
  standIn = await startBuildkiteStandIn();
  registerFixtures(standIn);
  client = createBuildkiteClient({ baseUrl: standIn.url, connectTimeoutMs: 500, timeoutMs: 2_000 });
});

afterAll(async () => {
  await client?.close();
  await standIn?.close();
});

beforeEach(() => standIn.reset());

async function failure(promise: Promise<unknown>, token: string): Promise<BuildkiteError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildkiteError);
  const buildkiteError = error as BuildkiteError;
  for (const text of [buildkiteError.message, buildkiteError.stack ?? "", inspect(buildkiteError, { depth: 10 }), JSON.stringify(buildkiteError)]) {
    expect(text).not.toContain(token);
  }
  return buildkiteError;
}

const paths = () => standIn.requests.map((request) => request.path);

/** A token with every scope but `scope`, reaching the fixture organisation. */
function tokenWithout(scope: string): string {
  const token = `bkua_MTA.w1th0ut${scope.replace(/_/g, "")}Qw8Zx2Kp9L`;
  const base = BUILDKITE_FIXTURES.good as OkScenario;
  standIn.register(token, { ...base, scopes: REQUIRED_SCOPE_NAMES.filter((candidate) => candidate !== scope) });
  return token;
}

/** The newest build of the fixture organisation and its first job (a script job). */
async function firstJob(token = GOOD) {
  const [build] = await client.listBuilds(token, ORG, { perPage: 1 });
  const job = build!.jobs[0]!;
  return { pipeline: build!.pipeline.slug, number: build!.number, jobId: job.id };
}

describe("getOrganization", () => {
  it("returns a reachable organisation", async () => {
    expect(await client.getOrganization(GOOD, ORG)).toEqual(ACME_ORGANIZATION);
    expect(paths()).toEqual(["/v2/organizations/acme-inc"]);
  });

  it("answers not_found for an organisation the token cannot reach, and after an admin removes it", async () => {
    const notThere = await failure(client.getOrganization(GOOD, "road-runner-ops"), GOOD);
    expect(notThere.code).toBe("not_found");
    expect(notThere.status).toBe(404);

    const token = "bkua_MTA.rEm0vEdOrgQw8Zx2Kp9Lm5N";
    standIn.register(token, BUILDKITE_FIXTURES.good);
    expect(await client.getOrganization(token, ORG)).toEqual(ACME_ORGANIZATION);
    standIn.register(token, { ...(BUILDKITE_FIXTURES.good as OkScenario), organizations: [] });
    expect((await failure(client.getOrganization(token, ORG), token)).code).toBe("not_found");
    // The token itself still answers: a 200 here does not prove organisation access.
    expect((await client.getAccessToken(token)).scopes).toEqual(REQUIRED_SCOPE_NAMES);
  });

  it("names read_organizations when it is missing", async () => {
    const token = tokenWithout("read_organizations");
    const error = await failure(client.getOrganization(token, ORG), token);
    expect(error).toMatchObject({ code: "forbidden", status: 403, missingScope: "read_organizations" });
  });

  it("URL-encodes the slug and refuses dot segments without sending anything", async () => {
    expect((await failure(client.getOrganization(GOOD, "a b/c?d"), GOOD)).code).toBe("not_found");
    expect(paths()).toEqual(["/v2/organizations/a%20b%2Fc%3Fd"]);
    standIn.reset();
    for (const slug of ["..", ".", ""]) {
      const error = await failure(client.getOrganization(GOOD, slug), GOOD);
      expect(error).toMatchObject({ code: "not_found", reason: "invalid path segment" });
    }
    expect(standIn.requests).toEqual([]);
  });
});

describe("getUser", () => {
  it("returns the token owner's name and email", async () => {
    expect(await client.getUser(GOOD)).toEqual(FIXTURE_OWNER);
    expect(paths()).toEqual(["/v2/user"]);
  });

  it("names read_user when it is missing", async () => {
    const token = tokenWithout("read_user");
    expect((await failure(client.getUser(token), token)).missingScope).toBe("read_user");
  });
});

describe("listPipelines", () => {
  it("returns a page of pipelines, a null repository included, and the last page from the Link header", async () => {
    const first = await client.listPipelines(GOOD, ORG, { perPage: 1 });
    expect(first).toEqual({ pipelines: [{ slug: "web-app", name: "Web App", repository: "git@github.com:acme-inc/web-app.git" }], lastPage: 3 });
    const last = await client.listPipelines(GOOD, ORG, { perPage: 1, page: 3 });
    // Buildkite sends no rel="last" on the last page.
    expect(last).toEqual({ pipelines: [{ slug: "scratchpad", name: "Scratchpad", repository: null }], lastPage: null });
    const all = await client.listPipelines(GOOD, ORG, { perPage: 100 });
    expect(all.pipelines.map((pipeline) => pipeline.slug)).toEqual(["web-app", "deploy", "scratchpad"]);
    expect(all.lastPage).toBeNull();
    expect(paths()).toEqual([
      "/v2/organizations/acme-inc/pipelines?per_page=1&page=1",
      "/v2/organizations/acme-inc/pipelines?per_page=1&page=3",
      "/v2/organizations/acme-inc/pipelines?per_page=100&page=1",
    ]);
  });

  it("clamps per_page to Buildkite's 1–100", async () => {
    await client.listPipelines(GOOD, ORG, { perPage: 500 });
    await client.listPipelines(GOOD, ORG, { perPage: 0 });
    expect(paths()).toEqual(["/v2/organizations/acme-inc/pipelines?per_page=100&page=1", "/v2/organizations/acme-inc/pipelines?per_page=1&page=1"]);
  });

  it("names read_pipelines when it is missing, and 404s an unreachable organisation", async () => {
    const token = tokenWithout("read_pipelines");
    expect((await failure(client.listPipelines(token, ORG, { perPage: 1 }), token)).missingScope).toBe("read_pipelines");
    expect((await failure(client.listPipelines(GOOD, "acme-labs", { perPage: 1 }), GOOD)).code).toBe("not_found");
  });
});

describe("listBuilds", () => {
  it("returns the newest builds with their pipeline and job ids", async () => {
    const before = Date.now();
    const builds = await client.listBuilds(GOOD, ORG, { perPage: 2 });
    expect(paths()).toEqual(["/v2/organizations/acme-inc/builds?per_page=2"]);
    expect(builds.map(({ number, state, pipeline }) => ({ number, state, pipeline }))).toEqual([
      { number: 42, state: "failed", pipeline: { slug: "web-app", name: "Web App" } },
      { number: 41, state: "passed", pipeline: { slug: "web-app", name: "Web App" } },
    ]);
    const [newest] = builds;
    expect(Math.abs(newest!.createdAt!.getTime() - (before - 15 * 60_000))).toBeLessThan(5_000);
    expect(newest!.webUrl).toBe("https://buildkite.com/acme-inc/web-app/builds/42");
    expect(newest!.jobs.map((job) => job.type)).toEqual(["script", "waiter", "script"]);
    for (const job of newest!.jobs) expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("returns an empty list for an organisation with no builds", async () => {
    expect(await client.listBuilds(BUILDKITE_TOKENS.noBuilds, ORG, { perPage: 1 })).toEqual([]);
  });

  it("names read_builds when it is missing", async () => {
    const token = tokenWithout("read_builds");
    expect((await failure(client.listBuilds(token, ORG, { perPage: 1 }), token)).missingScope).toBe("read_builds");
  });
});

describe("listTeams and listSuites", () => {
  it("count the page fetched, asking for one item", async () => {
    expect(await client.listTeams(GOOD, ORG)).toEqual({ count: 1 });
    expect(await client.listSuites(GOOD, ORG)).toEqual({ count: 1 });
    expect(paths()).toEqual(["/v2/organizations/acme-inc/teams?per_page=1", "/v2/analytics/organizations/acme-inc/suites?per_page=1"]);
  });

  it("name read_teams / read_suites when missing (the missingScopes fixture lacks read_suites)", async () => {
    const token = tokenWithout("read_teams");
    expect((await failure(client.listTeams(token, ORG), token)).missingScope).toBe("read_teams");
    const missing = BUILDKITE_TOKENS.missingScopes;
    expect((await failure(client.listSuites(missing, ORG), missing)).missingScope).toBe("read_suites");
    expect((await failure(client.listSuites(GOOD, "acme-labs"), GOOD)).code).toBe("not_found");
  });
});

describe("job calls", () => {
  it("list a job's artifacts, read its log size and count its environment", async () => {
    const { pipeline, number, jobId } = await firstJob();
    standIn.reset();
    expect(await client.listJobArtifacts(GOOD, ORG, pipeline, number, jobId)).toEqual({ count: 1 });
    const log = await client.getJobLog(GOOD, ORG, pipeline, number, jobId);
    expect(log.size).toBeGreaterThan(0);
    const env = await client.getJobEnv(GOOD, ORG, pipeline, number, jobId);
    expect(env).toEqual({ variableCount: 10 });
    const base = `/v2/organizations/acme-inc/pipelines/web-app/builds/42/jobs/${jobId}`;
    expect(paths()).toEqual([`${base}/artifacts?per_page=1`, `${base}/log`, `${base}/env`]);
  });

  it("never return the environment's values or names, nor the log's text", async () => {
    const { pipeline, number, jobId } = await firstJob();
    const env = await client.getJobEnv(GOOD, ORG, pipeline, number, jobId);
    const log = await client.getJobLog(GOOD, ORG, pipeline, number, jobId);
    for (const result of [env, log]) {
      const shown = `${JSON.stringify(result)} ${inspect(result, { depth: 10, showHidden: true })}`;
      expect(shown).not.toContain(STAND_IN_JOB_SECRET);
      expect(shown).not.toContain("STRIPE_SECRET_KEY");
      expect(shown).not.toContain("st4nd1n-db-p4ssw0rd");
      expect(shown).not.toContain("examples");
    }
    expect(Object.keys(env)).toEqual(["variableCount"]);
    expect(Object.keys(log)).toEqual(["size"]);
  });

  it("name each job scope when it is missing", async () => {
    const { pipeline, number, jobId } = await firstJob();
    const logs = BUILDKITE_TOKENS.missingBuildLogs;
    expect((await failure(client.getJobLog(logs, ORG, pipeline, number, jobId), logs)).missingScope).toBe("read_build_logs");
    // The same token still reads artifacts and the environment.
    expect((await client.listJobArtifacts(logs, ORG, pipeline, number, jobId)).count).toBe(1);
    expect((await client.getJobEnv(logs, ORG, pipeline, number, jobId)).variableCount).toBe(10);

    const env = BUILDKITE_TOKENS.missingScopes;
    expect((await failure(client.getJobEnv(env, ORG, pipeline, number, jobId), env)).missingScope).toBe("read_job_env");
    const artifacts = tokenWithout("read_artifacts");
    expect((await failure(client.listJobArtifacts(artifacts, ORG, pipeline, number, jobId), artifacts)).missingScope).toBe("read_artifacts");
  });

  it("answer not_found for an unknown job, build, pipeline or organisation", async () => {
    const { pipeline, number, jobId } = await firstJob();
    const cases: Array<[string, string, number, string]> = [
      [ORG, pipeline, number, "00000000-0000-4000-a000-000000000000"],
      [ORG, pipeline, 9_999, jobId],
      [ORG, "no-such-pipeline", number, jobId],
      ["acme-labs", pipeline, number, jobId],
    ];
    for (const [org, pipe, build, job] of cases) {
      const error = await failure(client.getJobEnv(GOOD, org, pipe, build, job), GOOD);
      expect(error).toMatchObject({ code: "not_found", status: 404 });
    }
  });

  it("refuse a build number that is not a whole number, without sending anything", async () => {
    standIn.reset();
    const error = await failure(client.getJobLog(GOOD, ORG, "web-app", 1.5, "job"), GOOD);
    expect(error).toMatchObject({ code: "not_found", reason: "invalid path segment" });
    expect(standIn.requests).toEqual([]);
  });

  it("read per-organisation data a scenario sets", async () => {
    const token = "bkua_MTA.cUst0mDaTaQw8Zx2Kp9Lm5N";
    const defaults = defaultOrganizationData(ORG);
    standIn.register(token, {
      ...(BUILDKITE_FIXTURES.good as OkScenario),
      organizationData: {
        [ORG]: {
          builds: [
            {
              number: 3,
              pipeline: "deploy",
              state: "running",
              jobs: [{ id: "0190f1a2-0000-4000-a000-00000000beef", type: "script", env: { ONLY: "one" }, artifacts: [] }],
            },
          ],
          teams: [],
        },
      },
    });
    const [build] = await client.listBuilds(token, ORG, { perPage: 5 });
    expect(build).toMatchObject({ number: 3, state: "running", pipeline: { slug: "deploy", name: "Deploy" } });
    expect(build!.jobs).toEqual([{ id: "0190f1a2-0000-4000-a000-00000000beef", type: "script" }]);
    expect(await client.getJobEnv(token, ORG, "deploy", 3, "0190f1a2-0000-4000-a000-00000000beef")).toEqual({ variableCount: 1 });
    expect(await client.listJobArtifacts(token, ORG, "deploy", 3, "0190f1a2-0000-4000-a000-00000000beef")).toEqual({ count: 0 });
    expect(await client.listTeams(token, ORG)).toEqual({ count: 0 });
    // Fields the scenario leaves out keep their defaults.
    expect((await client.listPipelines(token, ORG, { perPage: 100 })).pipelines).toEqual(defaults.pipelines);
  });
});
