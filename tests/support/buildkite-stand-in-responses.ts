import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpResponse, type JsonBodyType } from "msw";
import {
  DAY_MS,
  HOUR_MS,
  MAX_LATENCY_MS,
  MESSAGES,
  ORG_RATE_LIMIT,
  STAND_IN_JOB_SECRET,
  USER_RATE_LIMIT,
  type StandInArtifact,
  type StandInBuild,
  type StandInJob,
  type StandInOrganization,
  type StandInOrganizationData,
  type StandInPipeline,
  type StandInSuite,
  type StandInTeam,
} from "./buildkite-stand-in-model";

/**
 * The Buildkite stand-in's answers: JSON bodies shaped as Buildkite's REST API returns them (ids, URLs, pagination
 * Link headers, RateLimit-* headers, error bodies), built from the model, and the small helpers that read a request
 * (its bearer token, path parameters, public origin). Pure functions: the server (buildkite-stand-in.ts) decides
 * which answer a request gets.
 */

/** What an organisation holds when its scenario says nothing: three pipelines (one without a repository), three
 *  builds across two pipelines with script, waiter and block jobs, two teams and a Test Engine suite. */
export function defaultOrganizationData(slug: string): Required<StandInOrganizationData> {
  return {
    pipelines: [
      { slug: "web-app", name: "Web App", repository: `git@github.com:${slug}/web-app.git` },
      { slug: "deploy", name: "Deploy", repository: `git@github.com:${slug}/deploy.git` },
      { slug: "scratchpad", name: "Scratchpad", repository: null },
    ],
    builds: [
      {
        number: 42,
        pipeline: "web-app",
        state: "failed",
        createdOffsetMs: -15 * 60_000,
        message: "Fix flaky checkout spec",
        jobs: [
          {
            type: "script",
            name: ":rspec: RSpec",
            state: "failed",
            artifacts: [
              { path: "tmp/junit/rspec.xml", fileSize: 48_213, mimeType: "application/xml" },
              { path: "log/test.log", fileSize: 1_204_551, mimeType: "text/plain" },
            ],
          },
          { type: "waiter" },
          { type: "script", name: ":eslint: Lint", state: "passed" },
        ],
      },
      { number: 41, pipeline: "web-app", state: "passed", createdOffsetMs: -2 * HOUR_MS, jobs: [{ type: "script", name: ":rspec: RSpec" }] },
      {
        number: 7,
        pipeline: "deploy",
        state: "passed",
        createdOffsetMs: -DAY_MS,
        message: "Deploy v2.3.1",
        jobs: [{ type: "script", name: ":rocket: Deploy" }, { type: "manual", name: "Release to production", state: "unblocked" }],
      },
    ],
    teams: [
      { slug: "platform", name: "Platform" },
      { slug: "web", name: "Web" },
    ],
    suites: [{ slug: "web-app-rspec", name: "Web App RSpec" }],
  };
}

export type ResolvedJob = { org: StandInOrganization; pipeline: StandInPipeline; build: StandInBuild; job: StandInJob; index: number };

export type RateLimitState = { orgRemaining: number; orgReset: number; userRemaining: number; userReset: number };

export function staticRateLimit(overrides: Partial<RateLimitState> = {}): RateLimitState {
  return { orgRemaining: ORG_RATE_LIMIT - 1, orgReset: 60, userRemaining: USER_RATE_LIMIT - 1, userReset: 60, ...overrides };
}

/** Both documented sets: `RateLimit-*` for the organisation (scope rest), `RateLimit-User-*` for the user. */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "RateLimit-Scope": "rest",
    "RateLimit-Limit": String(ORG_RATE_LIMIT),
    "RateLimit-Remaining": String(Math.max(0, state.orgRemaining)),
    "RateLimit-Reset": String(state.orgReset),
    "RateLimit-User-Scope": "rest_user",
    "RateLimit-User-Limit": String(USER_RATE_LIMIT),
    "RateLimit-User-Remaining": String(Math.max(0, state.userRemaining)),
    "RateLimit-User-Reset": String(state.userReset),
  };
}

export function apiJson(body: JsonBodyType, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return HttpResponse.json(body, {
    status: init.status ?? 200,
    headers: { ...rateLimitHeaders(staticRateLimit()), ...init.headers },
  });
}

export function unauthorized(): Response {
  return apiJson({ message: MESSAGES.unauthorized }, { status: 401 });
}

export function notFound(): Response {
  return apiJson({ message: MESSAGES.notFound }, { status: 404 });
}

export function rateLimited(scope: "rest" | "rest_user", resetSeconds: number, current: number, state: RateLimitState): Response {
  const limit = scope === "rest" ? ORG_RATE_LIMIT : USER_RATE_LIMIT;
  return HttpResponse.json(
    { message: MESSAGES.rateLimited(resetSeconds), scope, limit, current, reset: resetSeconds },
    { status: 429, headers: rateLimitHeaders(state) },
  );
}

export function serverError(status: 500 | 502 | 503): Response {
  // Buildkite does not document a 5xx body; an HTML page keeps the client from depending on one.
  const title = { 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" }[status];
  return new HttpResponse(`<!DOCTYPE html><html><body><h1>${status} ${title}</h1></body></html>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** One page of a list, with Buildkite's Link header (per_page default 30, max 100). */
export function paginated<T>(url: URL, origin: string, items: readonly T[], render: (item: T, index: number) => JsonBodyType): Response {
  const perPage = clampInt(url.searchParams.get("per_page"), 30, 1, 100);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const page = clampInt(url.searchParams.get("page"), 1, 1, Number.MAX_SAFE_INTEGER);
  const start = (page - 1) * perPage;
  const body = items.slice(start, start + perPage).map((item, i) => render(item, start + i));
  const pageUrl = (n: number) => {
    const target = new URL(url.pathname, origin);
    target.searchParams.set("page", String(n));
    target.searchParams.set("per_page", String(perPage));
    return target.toString();
  };
  // Buildkite's order: next, last on early pages; first, prev on later ones.
  const links: string[] = [];
  if (page < lastPage) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`);
  if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(Math.min(page - 1, lastPage))}>; rel="prev"`);
  return apiJson(body, links.length > 0 ? { headers: { Link: links.join(", ") } } : {});
}

export function organizationBody(origin: string, org: StandInOrganization) {
  const id = uuidFor(`org:${org.slug}`);
  return {
    id,
    graphql_id: graphqlId("Organization", id),
    url: `${origin}/v2/organizations/${org.slug}`,
    web_url: `https://buildkite.com/${org.slug}`,
    name: org.name,
    slug: org.slug,
    agents_url: `${origin}/v2/organizations/${org.slug}/agents`,
    emojis_url: `${origin}/v2/organizations/${org.slug}/emojis`,
    created_at: isoDate(new Date(Date.UTC(2021, 2, 4, 10, 0, 0))),
    pipelines_url: `${origin}/v2/organizations/${org.slug}/pipelines`,
  };
}

export function userBody(seed: string, person: { name: string; email: string }) {
  const id = uuidFor(seed);
  return {
    id,
    graphql_id: graphqlId("User", id),
    name: person.name,
    email: person.email,
    avatar_url: "https://www.gravatar.com/avatar/00000000000000000000000000000000",
    created_at: isoDate(new Date(Date.UTC(2022, 0, 18, 2, 51, 30))),
  };
}

export function pipelineBody(origin: string, orgSlug: string, pipeline: StandInPipeline) {
  const id = uuidFor(`pipeline:${orgSlug}/${pipeline.slug}`);
  const api = `${origin}/v2/organizations/${orgSlug}/pipelines/${pipeline.slug}`;
  return {
    id,
    graphql_id: graphqlId("Pipeline", id),
    url: api,
    web_url: `https://buildkite.com/${orgSlug}/${pipeline.slug}`,
    name: pipeline.name,
    description: null,
    slug: pipeline.slug,
    repository: pipeline.repository,
    cluster_id: null,
    branch_configuration: null,
    default_branch: "main",
    skip_queued_branch_builds: false,
    skip_queued_branch_builds_filter: null,
    cancel_running_branch_builds: false,
    cancel_running_branch_builds_filter: null,
    provider: pipeline.repository
      ? { id: "github", webhook_url: "", settings: { trigger_mode: "code", build_pull_requests: true, publish_commit_status: true } }
      : { id: "unknown", webhook_url: "", settings: {} },
    builds_url: `${api}/builds`,
    badge_url: `https://badge.buildkite.com/${createHash("sha256").update(id).digest("hex").slice(0, 50)}.svg`,
    created_at: isoDate(new Date(Date.UTC(2023, 4, 9, 21, 5, 59))),
    archived_at: null,
    env: null,
    scheduled_builds_count: 0,
    running_builds_count: 0,
    scheduled_jobs_count: 0,
    running_jobs_count: 0,
    waiting_jobs_count: 0,
    visibility: "private",
    tags: null,
  };
}

export function jobId(orgSlug: string, build: StandInBuild, job: StandInJob, index: number): string {
  return job.id ?? uuidFor(`job:${orgSlug}/${build.pipeline}/${build.number}/${index}`);
}

export function createdAt(build: StandInBuild, now: number): number {
  return now + (build.createdOffsetMs ?? -HOUR_MS);
}

export function buildBody(origin: string, orgSlug: string, pipelines: readonly StandInPipeline[], build: StandInBuild, now: number) {
  const pipeline = pipelines.find((candidate) => candidate.slug === build.pipeline) ?? { slug: build.pipeline, name: build.pipeline, repository: null };
  const id = uuidFor(`build:${orgSlug}/${build.pipeline}/${build.number}`);
  const created = createdAt(build, now);
  const finished = build.state === "running" || build.state === "scheduled" ? null : isoDate(new Date(created + 6 * 60_000));
  const webUrl = `https://buildkite.com/${orgSlug}/${build.pipeline}/builds/${build.number}`;
  return {
    id,
    graphql_id: graphqlId("Build", id),
    url: `${origin}/v2/organizations/${orgSlug}/pipelines/${build.pipeline}/builds/${build.number}`,
    web_url: webUrl,
    number: build.number,
    state: build.state,
    cancel_reason: null,
    blocked: false,
    message: build.message ?? "Merge pull request #1 from feature/branch",
    commit: createHash("sha1").update(id).digest("hex"),
    branch: build.branch ?? "main",
    env: {},
    source: "webhook",
    creator: null,
    jobs: build.jobs.map((job, index) => {
      const resolved = { org: { slug: orgSlug, name: orgSlug }, pipeline, build, job, index };
      return jobBody(origin, resolved, webUrl, created);
    }),
    created_at: isoDate(new Date(created)),
    scheduled_at: isoDate(new Date(created)),
    started_at: isoDate(new Date(created + 20_000)),
    failing_at: build.state === "failed" ? isoDate(new Date(created + 4 * 60_000)) : null,
    finished_at: finished,
    meta_data: {},
    pull_request: null,
    rebuilt_from: null,
    pipeline: pipelineBody(origin, orgSlug, pipeline),
  };
}

export function jobBody(origin: string, resolved: ResolvedJob, buildWebUrl: string, buildCreated: number) {
  const { job } = resolved;
  const id = jobId(resolved.org.slug, resolved.build, job, resolved.index);
  const common = { id, graphql_id: graphqlId("Job", id), type: job.type };
  const state = job.state ?? resolved.build.state;
  switch (job.type) {
    case "waiter":
      return common;
    case "manual":
      return { ...common, label: job.name ?? "Continue", state, web_url: null, unblocked_by: null, unblocked_at: null, unblockable: state === "blocked" };
    case "trigger":
      return { ...common, name: job.name ?? "Trigger", state, async: false, triggered_build: null, web_url: `${buildWebUrl}#${id}` };
    case "script": {
      const api = jobUrl(origin, resolved);
      return {
        ...common,
        name: job.name ?? "Run tests",
        step_key: null,
        priority: { number: 0 },
        agent_query_rules: ["queue=default"],
        state,
        build_url: `${origin}/v2/organizations/${resolved.org.slug}/pipelines/${resolved.build.pipeline}/builds/${resolved.build.number}`,
        web_url: `${buildWebUrl}#${id}`,
        log_url: `${api}/log`,
        raw_log_url: `${api}/log.txt`,
        artifacts_url: `${api}/artifacts`,
        command: "bin/ci",
        soft_failed: false,
        exit_status: state === "failed" ? 1 : 0,
        artifact_paths: job.artifacts?.length ? "tmp/**/*;log/*" : null,
        agent: null,
        created_at: isoDate(new Date(buildCreated)),
        scheduled_at: isoDate(new Date(buildCreated)),
        runnable_at: isoDate(new Date(buildCreated + 5_000)),
        started_at: isoDate(new Date(buildCreated + 20_000)),
        finished_at: isoDate(new Date(buildCreated + 5 * 60_000)),
        retried: false,
        retried_in_job_id: null,
        retries_count: null,
        retry_type: null,
        parallel_group_index: null,
        parallel_group_total: null,
        matrix: null,
        cluster_id: null,
        cluster_queue_id: null,
      };
    }
  }
}

export function jobUrl(origin: string, { org, build, job, index }: ResolvedJob): string {
  return `${origin}/v2/organizations/${org.slug}/pipelines/${build.pipeline}/builds/${build.number}/jobs/${jobId(org.slug, build, job, index)}`;
}

export function artifactBody(origin: string, resolved: ResolvedJob, artifact: StandInArtifact, index: number) {
  const jobIdValue = jobId(resolved.org.slug, resolved.build, resolved.job, resolved.index);
  const id = uuidFor(`artifact:${jobIdValue}/${index}`);
  const slash = artifact.path.lastIndexOf("/");
  const url = `${jobUrl(origin, resolved)}/artifacts/${id}`;
  return {
    id,
    job_id: jobIdValue,
    url,
    download_url: `${url}/download`,
    state: "finished",
    path: artifact.path,
    dirname: slash >= 0 ? artifact.path.slice(0, slash) : ".",
    filename: artifact.path.slice(slash + 1),
    mime_type: artifact.mimeType ?? "application/octet-stream",
    file_size: artifact.fileSize,
    glob_path: null,
    original_path: null,
    sha1sum: createHash("sha1").update(`${id}:${artifact.path}`).digest("hex"),
  };
}

export function teamBody(orgSlug: string, team: StandInTeam) {
  const id = uuidFor(`team:${orgSlug}/${team.slug}`);
  return {
    id,
    graphql_id: graphqlId("Team", id),
    name: team.name,
    slug: team.slug,
    description: "",
    created_at: isoDate(new Date(Date.UTC(2023, 2, 14, 0, 45, 16))),
    privacy: "visible",
    default: false,
    created_by: userBody(`team-creator:${orgSlug}`, { name: "Organization Admin", email: "admin@example.test" }),
  };
}

export function suiteBody(origin: string, orgSlug: string, suite: StandInSuite) {
  return {
    id: uuidFor(`suite:${orgSlug}/${suite.slug}`),
    slug: suite.slug,
    name: suite.name,
    url: `${origin}/v2/analytics/organizations/${orgSlug}/suites/${suite.slug}`,
    web_url: `https://buildkite.com/organizations/${orgSlug}/analytics/suites/${suite.slug}`,
    default_branch: "main",
  };
}

export function defaultLog({ build, job }: ResolvedJob): string {
  return [
    `~~~ Preparing working directory`,
    `$ cd /var/lib/buildkite-agent/builds/agent-1/${build.pipeline}`,
    `--- ${job.name ?? "Run tests"}`,
    `$ bin/ci`,
    build.state === "failed" ? "1 example, 1 failure" : "42 examples, 0 failures",
    "",
  ].join("\n");
}

export function defaultEnv({ org, build, job, index }: ResolvedJob): Record<string, string> {
  return {
    CI: "true",
    BUILDKITE: "true",
    BUILDKITE_ORGANIZATION_SLUG: org.slug,
    BUILDKITE_PIPELINE_SLUG: build.pipeline,
    BUILDKITE_BUILD_NUMBER: String(build.number),
    BUILDKITE_JOB_ID: jobId(org.slug, build, job, index),
    BUILDKITE_BRANCH: build.branch ?? "main",
    BUILDKITE_COMMAND: "bin/ci",
    DATABASE_URL: "postgres://ci:st4nd1n-db-p4ssw0rd@db.internal:5432/ci",
    STRIPE_SECRET_KEY: STAND_IN_JOB_SECRET,
  };
}

export function bearerToken(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1] ?? null;
}

/** The organisation an organisation-scoped path names, decoded. */
export function organizationInPath(pathname: string): string | undefined {
  const match = /^\/v2\/(?:analytics\/)?organizations\/([^/]+)(?:\/|$)/.exec(pathname);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

export function stringParams(params: Record<string, string | readonly string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "string") result[key] = value;
  }
  return result;
}

/** The origin the client addressed (e.g. localhost vs 127.0.0.1), so URLs we hand back point where it already goes. */
export function publicOrigin(request: Request, fallback: string): string {
  const host = request.headers.get("host");
  return host ? `http://${host}` : fallback;
}

export async function toFetchRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Promise<Request> {
  const url = new URL(req.url ?? "/", origin);
  const headers = new Headers();
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    headers.append(req.rawHeaders[index]!, req.rawHeaders[index + 1]!);
  }
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  }
  return new Request(url, { method, headers, body: body && body.length > 0 ? new Uint8Array(body) : undefined, signal });
}

export function checkedLatency(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_LATENCY_MS) throw new Error(`latency must be 0-${MAX_LATENCY_MS} ms, got ${ms}`);
  return ms;
}

export function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const value = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

export function uuidFor(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function graphqlId(type: string, id: string): string {
  return Buffer.from(`${type}---${id}`).toString("base64");
}

export function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** "2025-07-16 06:07:42 UTC", the format in Buildkite's docs. */
export function docsDate(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`
  );
}

export function isoDate(date: Date): string {
  return date.toISOString();
}
