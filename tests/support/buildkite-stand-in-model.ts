/**
 * What the Buildkite stand-in serves and how it fails: the organisations' data, the per-token scenarios, Buildkite's
 * own messages and rate limits (docs/buildkite-api.md). Shared by the server (buildkite-stand-in.ts) and the response
 * bodies it writes (buildkite-stand-in-responses.ts). Relative imports only (buildkite-stand-in-cli.ts runs it under
 * plain node).
 */

export type StandInOrganization = { slug: string; name: string };

export type StandInPipeline = { slug: string; name: string; repository: string | null };

export type StandInArtifact = { path: string; fileSize: number; mimeType?: string };

export type StandInJob = {
  /** Defaults to a UUID derived from the organisation, pipeline, build number and the job's position. */
  id?: string;
  type: "script" | "waiter" | "manual" | "trigger";
  name?: string;
  /** Defaults to the build's state. */
  state?: string;
  artifacts?: readonly StandInArtifact[];
  /** The job's log text; defaults to a few lines naming the job. */
  log?: string;
  /** The job's environment; defaults to Buildkite's variables plus two that look like customers' secrets
   *  (one of them STAND_IN_JOB_SECRET), so tests can check no caller ever passes the values on. */
  env?: Readonly<Record<string, string>>;
};

export type StandInBuild = {
  number: number;
  /** Slug of one of the organisation's pipelines. */
  pipeline: string;
  state: string;
  /** Relative to the moment of each request; defaults to one hour ago. Lists are newest first. */
  createdOffsetMs?: number;
  branch?: string;
  message?: string;
  jobs: readonly StandInJob[];
};

export type StandInTeam = { slug: string; name: string };
export type StandInSuite = { slug: string; name: string };

/** What one organisation holds. Each field left out takes its default (defaultOrganizationData). */
export type StandInOrganizationData = {
  pipelines?: readonly StandInPipeline[];
  builds?: readonly StandInBuild[];
  teams?: readonly StandInTeam[];
  suites?: readonly StandInSuite[];
};

export type OkScenario = {
  kind: "ok";
  scopes: readonly string[];
  /** Defaults to "Gitar Integration"; null sends `"description": null`. */
  description?: string | null;
  /** Defaults to null (no `user` object). */
  owner?: { name: string; email: string } | null;
  /** Relative to the moment of each request; defaults to 30 days ago. */
  createdOffsetMs?: number;
  /** Relative to the moment of each request; null (default) = never expires. In the past = Buildkite's 401. */
  expiresOffsetMs?: number | null;
  /** "docs": "2025-07-16 06:07:42 UTC" (default); "iso": "2025-07-16T06:07:42.000Z". */
  dateFormat?: "docs" | "iso";
  /** The organisations the token reaches; any other answers 404 on its routes. */
  organizations?: readonly StandInOrganization[];
  /** Per organisation slug; organisations without an entry (or fields left out) get defaultOrganizationData. */
  organizationData?: Readonly<Record<string, StandInOrganizationData>>;
  /** Defaults to a UUID derived from the token, stable across requests. */
  uuid?: string;
};

type Failing<K extends string, Extra> =
  | ({ kind: K } & Extra)
  /** Fails the first `failures` requests made with the token, then answers like `then`. */
  | ({ kind: K; failures: number; then: OkScenario } & Extra);

export type BuildkiteScenario =
  | OkScenario
  | { kind: "unauthorized" }
  /** With `missingScope`: "Your access token doesn't have the X scope"; without: the plain "Forbidden". */
  | { kind: "forbidden"; missingScope?: string }
  | { kind: "rate_limited"; resetSeconds?: number }
  | Failing<"server_error", { status: 500 | 502 | 503 }>
  /** Destroys the socket (TCP reset) without sending a response. */
  | Failing<"connection_reset", object>
  /** Accepts the request and never answers (until the client gives up or the stand-in closes). */
  | { kind: "hang" }
  | { kind: "html_body" }
  /** A 200 whose JSON body is larger than any real answer (5 MiB). */
  | { kind: "huge_body" }
  /** A 200 whose headers come at once and whose body then arrives one byte every 100 ms, never ending. */
  | { kind: "slow_body" }
  /** Like `base` (default: no scopes), but the /v2/access-token body lacks `uuid`. */
  | { kind: "missing_uuid"; base?: OkScenario };

export const MESSAGES = {
  unauthorized:
    "Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication",
  forbidden: "Forbidden",
  missingScope: (scope: string) => `Your access token doesn't have the ${scope} scope`,
  rateLimited: (seconds: number) =>
    `You have exceeded your API rate limit. Please wait ${seconds} seconds before making more requests.`,
  notFound: "Not Found",
  noJob: "No job found",
} as const;

/** A value in every default job environment, standing for a customer's secret. */
export const STAND_IN_JOB_SECRET = "sk_live_st4nd1n_j0b_s3cr3t_9f8e7d6c5b4a";

export const ORG_RATE_LIMIT = 200;
export const USER_RATE_LIMIT = 50;
export const DAY_MS = 24 * 60 * 60 * 1000;
export const HOUR_MS = 60 * 60 * 1000;
export const MAX_LATENCY_MS = 10 * 60_000;
