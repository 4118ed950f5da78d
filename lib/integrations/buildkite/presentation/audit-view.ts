// How the audit log words a Buildkite event: one line of what happened, from the event's non-secret facts.
import type { AuditEventView } from "@/lib/audit/read";
import type { ConnectionFailureCode } from "../failures";
import type { AttentionCode } from "../health";

const FAILURES: Record<ConnectionFailureCode, string> = {
  token_rejected: "Buildkite rejected the token",
  token_forbidden: "Buildkite refused the token access",
  rate_limited: "Buildkite was rate limiting",
  buildkite_unreachable: "Buildkite could not be reached",
  buildkite_unexpected_response: "Buildkite sent an unexpected response",
  token_expired: "The token had expired",
  missing_scopes: "The token was missing scopes",
  no_organizations: "The token reached no Buildkite organisation",
  organization_not_found: "The chosen organisation was not available",
  organization_choice_required: "An organisation had to be chosen",
  organization_mismatch: "The token could not reach the connected organisation",
  token_already_connected: "The token was already connected",
  not_connected: "Buildkite was not connected",
  busy: "Another change was in progress",
  revoke_failed: "Revoking at Buildkite failed",
  secret_store_failed: "The secret store failed",
  secret_unreadable: "The stored token could not be read",
  database_failed: "The database refused the change",
  deadline_exceeded: "It ran past its deadline and was stopped",
  too_many_token_checks: "Too many tokens had been checked lately",
};

const ATTENTION: Record<AttentionCode, string> = {
  token_rejected: "Buildkite no longer accepts the token",
  token_forbidden: "Buildkite refuses the token",
  token_expired: "the token expired",
  missing_scopes: "the token lost scopes",
  organization_unreachable: "the organisation is no longer reachable",
  expires_soon: "the token expires within 7 days",
  secret_unreadable: "the stored token cannot be read",
  buildkite_unreachable: "Buildkite unreachable for a day",
};

const VERIFY_OUTCOMES: Record<string, string> = {
  passed: "Passed",
  needs_attention: "Needs attention",
  unreachable: "Could not reach Buildkite",
};

const REVOKE: Record<string, string> = {
  revoked: "revoked at Buildkite",
  already_revoked: "already revoked at Buildkite",
  failed: "revoking at Buildkite failed",
  not_requested: "not revoked at Buildkite",
};

export function outcomeLabel(event: AuditEventView): string {
  if (event.outcome === "refused") return "Refused";
  if (event.outcome === "failure") return "Failed";
  if (event.action === "buildkite.verify" && event.code) return VERIFY_OUTCOMES[event.code] ?? "Done";
  return "Succeeded";
}

const token = (uuid?: string, lastFour?: string) => (lastFour ? `token ending in ${lastFour}` : uuid ? `token ${uuid}` : "");

/** One sentence of detail: the tokens involved (UUID and last four only), and why it ended as it did. */
export function describeAuditDetail(event: AuditEventView): string {
  const { detail } = event;
  const parts: string[] = [];
  if (event.outcome === "refused") return "Only admins may do this.";
  if (event.outcome === "failure" && event.code) {
    const reason = FAILURES[event.code as ConnectionFailureCode] ?? event.code;
    parts.push(detail.missingScopes?.length ? `${reason}: ${detail.missingScopes.join(", ")}` : detail.reason ? `${reason} (${detail.reason})` : reason);
  }
  if (event.action === "buildkite.rotate" && event.outcome === "success") {
    parts.push(`Replaced ${token(detail.previousTokenUuid, detail.previousTokenLastFour)} with ${token(detail.tokenUuid, detail.tokenLastFour)}`);
  } else if (detail.tokenUuid || detail.tokenLastFour) {
    parts.push(`${token(detail.tokenUuid, detail.tokenLastFour).replace(/^t/, "T")}`);
  }
  if (detail.buildkiteOrganization && event.outcome === "success") parts.push(`Buildkite organisation “${detail.buildkiteOrganization}”`);
  if (detail.revoke && event.action === "buildkite.disconnect") parts.push(`Token ${REVOKE[detail.revoke] ?? detail.revoke}`);
  // A revoke's own outcome says revoked or failed; only "it was dead already" needs saying.
  if (event.action === "buildkite.revoke" && detail.revoke === "already_revoked") parts.push("It was already revoked at Buildkite");
  if (event.action === "buildkite.verify" && detail.statusFrom && detail.statusTo && detail.statusFrom !== detail.statusTo) {
    parts.push(`Status ${detail.statusFrom.replace("_", " ")} → ${detail.statusTo.replace("_", " ")}`);
  }
  if (event.outcome === "success" && detail.statusTo === "needs_attention" && detail.reason && detail.reason in ATTENTION) {
    parts.push(`Needs attention: ${ATTENTION[detail.reason as AttentionCode]}`);
  } else if (event.action === "buildkite.verify" && event.code === "unreachable" && detail.reason) {
    parts.push(`Status unchanged; will retry (${FAILURES[detail.reason as ConnectionFailureCode]?.toLowerCase() ?? detail.reason})`);
  }
  if (event.action === "buildkite.diagnostics" && detail.passed !== undefined) parts.push(`${detail.passed} checks passed, ${detail.failed ?? 0} failed`);
  if (detail.apiKeyName) {
    parts.push(`Key “${detail.apiKeyName}”${detail.apiKeyPrefix ? ` (${detail.apiKeyPrefix}…)` : ""}`);
    if (detail.expiresAt && event.action === "api_key.create") parts.push(`Expires ${detail.expiresAt.slice(0, 10)}`);
  }
  if (detail.endpointHost) parts.push(`Endpoint ${detail.endpointHost}`);
  if (event.action === "webhook.create" && detail.events?.length) parts.push(`Events: ${detail.events.join(", ")}`);
  if (event.action === "webhook.roll_secret" && detail.expiresAt) parts.push(`The previous secret also signs until ${detail.expiresAt.slice(0, 16).replace("T", " ")} UTC`);
  if (event.action === "webhook.disable" && event.code === "failing") parts.push("Turned off after 3 days of failed deliveries");
  if (event.action === "notifications.email" && detail.emailEnabled !== undefined) parts.push(`Notification email turned ${detail.emailEnabled ? "on" : "off"}`);
  return parts.filter(Boolean).join(". ") + (parts.length ? "." : "");
}
