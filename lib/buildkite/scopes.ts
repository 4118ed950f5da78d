/**
 * The Buildkite API scopes the product needs, in the order the connect page lists them, each with the reason an
 * admin sees next to it. Pure data and helpers: the page imports this directly.
 */

export const REQUIRED_SCOPES = [
  { scope: "read_builds", purpose: "See builds and their status." },
  { scope: "read_build_logs", purpose: "Read the logs of failed jobs to analyse failures." },
  { scope: "read_artifacts", purpose: "Download build artifacts such as test reports." },
  { scope: "read_job_env", purpose: "Read a job's environment to reproduce failures." },
  { scope: "read_pipelines", purpose: "See pipeline configuration." },
  { scope: "read_suites", purpose: "Read Test Engine suites to spot flaky tests." },
  { scope: "read_teams", purpose: "See which team owns a pipeline." },
  { scope: "read_organizations", purpose: "Find the Buildkite organisation to connect." },
  { scope: "read_user", purpose: "Confirm who owns the token." },
] as const;

export type RequiredScope = (typeof REQUIRED_SCOPES)[number]["scope"];

export const REQUIRED_SCOPE_NAMES: readonly RequiredScope[] = REQUIRED_SCOPES.map((entry) => entry.scope);

const requiredSet: ReadonlySet<string> = new Set(REQUIRED_SCOPE_NAMES);

/**
 * Scopes that let a token change things, beyond the `write_` family:
 * - `delete_*` (Package Registries: delete_registries, delete_packages) remove data outright;
 * - `graphql` is GraphQL API access, which Buildkite does not limit by REST scopes and which (unless read-only)
 *   allows mutations with the owner's full permissions (docs: "Managing API access tokens").
 */
function isMutatingScope(scope: string): boolean {
  return scope.startsWith("write_") || scope.startsWith("delete_") || scope === "graphql";
}

export type ScopeComparison = {
  /** Required scopes the token lacks, in REQUIRED_SCOPES order. */
  missing: RequiredScope[];
  /** Granted scopes beyond the required ones, sorted, without duplicates. */
  extra: string[];
  /** The subset of `extra` that can change data at Buildkite, sorted. */
  writeScopes: string[];
};

export function compareScopes(granted: readonly string[]): ScopeComparison {
  const grantedSet = new Set(granted);
  const missing = REQUIRED_SCOPE_NAMES.filter((scope) => !grantedSet.has(scope));
  const extra = [...grantedSet].filter((scope) => !requiredSet.has(scope)).sort();
  return { missing, extra, writeScopes: extra.filter(isMutatingScope) };
}

const NEW_TOKEN_PAGE = "https://buildkite.com/user/api-access-tokens/new";
const TOKEN_DESCRIPTION = "Gitar Integration";

/** Buildkite's "new API access token" page, pre-filled with our description and exactly the required scopes. */
export function newTokenUrl(): string {
  // encodeURIComponent rather than URLSearchParams: Buildkite's own links use %20, not "+", for spaces.
  const query = [
    `description=${encodeURIComponent(TOKEN_DESCRIPTION)}`,
    ...REQUIRED_SCOPE_NAMES.map((scope) => `${encodeURIComponent("scopes[]")}=${encodeURIComponent(scope)}`),
  ].join("&");
  return `${NEW_TOKEN_PAGE}?${query}`;
}
