import type { SecretStoreErrorCode } from "@/lib/secrets/store";

/** Every way a connect attempt can end without a connection. Values, so the UI can switch on them. */
export type ConnectFailure =
  | { code: "token_rejected" }
  | { code: "token_forbidden"; scope?: string }
  | { code: "rate_limited"; retryAfterSeconds: number }
  | { code: "buildkite_unreachable"; reason: "timeout" | "unavailable" | "unreachable" }
  | { code: "buildkite_unexpected_response" }
  | { code: "token_expired"; expiredAt: Date }
  | { code: "missing_scopes"; missing: string[] }
  | { code: "no_organizations" }
  | { code: "organization_not_found"; slug: string }
  | { code: "secret_store_failed"; reason: SecretStoreErrorCode }
  | { code: "database_failed" };

export type ConnectFailureCode = ConnectFailure["code"];
