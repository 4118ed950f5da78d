import "server-only";

import { getConfig } from "@/lib/config";
import { getAccessToken, getOrganization, getUser, listOrganizations, revokeAccessToken } from "./account-calls";
import { getJobEnv, getJobLog, listBuilds, listJobArtifacts, listPipelines, listSuites, listTeams } from "./diagnostics-calls";
import type { BuildkiteBuild, BuildkiteCount, BuildkiteJobEnv, BuildkiteJobLog, BuildkitePipelinePage, BuildkiteUser } from "./diagnostics-schemas";
import type { AccessTokenInfo, BuildkiteOrganization } from "./schemas";
import { createTransport, type BuildkiteClientOptions, type CallOptions } from "./transport";

/**
 * The one way the app talks to Buildkite's REST API. Every failure comes out as a BuildkiteError; the token is
 * only ever placed in the Authorization header, never in a message. Every method takes optional CallOptions last
 * (a caller's AbortSignal, and an observer of the RateLimit-* headers).
 *
 * Modules: transport.ts (HTTP, budget, retry, errors), account-calls.ts (the token and its organisations),
 * diagnostics-calls.ts (one cheap call per scope), schemas.ts / diagnostics-schemas.ts (what the answers look like).
 */

export type { BuildkiteClientOptions, CallOptions } from "./transport";
export type { RateLimitInfo, RateLimitWindow } from "./rate-limit";
export { nextPage } from "./links";

export type BuildkiteClient = {
  getAccessToken(token: string, options?: CallOptions): Promise<AccessTokenInfo>;
  /** DELETE /v2/access-token: 204 = revoked. Never retried; "unauthorized" may mean it was already revoked. */
  revokeAccessToken(token: string, options?: CallOptions): Promise<void>;
  listOrganizations(token: string, options?: CallOptions): Promise<BuildkiteOrganization[]>;
  /** "not_found" when the token cannot reach the organisation. */
  getOrganization(token: string, slug: string, options?: CallOptions): Promise<BuildkiteOrganization>;
  getUser(token: string, options?: CallOptions): Promise<BuildkiteUser>;
  /** One page; perPage is clamped to 1–100. `lastPage` is from Link rel="last" (absent on the last page). */
  listPipelines(token: string, org: string, page: { perPage: number; page?: number }, options?: CallOptions): Promise<BuildkitePipelinePage>;
  /** The organisation's newest builds (one page); perPage is clamped to 1–100. */
  listBuilds(token: string, org: string, page: { perPage: number }, options?: CallOptions): Promise<BuildkiteBuild[]>;
  listTeams(token: string, org: string, options?: CallOptions): Promise<BuildkiteCount>;
  listSuites(token: string, org: string, options?: CallOptions): Promise<BuildkiteCount>;
  listJobArtifacts(token: string, org: string, pipeline: string, buildNumber: number, jobId: string, options?: CallOptions): Promise<BuildkiteCount>;
  /** Only the log's size: its content is not returned. */
  getJobLog(token: string, org: string, pipeline: string, buildNumber: number, jobId: string, options?: CallOptions): Promise<BuildkiteJobLog>;
  /** Only how many variables there are: the environment holds customers' secrets and never leaves this call. */
  getJobEnv(token: string, org: string, pipeline: string, buildNumber: number, jobId: string, options?: CallOptions): Promise<BuildkiteJobEnv>;
  close(): Promise<void>;
};

export function createBuildkiteClient(options: BuildkiteClientOptions): BuildkiteClient {
  const transport = createTransport(options);
  const job = (org: string, pipeline: string, buildNumber: number, jobId: string) => ({ org, pipeline, buildNumber, jobId });
  return {
    getAccessToken: (token, callOptions) => getAccessToken(transport, token, callOptions),
    revokeAccessToken: (token, callOptions) => revokeAccessToken(transport, token, callOptions),
    listOrganizations: (token, callOptions) => listOrganizations(transport, token, callOptions),
    getOrganization: (token, slug, callOptions) => getOrganization(transport, token, slug, callOptions),
    getUser: (token, callOptions) => getUser(transport, token, callOptions),
    listPipelines: (token, org, page, callOptions) => listPipelines(transport, token, org, page, callOptions),
    listBuilds: (token, org, page, callOptions) => listBuilds(transport, token, org, page, callOptions),
    listTeams: (token, org, callOptions) => listTeams(transport, token, org, callOptions),
    listSuites: (token, org, callOptions) => listSuites(transport, token, org, callOptions),
    listJobArtifacts: (token, org, pipeline, buildNumber, jobId, callOptions) =>
      listJobArtifacts(transport, token, job(org, pipeline, buildNumber, jobId), callOptions),
    getJobLog: (token, org, pipeline, buildNumber, jobId, callOptions) =>
      getJobLog(transport, token, job(org, pipeline, buildNumber, jobId), callOptions),
    getJobEnv: (token, org, pipeline, buildNumber, jobId, callOptions) =>
      getJobEnv(transport, token, job(org, pipeline, buildNumber, jobId), callOptions),
    close: () => transport.close(),
  };
}

const SINGLETON = Symbol.for("gitar.buildkiteClient");
type WithClient = typeof globalThis & { [SINGLETON]?: BuildkiteClient };

/** The process-wide client (one connection pool), configured from the environment on first use. */
export function getBuildkiteClient(): BuildkiteClient {
  // Kept on globalThis so Next's dev-mode module reloads do not leak a pool per edit.
  const holder = globalThis as WithClient;
  if (!holder[SINGLETON]) {
    const { apiUrl, connectTimeoutMs, timeoutMs } = getConfig().buildkite;
    holder[SINGLETON] = createBuildkiteClient({ baseUrl: apiUrl, connectTimeoutMs, timeoutMs });
  }
  return holder[SINGLETON];
}
