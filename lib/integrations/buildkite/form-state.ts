// The state the Connect Buildkite form renders: a discriminated union the UI switches on. Built from the
// connect result on the server; holds messages and public facts only, never the token.
import { newTokenUrl } from "@/lib/buildkite/scopes";
import type { ConnectResult } from "./connect";
import { describeFailure, describeWarning } from "./messages";
import type { ConnectFailureCode } from "./outcomes";

export type ConnectFormState =
  | { status: "idle" }
  | { status: "invalid"; field: "token" | "buildkiteOrg"; message: string }
  | { status: "refused"; message: string }
  | {
      status: "error";
      code: ConnectFailureCode | "unexpected";
      title: string;
      message: string;
      missingScopes?: string[];
      newTokenUrl?: string;
      retryAfterSeconds?: number;
    }
  | { status: "choose_organization"; organizations: Array<{ slug: string; name: string }> }
  | { status: "connected"; organizationName: string; warnings: string[] };

/** For the bug we did not foresee: the details go to the log, the admin gets the one fact that matters. */
export const UNEXPECTED_FAILURE: ConnectFormState = {
  status: "error",
  code: "unexpected",
  title: "Something went wrong on our side",
  message: "The connection was not changed. Try again in a minute; if it keeps failing, contact support.",
};

const SUGGEST_NEW_TOKEN = new Set<ConnectFailureCode>(["token_rejected", "token_forbidden", "token_expired", "missing_scopes"]);

export function toFormState(result: ConnectResult): ConnectFormState {
  switch (result.kind) {
    case "connected":
      return { status: "connected", organizationName: result.organization.name, warnings: result.warnings.map(describeWarning) };
    case "choose_organization":
      return { status: "choose_organization", organizations: result.organizations.map(({ slug, name }) => ({ slug, name })) };
    case "failed": {
      const { failure } = result;
      return {
        status: "error",
        code: failure.code,
        ...describeFailure(failure),
        ...(failure.code === "missing_scopes" ? { missingScopes: failure.missing } : {}),
        ...(failure.code === "rate_limited" ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
        ...(SUGGEST_NEW_TOKEN.has(failure.code) ? { newTokenUrl: newTokenUrl() } : {}),
      };
    }
  }
}
