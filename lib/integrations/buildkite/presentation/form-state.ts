// The states the Buildkite card's forms render: discriminated unions the UI switches on. Built from the use cases'
// results on the server; they hold messages and public facts only, never the token.
import { newTokenUrl } from "@/lib/buildkite/scopes";
import type { ConnectResult } from "../connect";
import type { DisconnectResult } from "../disconnect";
import { newTokenFixes, type ConnectionFailure, type ConnectionFailureCode } from "../failures";
import { describeAttention, describeFailure, describeOwnerChange, describeRevokeAtDisconnect, describeRevokeOfPrevious, describeWarning } from "./messages";
import type { ReverifyResult } from "../reverify";
import type { RotateResult } from "../rotate";

export type Notice = { tone: "success" | "warning" | "info"; text: string };

export type ErrorState = {
  status: "error";
  code: ConnectionFailureCode | "unexpected";
  title: string;
  message: string;
  missingScopes?: string[];
  newTokenUrl?: string;
  retryAfterSeconds?: number;
};

/** What every admin form can answer besides its own success. */
type CommonState = { status: "idle" } | { status: "refused"; message: string } | ErrorState;

export type ConnectFormState =
  | CommonState
  | { status: "invalid"; field: "token" | "buildkiteOrg"; message: string }
  | { status: "choose_organization"; organizations: Array<{ slug: string; name: string }> }
  | { status: "connected"; organizationName: string; warnings: string[] };

export type RotateFormState =
  | CommonState
  | { status: "invalid"; field: "token"; message: string }
  | { status: "rotated"; organizationName: string; notices: Notice[] };

export type DisconnectFormState =
  | CommonState
  /** Revoking failed and nothing changed: the dialog offers "Disconnect anyway". */
  | { status: "revoke_failed"; title: string; message: string }
  | { status: "disconnected"; notices: Notice[] };

export type VerifyFormState = CommonState | { status: "checked"; tone: Notice["tone"]; title: string; message: string };

/** For the bug we did not foresee: the details go to the log, the admin gets the one fact that matters. */
export const UNEXPECTED_FAILURE: ErrorState = {
  status: "error",
  code: "unexpected",
  title: "Something went wrong on our side",
  message: "The connection was not changed. Try again in a minute; if it keeps failing, contact support.",
};

/** A database that could not be reached at all (down, restarting): the same words as a change it refused. */
export function databaseUnavailableState(): ErrorState {
  return errorState({ code: "database_failed" });
}

export function errorState(failure: ConnectionFailure): ErrorState {
  return {
    status: "error",
    code: failure.code,
    ...describeFailure(failure),
    ...(failure.code === "missing_scopes" ? { missingScopes: failure.missing } : {}),
    ...(failure.code === "rate_limited" ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
    ...(newTokenFixes(failure) ? { newTokenUrl: newTokenUrl() } : {}),
  };
}

export function connectState(result: ConnectResult): ConnectFormState {
  if (result.ok) {
    return { status: "connected", organizationName: result.organization.name, warnings: result.warnings.map(describeWarning) };
  }
  if (result.failure.code === "organization_choice_required") {
    return { status: "choose_organization", organizations: result.failure.organizations };
  }
  return errorState(result.failure);
}

export function rotateState(result: RotateResult): RotateFormState {
  if (!result.ok) return errorState(result.failure);
  // The token's warnings (expiry, broad scopes) stay on the card itself; these are what only this rotation can say.
  const notices: Notice[] = [];
  if (result.ownerChange) notices.push({ tone: "warning", text: describeOwnerChange(result.ownerChange) });
  if (result.revoke.status !== "not_requested") notices.push(describeRevokeOfPrevious(result.revoke, result.previous.tokenLastFour));
  return { status: "rotated", organizationName: result.organization.name, notices };
}

export function disconnectState(result: DisconnectResult): DisconnectFormState {
  if (!result.ok) {
    if (result.failure.code === "revoke_failed") return { status: "revoke_failed", ...describeFailure(result.failure) };
    return errorState(result.failure);
  }
  return { status: "disconnected", notices: [describeRevokeAtDisconnect(result.revoke)] };
}

export function verifyState(result: ReverifyResult): VerifyFormState {
  if (!result.ok) return errorState(result.failure);
  if (result.outcome === "unreachable") {
    const store = result.unreachable?.code === "secret_unreadable";
    const what = store ? "the secret store" : "Buildkite";
    return {
      status: "checked",
      tone: "warning",
      title: `Could not reach ${what}`,
      message:
        result.status === "needs_attention" && result.attention
          ? `${describeAttention(result.attention).problem} ${describeAttention(result.attention).fix}`
          : `The status is unchanged; the check will be retried${result.retryAfterSeconds ? ` after Buildkite's rate limit resets (${result.retryAfterSeconds} seconds)` : ""}. If it keeps failing, check the server's access to ${what}.`,
    };
  }
  if (result.attention) {
    // The card above now shows the problem and its fix; this says what the check found, briefly.
    return { status: "checked", tone: "warning", title: "The check found a problem", message: `${describeAttention(result.attention).problem} See what to do above.` };
  }
  return { status: "checked", tone: "success", title: "The token works", message: "Buildkite accepted the token and it still reaches the organisation." };
}
