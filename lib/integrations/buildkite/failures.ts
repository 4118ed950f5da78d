import type { BuildkiteError } from "@/lib/buildkite/errors";
import type { SecretStoreErrorCode } from "@/lib/secrets/store";

/**
 * Every way a change to a Buildkite connection (connect, rotate, disconnect, verify, diagnostics) can end without
 * doing what was asked. Values, so the page and the API can switch on `code`; messages.ts has the words.
 */
export type ConnectionFailure =
  | { code: "token_rejected" }
  | { code: "token_forbidden"; scope?: string }
  | { code: "rate_limited"; retryAfterSeconds: number }
  | { code: "buildkite_unreachable"; reason: "timeout" | "unavailable" | "unreachable" }
  | { code: "buildkite_unexpected_response" }
  | { code: "token_expired"; expiredAt: Date }
  | { code: "missing_scopes"; missing: string[] }
  | { code: "no_organizations" }
  /** The admin named an organisation the token cannot reach (the choice step, or the API's buildkiteOrganization). */
  | { code: "organization_not_found"; slug: string | null }
  /** The token reaches several organisations and none was named: nothing changed; choose one. */
  | { code: "organization_choice_required"; organizations: Array<{ slug: string; name: string }> }
  /** Rotate: the new token cannot reach the Buildkite organisation that is connected. */
  | { code: "organization_mismatch"; connected: { slug: string; name: string } }
  /** Rotate: the "new" token is the one already connected (same UUID at Buildkite). */
  | { code: "token_already_connected" }
  | { code: "not_connected" }
  /** Another change to this organisation's connection held it for the whole wait. */
  | { code: "busy" }
  /** Disconnect: revoking the token at Buildkite failed; nothing was changed ("Disconnect anyway" skips it). */
  | { code: "revoke_failed"; cause: ConnectionFailure }
  | { code: "secret_store_failed"; reason: SecretStoreErrorCode }
  /** The stored token could not be read back from the secret store (verify, diagnostics, revoke). */
  | { code: "secret_unreadable"; reason: SecretStoreErrorCode }
  | { code: "database_failed" }
  /** The organisation has had too many pasted tokens checked lately (token-check-limit.ts): wait, then retry. */
  | { code: "too_many_token_checks"; retryAfterSeconds: number }
  /** The change ran past its deadline (OPERATION_DEADLINE_MS) and was stopped before it committed: nothing changed. */
  | { code: "deadline_exceeded"; seconds: number };

export type ConnectionFailureCode = ConnectionFailure["code"];

/** What a Buildkite error means for the admin. */
export function buildkiteFailure(error: BuildkiteError): ConnectionFailure {
  switch (error.code) {
    case "unauthorized":
      return { code: "token_rejected" };
    case "forbidden":
      return { code: "token_forbidden", scope: error.missingScope };
    case "not_found":
      // Only organisation calls can 404 here; callers that know the slug turn this into a sharper failure.
      return { code: "token_forbidden" };
    case "rate_limited":
      return { code: "rate_limited", retryAfterSeconds: error.retryAfterSeconds ?? 60 };
    case "timeout":
      return { code: "buildkite_unreachable", reason: "timeout" };
    case "unavailable":
      return { code: "buildkite_unreachable", reason: "unavailable" };
    case "unreachable":
      return { code: "buildkite_unreachable", reason: "unreachable" };
    case "unexpected_response":
      return { code: "buildkite_unexpected_response" };
  }
}

/** Buildkite failures that say nothing about the token: try again later. */
export function isTransientBuildkiteFailure(failure: ConnectionFailure): boolean {
  return failure.code === "rate_limited" || failure.code === "buildkite_unreachable" || failure.code === "buildkite_unexpected_response";
}

const NEW_TOKEN_FIXES = new Set<ConnectionFailureCode>(["token_rejected", "token_forbidden", "token_expired", "missing_scopes", "token_already_connected"]);

/** Failures a new token fixes: the page links, and the API names, Buildkite's pre-filled new-token page. */
export function newTokenFixes(failure: ConnectionFailure): boolean {
  return NEW_TOKEN_FIXES.has(failure.code);
}
