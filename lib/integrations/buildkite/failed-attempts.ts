import "server-only";

import type { Actor } from "@/lib/audit/actor";
import type { AuditAction, AuditDetail } from "@/lib/audit/events";
import { recordAuditEvent } from "@/lib/audit/record";
import type { Database } from "@/lib/db/client";
import { log } from "@/lib/log";
import type { BuildkiteError } from "@/lib/buildkite/errors";
import type { ConnectionFailure } from "./failures";

/** The non-secret facts of a failure worth keeping in the audit log. */
export function failureDetail(failure: ConnectionFailure): AuditDetail {
  switch (failure.code) {
    case "missing_scopes":
      return { missingScopes: failure.missing };
    case "buildkite_unreachable":
      return { reason: failure.reason };
    case "secret_store_failed":
    case "secret_unreadable":
      return { reason: failure.reason };
    case "organization_not_found":
      return { buildkiteOrganization: failure.slug ?? undefined };
    case "organization_mismatch":
      return { buildkiteOrganization: failure.connected.slug };
    case "revoke_failed":
      return { reason: failure.cause.code };
    default:
      return {};
  }
}

/**
 * Logs and audits an attempt that changed nothing. Outside any transaction (there is no change to join), and it
 * never throws: failing to audit must not turn the admin's clear message into an error page.
 */
export async function recordFailedAttempt(
  db: Database,
  attempt: { organizationId: string; actor: Actor; action: AuditAction; failure: ConnectionFailure; detail?: AuditDetail },
): Promise<void> {
  const { organizationId, action, failure } = attempt;
  log.warn(`${action}.failed`, { organizationId, code: failure.code });
  await recordAuditEvent(db, {
    organizationId,
    actor: attempt.actor,
    action,
    outcome: "failure",
    code: failure.code,
    detail: { ...attempt.detail, ...failureDetail(failure) },
  }).catch((error: unknown) => log.error("audit.write_failed", { organizationId, action, code: failure.code }, error));
}

/** What Buildkite said, for operators: the error's code, HTTP status and short reason (never a body, never the token). */
export function logBuildkiteError(event: string, organizationId: string, error: BuildkiteError): void {
  log.warn(event, { organizationId, code: error.code, status: error.status, reason: error.reason, missingScope: error.missingScope });
}
