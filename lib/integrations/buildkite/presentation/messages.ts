import { formatDate, formatDateTime } from "@/lib/format";
import type { ConnectionFailure } from "../failures";
import type { Attention } from "../health";
import type { TokenWarning } from "../policy";

/**
 * The words an admin reads: what happened, and what to do next. Kept in one place so the page, the API and the
 * README's troubleshooting section say the same thing. Never includes the token.
 */

const list = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;

const NOTHING_SAVED = "Nothing was saved.";
const NOTHING_CHANGED = "Nothing was changed.";

/** Where a person revokes a Buildkite token by hand. */
export const BUILDKITE_TOKENS_PAGE = "https://buildkite.com/user/api-access-tokens";

/** The exact sentence for a change that found another one in progress (the page and the API both use it). */
export const BUSY_MESSAGE = "Another change to this connection is in progress. Try again in a moment.";

export type FailureText = { title: string; message: string };

export function describeFailure(failure: ConnectionFailure): FailureText {
  switch (failure.code) {
    case "token_rejected":
      return {
        title: "Buildkite rejected this token",
        message:
          "The token is invalid, expired or revoked. Check that you copied the whole token, or create a new one, and try again.",
      };
    case "token_forbidden":
      return {
        title: "Buildkite refused this token access",
        message: `Buildkite accepted the token but refused access${failure.scope ? ` because it lacks the ${failure.scope} scope` : ""}. Create a token with the nine required scopes; if it already has them, your Buildkite organisation may restrict the token (for example with an IP allow-list).`,
      };
    case "rate_limited":
      return {
        title: "Buildkite is rate limiting this token",
        message: `Too many requests were made with this token. Wait ${failure.retryAfterSeconds} seconds, then try again. ${NOTHING_SAVED}`,
      };
    case "buildkite_unreachable":
      return {
        title: "Buildkite could not be reached",
        message: {
          timeout: `Buildkite did not answer in time. ${NOTHING_SAVED} Try again in a minute.`,
          unavailable: `Buildkite answered with a server error. ${NOTHING_SAVED} Try again in a few minutes.`,
          unreachable: `This server could not connect to Buildkite. ${NOTHING_SAVED} Try again; if it keeps failing, check the server's network access to Buildkite.`,
        }[failure.reason],
      };
    case "buildkite_unexpected_response":
      return {
        title: "Buildkite sent an unexpected response",
        message: `Buildkite's answer was not what its API documents, so the token could not be checked. ${NOTHING_SAVED} Try again in a few minutes.`,
      };
    case "token_expired":
      return {
        title: "This token has expired",
        message: `It expired on ${formatDate(failure.expiredAt)}. Create a new token with the nine required scopes and use that one.`,
      };
    case "missing_scopes":
      return {
        title: `This token is missing ${failure.missing.length === 1 ? "a required scope" : `${failure.missing.length} required scopes`}`,
        message: `Add ${list(failure.missing)}. Buildkite cannot add scopes to an existing token: create a new one with all nine and use that one.`,
      };
    case "no_organizations":
      return {
        title: "This token cannot reach any Buildkite organisation",
        message:
          "Make sure the token's user is a member of your Buildkite organisation and that the organisation is allowed for this token, then try again.",
      };
    case "organization_not_found":
      return {
        title: "That organisation is not available to this token",
        message: `The token cannot reach ${failure.slug ? `“${failure.slug}”` : "the organisation named"}. Choose one of the organisations it reaches.`,
      };
    case "organization_choice_required":
      return {
        title: "Choose a Buildkite organisation",
        message: `This token can reach ${failure.organizations.length} organisations. Choose the one to connect. ${NOTHING_SAVED}`,
      };
    case "organization_mismatch":
      return {
        title: `This token cannot reach ${failure.connected.name}`,
        message: `A replacement token must reach the Buildkite organisation that is connected (${failure.connected.name}, “${failure.connected.slug}”). Create the token as a member of that organisation, or disconnect and connect again to switch organisations. ${NOTHING_CHANGED}`,
      };
    case "token_already_connected":
      return {
        title: "This token is already connected.",
        message: "To rotate, create a new token and use that one.",
      };
    case "not_connected":
      return {
        title: "Buildkite is not connected",
        message: "There is no connection to change: it may have just been disconnected. Connect Buildkite first.",
      };
    case "busy":
      return { title: "Another change is in progress", message: BUSY_MESSAGE };
    case "revoke_failed":
      return {
        title: "The token could not be revoked at Buildkite",
        message: `${revokeCause(failure.cause)} ${NOTHING_CHANGED} Try again, or choose Disconnect anyway: the token then stays valid at Buildkite until you revoke it there (${BUILDKITE_TOKENS_PAGE}).`,
      };
    case "secret_store_failed":
      return {
        title: "The token could not be stored securely",
        message: {
          access_denied: `The secret store refused access. An operator must allow this app to write secrets under its prefix (see “Deploying” in the README). ${NOTHING_SAVED}`,
          throttled: `The secret store is busy. ${NOTHING_SAVED} Try again in a minute.`,
          unavailable: `The secret store is unavailable. The connection was not changed. Try again in a few minutes.`,
          timeout: `The secret store did not answer in time. The connection was not changed. Try again in a minute.`,
          encryption: `The secret store could not encrypt or decrypt with its key. An operator must check the KMS key and its policy. ${NOTHING_SAVED}`,
          misconfigured: `The secret store is not configured (region, credentials or encryption key). An operator must check the server's configuration. ${NOTHING_SAVED}`,
          not_found: `The stored token could not be read back. ${NOTHING_SAVED} Try again.`,
          corrupt: `The stored token could not be read back intact. ${NOTHING_SAVED} Try again; if it persists, an operator must check the secret store.`,
        }[failure.reason],
      };
    case "secret_unreadable":
      return {
        title: "The stored token could not be read",
        message: `${secretUnreadable(failure.reason)} Then try again.`,
      };
    case "database_failed":
      return {
        title: "The change could not be recorded",
        message: `Our database did not accept the change, so nothing was changed. Try again in a minute.`,
      };
    case "too_many_token_checks":
      return {
        title: "Too many tokens were tried",
        message: `So many tokens were checked for this organisation in the last few minutes that more are paused for now. Wait ${waitFor(failure.retryAfterSeconds)}, then try again. ${NOTHING_CHANGED}`,
      };
    case "deadline_exceeded":
      return {
        title: "This took too long and was stopped",
        message: `Buildkite or the secret store answered too slowly to finish within ${failure.seconds} seconds, so it was stopped before anything was saved. ${NOTHING_CHANGED} Try again in a minute.`,
      };
  }
}

/** "45 seconds", "1 minute", "12 minutes". */
function waitFor(seconds: number): string {
  if (seconds < 60) return `${seconds} ${seconds === 1 ? "second" : "seconds"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
}

function revokeCause(cause: ConnectionFailure): string {
  switch (cause.code) {
    case "secret_unreadable":
      return `The stored token could not be read to revoke it: ${secretUnreadable(cause.reason).toLowerCase()}`;
    case "rate_limited":
      return `Buildkite is rate limiting this token (retry in ${cause.retryAfterSeconds} seconds).`;
    case "buildkite_unreachable":
    case "buildkite_unexpected_response":
      return "Buildkite could not be reached, or answered with an error.";
    default:
      return `Buildkite refused to revoke it (${describeFailure(cause).title.toLowerCase()}).`;
  }
}

function secretUnreadable(reason: string): string {
  switch (reason) {
    case "not_found":
      return "The secret store no longer has it. Rotate to a new token if it was deleted.";
    case "corrupt":
    case "encryption":
      return "The secret store could not decrypt it: an operator must check the encryption key (SECRETS_ENCRYPTION_KEY or the KMS key).";
    case "access_denied":
      return "The secret store refused access: an operator must check the server's permission to read it (see “Deploying” in the README).";
    case "misconfigured":
      return "The secret store is not configured: an operator must check the server's configuration.";
    default:
      return "The secret store did not answer: it may be busy or unreachable.";
  }
}

export type AttentionText = { problem: string; fix: string };

/** Why a connection needs attention, and what the admin does about it. */
export function describeAttention(attention: Attention): AttentionText {
  const rotate = "Create a new token with the nine scopes and use Rotate token to replace it.";
  switch (attention.code) {
    case "token_rejected":
      return { problem: "Buildkite no longer accepts this token: it was revoked, or it expired.", fix: rotate };
    case "token_forbidden":
      return {
        problem: "Buildkite refuses this token. Your Buildkite organisation may restrict it, for example with an IP allow-list that no longer includes this server.",
        fix: "Check the token's restrictions at Buildkite, or rotate to a new token.",
      };
    case "token_expired":
      return { problem: `This token expired${attention.expiresAt ? ` on ${formatDate(attention.expiresAt)}` : ""}.`, fix: rotate };
    case "missing_scopes":
      return {
        problem: attention.missingScopes?.length
          ? `The token no longer has ${list(attention.missingScopes)}, which the product needs.`
          : "The token lost scopes the product needs.",
        fix: "Buildkite cannot add scopes to a token: create a new one with all nine scopes and use Rotate token to replace it.",
      };
    case "organization_unreachable":
      return {
        problem: `The token can no longer reach the Buildkite organisation${attention.organization ? ` “${attention.organization}”` : ""}.`,
        fix: "Make sure the token's user is still a member of that organisation and that it still allows the token, then select Verify now; or rotate to a token that reaches it.",
      };
    case "expires_soon":
      return {
        problem: `This token expires on ${attention.expiresAt ? formatDate(attention.expiresAt) : "a date soon"}.`,
        fix: "Create a replacement now and use Rotate token, so failure analysis does not stop.",
      };
    case "secret_unreadable":
      return {
        problem: `The stored token cannot be read from the secret store. ${secretUnreadable(attention.reason ?? "")}`,
        fix: "Once the secret store is fixed, select Verify now. If the token is lost, rotate to a new one.",
      };
    case "buildkite_unreachable":
      // Rows written before checks told the two apart may blame Buildkite for the secret store's outage.
      if (attention.reason === "secret_unreadable") {
        return {
          problem: `Checks have not been able to read the stored token${attention.since ? ` since ${formatDateTime(attention.since)}` : " for a day"}: the secret store did not answer.`,
          fix: "An operator must check the secret store (see Troubleshooting in the README), then select Verify now.",
        };
      }
      return {
        problem: `Checks have not reached Buildkite${attention.since ? ` since ${formatDateTime(attention.since)}` : " for a day"}. The token itself may be fine.`,
        fix: "Check the server's network access to Buildkite and Buildkite's status page, then select Verify now.",
      };
    default:
      // A code stored by a newer release, read by an older one: still something the admin can act on.
      return {
        problem: "The last check of this token found a problem.",
        fix: "Select Verify now for details; if it persists, use Rotate token to replace the token.",
      };
  }
}

export function describeWarning(warning: TokenWarning): string {
  if (warning.code === "expires_soon") {
    return `This token expires on ${formatDate(warning.expiresAt)} (in ${warning.daysLeft} day${warning.daysLeft === 1 ? "" : "s"}). Create a replacement before then so failure analysis does not stop.`;
  }
  const write = warning.writeScopes.length > 0 ? ` including write access (${list(warning.writeScopes)})` : "";
  return `This token grants more than the product needs${write}: ${list(warning.extra)}. It works, but a token with only the nine read scopes is safer.`;
}

export function describeOwnerChange(change: { previous: string; next: string }): string {
  return `The new token belongs to ${change.next}; the previous one belonged to ${change.previous}. Gitar now reads Buildkite as ${change.next}.`;
}

/** After a disconnect: what became of the token at Buildkite. */
export function describeRevokeAtDisconnect(
  revoke: { status: "revoked" | "already_revoked" | "not_requested" } | { status: "failed"; failure: ConnectionFailure },
): { tone: "success" | "warning" | "info"; text: string } {
  switch (revoke.status) {
    case "revoked":
      return { tone: "success", text: "The token was revoked at Buildkite." };
    case "already_revoked":
      return { tone: "success", text: "The token was already revoked at Buildkite." };
    case "failed":
      return {
        tone: "warning",
        text: `The token could not be revoked at Buildkite and is still valid there: revoke it by hand under Personal Settings → API Access Tokens (${BUILDKITE_TOKENS_PAGE}). ${revokeCause(revoke.failure)}`,
      };
    case "not_requested":
      return { tone: "info", text: "The token was not revoked at Buildkite: it stays valid there until you revoke it or it expires." };
  }
}

/** After a rotation with "Revoke the previous token at Buildkite" ticked. */
export function describeRevokeOfPrevious(
  revoke: { status: "revoked" | "already_revoked" } | { status: "failed"; failure: ConnectionFailure },
  previousLastFour: string,
): { tone: "success" | "warning"; text: string } {
  switch (revoke.status) {
    case "revoked":
      return { tone: "success", text: `The previous token (ending in ${previousLastFour}) was revoked at Buildkite.` };
    case "already_revoked":
      return { tone: "success", text: `The previous token (ending in ${previousLastFour}) was already revoked at Buildkite.` };
    case "failed":
      return {
        tone: "warning",
        text: `The new token is in use, but the previous token (ending in ${previousLastFour}) could not be revoked at Buildkite, so it is still valid. ${revokeCause(revoke.failure)} Revoke it by hand under Personal Settings → API Access Tokens: ${BUILDKITE_TOKENS_PAGE}`,
      };
  }
}
