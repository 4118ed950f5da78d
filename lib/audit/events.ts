/**
 * Every action the audit log records, with the words the page uses for it. One list, so the writer, the reader,
 * the filter on the page and (later) the API agree on the names.
 */
export const AUDIT_ACTIONS = {
  "buildkite.connect": "Connect Buildkite",
  "buildkite.rotate": "Rotate token",
  "buildkite.disconnect": "Disconnect Buildkite",
  "buildkite.revoke": "Revoke token at Buildkite",
  "buildkite.verify": "Verify connection",
  "buildkite.diagnostics": "Run diagnostics",
  "api_key.create": "Create API key",
  "api_key.revoke": "Revoke API key",
  "webhook.create": "Add webhook endpoint",
  "webhook.enable": "Enable webhook endpoint",
  "webhook.disable": "Disable webhook endpoint",
  "webhook.delete": "Delete webhook endpoint",
  "webhook.roll_secret": "Roll webhook signing secret",
  "webhook.test": "Send test event",
  "notifications.email": "Change notification email",
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export const AUDIT_ACTION_NAMES = Object.keys(AUDIT_ACTIONS) as AuditAction[];

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === "string" && Object.hasOwn(AUDIT_ACTIONS, value);
}

/** success: it happened; failure: it was tried and did not happen; refused: the caller was not allowed to try. */
export type AuditOutcome = "success" | "failure" | "refused";

/**
 * Facts about one event. Identifies tokens only by Buildkite's UUID and their last four characters — never the
 * token itself, nor anything that unlocks it (no secret reference or version).
 */
export type AuditDetail = {
  tokenUuid?: string;
  tokenLastFour?: string;
  previousTokenUuid?: string;
  previousTokenLastFour?: string;
  buildkiteOrganization?: string;
  scopes?: string[];
  missingScopes?: string[];
  /** A short non-secret reason: a failure's sub-reason, or why the status changed. */
  reason?: string;
  statusFrom?: string;
  statusTo?: string;
  revoke?: string;
  /** diagnostics: how many checks passed and failed. */
  passed?: number;
  failed?: number;
  /** API keys: which key, by name and its displayable prefix (never the key). */
  apiKeyName?: string;
  apiKeyPrefix?: string;
  expiresAt?: string;
  /** Webhooks: the endpoint's host (never its path or query, which can hold a receiver's own secret). */
  endpointId?: string;
  endpointHost?: string;
  events?: string[];
  emailEnabled?: boolean;
};
