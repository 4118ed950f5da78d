// The diagnostics report as the card shows it: labels and words next to each result. Plain data for the client.
import { REQUIRED_SCOPES } from "@/lib/buildkite/scopes";
import type { CheckStatus, DiagnosticsResult } from "../diagnostics";
import { errorState, type ErrorState } from "./form-state";

export type DiagnosticsRow = { key: string; label: string; status: CheckStatus; detail: string; fix?: string; code?: boolean };

export type DiagnosticsFormState =
  | { status: "idle" }
  | { status: "refused"; message: string }
  | ErrorState
  | {
      status: "report";
      ranAt: string;
      organizationName: string;
      scopes: DiagnosticsRow[];
      data: DiagnosticsRow[];
      rateLimit: string | null;
      summary: string;
    };

const DATA_LABELS = {
  organization: "Buildkite organisation reachable",
  pipelines: "Pipelines visible",
  latest_build: "Latest build",
  pipeline_repositories: "Pipelines with a repository",
} as const;

/** What the product cannot do without each scope, shown next to a failed one. */
const IMPACT = Object.fromEntries(REQUIRED_SCOPES.map(({ scope, purpose }) => [scope, purpose]));

export function diagnosticsState(result: DiagnosticsResult): DiagnosticsFormState {
  if (!result.ok) return errorState(result.failure);
  const { report } = result;
  const scopes = report.scopes.map((check) => ({
    key: check.scope,
    label: check.scope,
    code: true,
    status: check.status,
    detail: check.detail,
    ...(check.status === "failed" ? { fix: `Without it: ${IMPACT[check.scope]?.toLowerCase() ?? ""} Create a token with all nine scopes and rotate to it.` } : {}),
  }));
  const data = report.data.map((check) => ({ key: check.id, label: DATA_LABELS[check.id], status: check.status, detail: check.detail, ...(check.fix ? { fix: check.fix } : {}) }));
  const rows = [...scopes, ...data];
  const failed = rows.filter((row) => row.status === "failed").length;
  const toCheck = rows.filter((row) => row.status === "warning").length;
  const unchecked = rows.filter((row) => row.status === "not_checked").length;
  const user = report.rateLimit?.user;
  const rateLimit =
    user?.remaining != null && user.limit != null
      ? `${user.remaining} of ${user.limit} requests left this minute for the token's user${user.resetSeconds != null ? ` (resets in ${user.resetSeconds} s)` : ""}.`
      : report.rateLimit?.remaining != null && report.rateLimit.limit != null
        ? `${report.rateLimit.remaining} of ${report.rateLimit.limit} requests left this minute for the organisation.`
        : null;
  return {
    status: "report",
    ranAt: report.ranAt,
    organizationName: report.organization.name,
    scopes,
    data,
    rateLimit,
    summary: summarize(failed, toCheck, unchecked),
  };
}

function summarize(failed: number, toCheck: number, unchecked: number): string {
  const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const parts = [
    failed > 0 ? plural(failed, "check failed", "checks failed") : null,
    toCheck > 0 ? plural(toCheck, "thing to look at", "things to look at") : null,
    unchecked > 0 ? plural(unchecked, "check could not run", "checks could not run") : null,
  ].filter((part): part is string => part !== null);
  return parts.length === 0 ? "Every check passed." : `${parts.join(", ")}: see below.`.replace(/^./, (first) => first.toUpperCase());
}
