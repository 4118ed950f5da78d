import "server-only";

import {
  buildListSchema,
  countedListSchema,
  jobEnvSchema,
  jobLogSchema,
  pipelineListSchema,
  type BuildkiteBuild,
  type BuildkiteCount,
  type BuildkiteJobEnv,
  type BuildkiteJobLog,
  type BuildkitePipelinePage,
} from "./diagnostics-schemas";
import { lastPageNumber } from "./links";
import { headerValue, parseBody, type CallOptions, type Transport } from "./transport";

/**
 * One cheap call per required scope, for "Run diagnostics" (docs/buildkite-api.md, "One cheap call per required
 * scope"). A 403 naming a scope is BuildkiteError "forbidden" with `missingScope`; a 404 is "not_found" (the token
 * cannot reach that organisation, pipeline, build or job).
 */

export type PageRequest = { perPage: number; page?: number };

/** A job, addressed as Buildkite's job routes do. */
export type JobAddress = { org: string; pipeline: string; buildNumber: number; jobId: string };

// Buildkite's documented default and maximum page sizes.
const MAX_PER_PAGE = 100;

export async function listPipelines(
  transport: Transport,
  token: string,
  org: string,
  page: PageRequest,
  options?: CallOptions,
): Promise<BuildkitePipelinePage> {
  const url = transport.url(["v2", "organizations", org, "pipelines"], { per_page: perPage(page.perPage), page: pageNumber(page.page) });
  const { body, headers } = await transport.getJson(token, url, options);
  return { pipelines: parseBody(pipelineListSchema, body, "pipeline list"), lastPage: lastPageNumber(headerValue(headers, "link"), url) };
}

export async function listBuilds(
  transport: Transport,
  token: string,
  org: string,
  page: PageRequest,
  options?: CallOptions,
): Promise<BuildkiteBuild[]> {
  const url = transport.url(["v2", "organizations", org, "builds"], { per_page: perPage(page.perPage) });
  const { body } = await transport.getJson(token, url, options);
  return parseBody(buildListSchema, body, "build list");
}

export async function listTeams(transport: Transport, token: string, org: string, options?: CallOptions): Promise<BuildkiteCount> {
  const url = transport.url(["v2", "organizations", org, "teams"], { per_page: 1 });
  const { body } = await transport.getJson(token, url, options);
  return parseBody(countedListSchema, body, "team list");
}

export async function listSuites(transport: Transport, token: string, org: string, options?: CallOptions): Promise<BuildkiteCount> {
  const url = transport.url(["v2", "analytics", "organizations", org, "suites"], { per_page: 1 });
  const { body } = await transport.getJson(token, url, options);
  return parseBody(countedListSchema, body, "suite list");
}

export async function listJobArtifacts(transport: Transport, token: string, job: JobAddress, options?: CallOptions): Promise<BuildkiteCount> {
  const { body } = await transport.getJson(token, transport.url([...jobPath(job), "artifacts"], { per_page: 1 }), options);
  return parseBody(countedListSchema, body, "artifact list");
}

/** Checks the log can be read; returns its size only (logs can hold secrets a build printed). */
export async function getJobLog(transport: Transport, token: string, job: JobAddress, options?: CallOptions): Promise<BuildkiteJobLog> {
  const { body } = await transport.getJson(token, transport.url([...jobPath(job), "log"]), options);
  return parseBody(jobLogSchema, body, "job log");
}

/** Checks the environment can be read; returns how many variables it has, never the variables themselves. */
export async function getJobEnv(transport: Transport, token: string, job: JobAddress, options?: CallOptions): Promise<BuildkiteJobEnv> {
  const { body } = await transport.getJson(token, transport.url([...jobPath(job), "env"]), options);
  return parseBody(jobEnvSchema, body, "job environment");
}

function jobPath(job: JobAddress): (string | number)[] {
  return ["v2", "organizations", job.org, "pipelines", job.pipeline, "builds", buildNumber(job.buildNumber), "jobs", job.jobId];
}

function perPage(value: number): number {
  return Number.isFinite(value) ? Math.min(MAX_PER_PAGE, Math.max(1, Math.trunc(value))) : 1;
}

function pageNumber(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? Math.max(1, Math.trunc(value)) : 1;
}

function buildNumber(value: number): string {
  // A build number is a non-negative integer; anything else would address some other path.
  return Number.isSafeInteger(value) && value >= 0 ? String(value) : "";
}
