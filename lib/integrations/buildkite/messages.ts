import { formatDate } from "@/lib/format";
import type { TokenWarning } from "./policy";
import type { ConnectFailure } from "./outcomes";

/**
 * The words an admin reads when something goes wrong: what happened, and what to do next. Kept in one place so
 * the page, the API and the README's troubleshooting section say the same thing. Never includes the token.
 */


const list = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;

const NOTHING_SAVED = "Nothing was saved.";

export type FailureText = { title: string; message: string };

export function describeFailure(failure: ConnectFailure): FailureText {
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
        message: `Buildkite accepted the token but refused access${failure.scope ? ` because it lacks the ${failure.scope} scope` : ""}. Create a token with the nine scopes listed here; if it already has them, your Buildkite organisation may restrict the token (for example with an IP allow-list).`,
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
        message: `It expired on ${formatDate(failure.expiredAt)}. Create a new token with the link below and paste it here.`,
      };
    case "missing_scopes":
      return {
        title: `This token is missing ${failure.missing.length === 1 ? "a required scope" : `${failure.missing.length} required scopes`}`,
        message: `Add ${list(failure.missing)}. Buildkite cannot add scopes to an existing token: create a new one with the link below (it ticks all nine) and paste it here.`,
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
        message: `The token cannot reach “${failure.slug}”. Choose one of the organisations listed.`,
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
    case "database_failed":
      return {
        title: "The connection could not be recorded",
        message: `Our database did not accept the change, so nothing was changed. Try again in a minute.`,
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
