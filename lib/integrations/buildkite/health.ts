import { compareScopes } from "@/lib/buildkite/scopes";
import { EXPIRY_WARNING_DAYS } from "./policy";

/**
 * When a connection is "Connected" and when it "Needs attention", and why. One rule for connect, rotate and every
 * check, so the badge means the same whichever of them wrote it last.
 */

export type AttentionCode =
  /** Buildkite answers 401: the token was revoked, or expired. */
  | "token_rejected"
  /** Buildkite answers 403 to the token itself: typically an IP allow-list that no longer includes this server. */
  | "token_forbidden"
  | "token_expired"
  | "missing_scopes"
  /** The token no longer reaches the connected Buildkite organisation. */
  | "organization_unreachable"
  | "expires_soon"
  /** The stored token cannot be read from the secret store. */
  | "secret_unreadable"
  /** Checks have not reached Buildkite for UNREACHABLE_GRACE_MS. */
  | "buildkite_unreachable";

/** The facts a message about the problem names; JSON-safe (dates as ISO strings). */
export type Attention = {
  code: AttentionCode;
  missingScopes?: string[];
  expiresAt?: string;
  since?: string;
  organization?: string;
  reason?: string;
};

export type Health = { status: "connected" } | { status: "needs_attention"; attention: Attention };

const DAY_MS = 24 * 60 * 60 * 1000;

/** A failed check (429, 5xx, timeout) is no verdict on the token; only this long a run of them is. */
export const UNREACHABLE_GRACE_MS = DAY_MS;

/** The health of a token Buildkite accepted, reaching the connected organisation. */
export function healthOfToken(token: { scopes: readonly string[]; expiresAt: Date | null }, now: Date): Health {
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) {
    return attention({ code: "token_expired", expiresAt: token.expiresAt.toISOString() });
  }
  const { missing } = compareScopes(token.scopes);
  if (missing.length > 0) return attention({ code: "missing_scopes", missingScopes: [...missing] });
  if (token.expiresAt && token.expiresAt.getTime() - now.getTime() <= EXPIRY_WARNING_DAYS * DAY_MS) {
    return attention({ code: "expires_soon", expiresAt: token.expiresAt.toISOString() });
  }
  return { status: "connected" };
}

export function attention(detail: Attention): Health {
  return { status: "needs_attention", attention: detail };
}
