import "server-only";

import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import type { CallOptions, RateLimitInfo } from "@/lib/buildkite/client";
import type { BuildkiteBuild, BuildkitePipeline } from "@/lib/buildkite/diagnostics-schemas";
import { BuildkiteError } from "@/lib/buildkite/errors";
import { REQUIRED_SCOPES, type RequiredScope } from "@/lib/buildkite/scopes";
import { log } from "@/lib/log";
import { SecretStoreError } from "@/lib/secrets/store";
import { deadlineFor } from "./deadline";
import type { ConnectionDependencies } from "./dependencies";
import { recordFailedAttempt } from "./failed-attempts";
import type { ConnectionFailure } from "./failures";
import { logStoreError } from "./replace-secret";
import { findConnectionForChange } from "./repository";

/**
 * "Run diagnostics": one cheap call per required scope (docs/buildkite-api.md), plus the setup guide's "missing
 * build data" checks — the organisation is reachable, pipelines are visible, the latest build, pipelines without a
 * repository. About ten calls against Buildkite's 50-a-minute user limit, so only when an admin asks. Calls that
 * do not depend on each other go out together: two round trips in all.
 */

export type CheckStatus = "passed" | "failed" | "warning" | "not_checked";

export type ScopeCheck = { scope: RequiredScope; status: CheckStatus; detail: string };

export type DataCheck = {
  id: "organization" | "pipelines" | "latest_build" | "pipeline_repositories";
  status: CheckStatus;
  detail: string;
  fix?: string;
};

export type DiagnosticsReport = {
  ranAt: string;
  organization: { slug: string; name: string };
  scopes: ScopeCheck[];
  data: DataCheck[];
  rateLimit: RateLimitInfo | null;
};

export type DiagnosticsResult = { ok: true; report: DiagnosticsReport } | { ok: false; failure: ConnectionFailure };

type Probe<T> = { ok: true; value: T } | { ok: false; error: BuildkiteError };

const PIPELINE_PAGE = 100;

export async function runDiagnostics(request: { organizationId: string; actor: Actor }, deps: ConnectionDependencies): Promise<DiagnosticsResult> {
  const { organizationId, actor } = request;
  const fail = async (failure: ConnectionFailure): Promise<DiagnosticsResult> => {
    await recordFailedAttempt(deps.db, { organizationId, actor, action: "buildkite.diagnostics", failure });
    return { ok: false, failure };
  };

  const record = await findConnectionForChange(deps.db, organizationId);
  if (!record) return fail({ code: "not_connected" });
  const deadline = deadlineFor(deps);
  let token: string;
  try {
    token = await deps.secrets.withSignal(deadline.signal).read(organizationId, record.secret);
  } catch (error) {
    if (!(error instanceof SecretStoreError)) throw error;
    logStoreError("buildkite.diagnostics.secret_unreadable", organizationId, error);
    return fail({ code: "secret_unreadable", reason: error.code });
  }

  let rateLimit: RateLimitInfo | null = null;
  const options: CallOptions = { signal: deadline.signal, onRateLimit: (info) => (rateLimit = info) };
  const bk = deps.buildkite;
  const org = record.buildkiteOrgSlug;

  const [user, organization, pipelines, builds, teams, suites] = await Promise.all([
    probe(bk.getUser(token, options)),
    probe(bk.getOrganization(token, org, options)),
    probe(bk.listPipelines(token, org, { perPage: PIPELINE_PAGE }, options)),
    probe(bk.listBuilds(token, org, { perPage: 1 }, options)),
    probe(bk.listTeams(token, org, options)),
    probe(bk.listSuites(token, org, options)),
  ]);
  const rejected = [user, organization].find((result) => !result.ok && result.error.code === "unauthorized");
  if (rejected) return fail({ code: "token_rejected" });

  const latest = builds.ok ? builds.value[0] : undefined;
  const job = latest?.jobs.find((candidate) => candidate.type === "script") ?? latest?.jobs[0];
  const lastPage = pipelines.ok && pipelines.value.lastPage && pipelines.value.lastPage > 1 ? pipelines.value.lastPage : null;
  const [artifacts, jobLog, jobEnv, lastPipelines] = await Promise.all([
    latest && job ? probe(bk.listJobArtifacts(token, org, latest.pipeline.slug, latest.number, job.id, options)) : null,
    latest && job ? probe(bk.getJobLog(token, org, latest.pipeline.slug, latest.number, job.id, options)) : null,
    latest && job ? probe(bk.getJobEnv(token, org, latest.pipeline.slug, latest.number, job.id, options)) : null,
    lastPage ? probe(bk.listPipelines(token, org, { perPage: PIPELINE_PAGE, page: lastPage }, options)) : null,
  ]);

  const granted = new Set(await currentScopes(deps, organizationId));
  const byJob = (result: Probe<unknown> | null, scope: RequiredScope): ScopeCheck => {
    if (result) return scopeCheck(scope, result);
    // Only an organisation with no builds at all leaves the scope list as the one thing to go by.
    if (!builds.ok) return { scope, status: "not_checked", detail: "The builds could not be listed, so there was no job to test it against." };
    return {
      scope,
      status: granted.has(scope) ? "passed" : "failed",
      detail: `There is no build to test it against yet, so this comes from the token's scope list: ${granted.has(scope) ? "granted" : "not granted"}.`,
    };
  };
  const results: Record<RequiredScope, ScopeCheck> = {
    read_user: scopeCheck("read_user", user),
    read_organizations: scopeCheck("read_organizations", organization),
    read_pipelines: scopeCheck("read_pipelines", pipelines),
    read_builds: scopeCheck("read_builds", builds),
    read_teams: scopeCheck("read_teams", teams),
    read_suites: scopeCheck("read_suites", suites),
    read_artifacts: byJob(artifacts, "read_artifacts"),
    read_build_logs: byJob(jobLog, "read_build_logs"),
    read_job_env: byJob(jobEnv, "read_job_env"),
  };

  const report: DiagnosticsReport = {
    ranAt: (deps.now?.() ?? new Date()).toISOString(),
    organization: organization.ok ? { ...organization.value } : { slug: org, name: record.buildkiteOrgName },
    scopes: REQUIRED_SCOPES.map(({ scope }) => results[scope]),
    data: [
      organizationCheck(organization, record.buildkiteOrgName),
      pipelinesCheck(pipelines, lastPipelines, lastPage),
      latestBuildCheck(builds, latest),
      repositoriesCheck(pipelines, lastPipelines),
    ],
    rateLimit,
  };

  const failed = report.scopes.filter((check) => check.status === "failed").length + report.data.filter((check) => check.status === "failed").length;
  const passed = report.scopes.filter((check) => check.status === "passed").length + report.data.filter((check) => check.status === "passed").length;
  await recordAuditEvent(deps.db, {
    organizationId,
    actor,
    action: "buildkite.diagnostics",
    outcome: "success",
    detail: { tokenUuid: record.tokenUuid, tokenLastFour: record.tokenLastFour, buildkiteOrganization: org, passed, failed },
  }).catch((error: unknown) => log.error("audit.write_failed", { organizationId, action: "buildkite.diagnostics" }, error));
  return { ok: true, report };
}

async function probe<T>(call: Promise<T>): Promise<Probe<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    if (error instanceof BuildkiteError) return { ok: false, error };
    throw error;
  }
}

async function currentScopes(deps: ConnectionDependencies, organizationId: string): Promise<string[]> {
  const row = await deps.db.buildkiteConnection.findUnique({ where: { organizationId }, select: { scopes: true } });
  return row?.scopes ?? [];
}

function scopeCheck(scope: RequiredScope, result: Probe<unknown>): ScopeCheck {
  if (result.ok) return { scope, status: "passed", detail: "Buildkite answered the call that needs it." };
  const { error } = result;
  if (error.code === "forbidden") {
    return {
      scope,
      status: "failed",
      detail: error.missingScope ? `Buildkite says the token lacks ${error.missingScope}.` : "Buildkite refused the call that needs it.",
    };
  }
  if (error.code === "not_found") return { scope, status: "not_checked", detail: "The organisation could not be reached, so this could not be tested." };
  return { scope, status: "not_checked", detail: "Buildkite did not answer this call; run diagnostics again in a minute." };
}

function organizationCheck(organization: Probe<{ slug: string; name: string }>, recordedName: string): DataCheck {
  if (organization.ok) return { id: "organization", status: "passed", detail: `The token reaches ${organization.value.name}.` };
  const unreachable = organization.error.code === "not_found" || organization.error.code === "forbidden";
  return unreachable
    ? {
        id: "organization",
        status: "failed",
        detail: `The token cannot reach ${recordedName}.`,
        fix: "Make sure the token's user is a member of the organisation and that the organisation allows this token.",
      }
    : { id: "organization", status: "not_checked", detail: "Buildkite did not answer; run diagnostics again in a minute." };
}

function pipelinesCheck(first: Probe<{ pipelines: BuildkitePipeline[] }>, last: Probe<{ pipelines: BuildkitePipeline[] }> | null, lastPage: number | null): DataCheck {
  if (!first.ok) return { id: "pipelines", status: first.error.code === "forbidden" ? "failed" : "not_checked", detail: "The pipelines could not be listed." };
  const count = lastPage && last?.ok ? (lastPage - 1) * PIPELINE_PAGE + last.value.pipelines.length : first.value.pipelines.length;
  const atLeast = lastPage && !last?.ok ? "at least " : "";
  if (count === 0) {
    return {
      id: "pipelines",
      status: "failed",
      detail: "No pipelines are visible to this token.",
      fix: "The token's user must be able to see the pipelines: add them to the teams that own the pipelines, or use a service account that can see them.",
    };
  }
  return { id: "pipelines", status: "passed", detail: `${atLeast}${count} pipeline${count === 1 ? " is" : "s are"} visible to this token.` };
}

function latestBuildCheck(builds: Probe<BuildkiteBuild[]>, latest: BuildkiteBuild | undefined): DataCheck {
  if (!builds.ok) return { id: "latest_build", status: builds.error.code === "forbidden" ? "failed" : "not_checked", detail: "The builds could not be listed." };
  if (!latest) {
    return {
      id: "latest_build",
      status: "warning",
      detail: "There are no builds yet.",
      fix: "Run a build in Buildkite: Gitar analyses failed builds as they happen.",
    };
  }
  const when = latest.createdAt ? ` on ${latest.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC` : "";
  return { id: "latest_build", status: "passed", detail: `Latest build: ${latest.pipeline.name} #${latest.number}, ${latest.state}${when}.` };
}

function repositoriesCheck(first: Probe<{ pipelines: BuildkitePipeline[] }>, last: Probe<{ pipelines: BuildkitePipeline[] }> | null): DataCheck {
  if (!first.ok) return { id: "pipeline_repositories", status: "not_checked", detail: "The pipelines could not be listed." };
  const seen = [...first.value.pipelines, ...(last?.ok ? last.value.pipelines : [])];
  const missing = seen.filter((pipeline) => !pipeline.repository);
  if (missing.length === 0) return { id: "pipeline_repositories", status: "passed", detail: "Every pipeline checked has a repository." };
  const names = missing.slice(0, 5).map((pipeline) => pipeline.name).join(", ");
  return {
    id: "pipeline_repositories",
    status: "warning",
    detail: `${missing.length} pipeline${missing.length === 1 ? " has" : "s have"} no repository: ${names}${missing.length > 5 ? ", …" : ""}.`,
    fix: "Set a repository in each pipeline's settings at Buildkite, so Gitar can link failures to the code.",
  };
}
