import "server-only";

import type { Actor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import type { CallOptions } from "@/lib/buildkite/client";
import { BuildkiteError } from "@/lib/buildkite/errors";
import { log } from "@/lib/log";
import type { ConnectionDependencies } from "./dependencies";
import { failureDetail } from "./failed-attempts";
import { buildkiteFailure, type ConnectionFailure } from "./failures";

/** How revoking a token at Buildkite ended. A 401 means the token was already dead: as good as revoked. */
export type RevokeOutcome =
  | { status: "revoked" }
  | { status: "already_revoked" }
  | { status: "failed"; failure: ConnectionFailure };

/** `DELETE /v2/access-token` with the token itself, audited as buildkite.revoke either way. */
export async function revokeAtBuildkite(
  deps: Pick<ConnectionDependencies, "db" | "buildkite">,
  subject: { organizationId: string; actor: Actor; token: string; tokenUuid: string; tokenLastFour: string },
  options: CallOptions = {},
): Promise<RevokeOutcome> {
  const { organizationId, actor } = subject;
  let outcome: RevokeOutcome;
  try {
    await deps.buildkite.revokeAccessToken(subject.token, options);
    outcome = { status: "revoked" };
  } catch (error) {
    if (!(error instanceof BuildkiteError)) throw error;
    outcome = error.code === "unauthorized" ? { status: "already_revoked" } : { status: "failed", failure: buildkiteFailure(error) };
    if (outcome.status === "failed") log.warn("buildkite.revoke.failed", { organizationId, reason: error.reason, status: error.status }, error);
  }
  await recordRevokeOutcome(deps, { organizationId, actor, tokenUuid: subject.tokenUuid, tokenLastFour: subject.tokenLastFour }, outcome);
  return outcome;
}

export async function recordRevokeOutcome(
  deps: Pick<ConnectionDependencies, "db">,
  subject: { organizationId: string; actor: Actor; tokenUuid: string; tokenLastFour: string },
  outcome: RevokeOutcome,
): Promise<void> {
  const detail = { tokenUuid: subject.tokenUuid, tokenLastFour: subject.tokenLastFour, revoke: outcome.status };
  await recordAuditEvent(deps.db, {
    organizationId: subject.organizationId,
    actor: subject.actor,
    action: "buildkite.revoke",
    outcome: outcome.status === "failed" ? "failure" : "success",
    ...(outcome.status === "failed"
      ? { code: outcome.failure.code, detail: { ...detail, ...failureDetail(outcome.failure) } }
      : { detail }),
  }).catch((error: unknown) => log.error("audit.write_failed", { organizationId: subject.organizationId, action: "buildkite.revoke" }, error));
}
