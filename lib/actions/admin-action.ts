import "server-only";

import { personActor } from "@/lib/audit/actor";
import type { AuditAction } from "@/lib/audit/events";
import { recordAuditEvent } from "@/lib/audit/record";
import { requireAdmin, type Membership } from "@/lib/auth/membership";
import { getDb } from "@/lib/db/client";
import { isDatabaseUnavailable } from "@/lib/db/errors";
import { log } from "@/lib/log";

/**
 * Every admin server action goes through here. A server action is a public POST endpoint, so the caller is checked
 * first, on every call, whatever the page showed: signed out or not an admin → refused (and a member's attempt is
 * audited in their organisation). Then the form is parsed, the use case runs, and its result becomes the form's
 * state. Expected failures are states the use case returns; a database that cannot be reached is answered with
 * `databaseUnavailable`; anything else thrown is a bug: logged with its name only (a message could hold what was
 * sent), and answered with `unexpected`. One log line per call.
 */

export type Parsed<Input, State> = { ok: true; input: Input } | { ok: false; state: State };

export type AdminActionDefinition<Input, State> = {
  /** The audited action this form performs. */
  action: AuditAction;
  /** Finishes "Only admins of <organisation> can …" (default: "change integrations"). */
  needsAdminTo?: string;
  parse(formData: FormData): Parsed<Input, State>;
  run(input: Input, caller: Membership): Promise<State>;
  refused(message: string): State;
  unexpected: State;
  /** When the database cannot be reached (down, restarting): what to show instead of `unexpected`, if the form has
   *  words for it. */
  databaseUnavailable?: State;
};

export function adminAction<Input, State extends { status: string }>(definition: AdminActionDefinition<Input, State>) {
  return async function runAdminAction(_previous: State, formData: FormData): Promise<State> {
    const started = Date.now();
    const caller = await requireAdmin(definition.needsAdminTo);
    if (!caller.ok) {
      if (caller.reason === "not_admin") await auditRefusal(definition.action, caller.membership);
      log.warn("action.refused", { action: definition.action, reason: caller.reason, organizationId: caller.reason === "not_admin" ? caller.membership.organizationId : undefined });
      return definition.refused(caller.message);
    }
    const organizationId = caller.membership.organizationId;
    const parsed = definition.parse(formData);
    if (!parsed.ok) {
      log.info("action.invalid", { action: definition.action, organizationId });
      return parsed.state;
    }
    try {
      const state = await definition.run(parsed.input, caller.membership);
      log.info("action.done", { action: definition.action, organizationId, status: state.status, ms: Date.now() - started });
      return state;
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        log.error("action.database_unavailable", { action: definition.action, organizationId, ms: Date.now() - started }, error);
        return definition.databaseUnavailable ?? definition.unexpected;
      }
      log.error("action.unexpected", { action: definition.action, organizationId, ms: Date.now() - started }, error);
      return definition.unexpected;
    }
  };
}

async function auditRefusal(action: AuditAction, membership: Membership) {
  await recordAuditEvent(getDb(), {
    organizationId: membership.organizationId,
    actor: personActor(membership),
    action,
    outcome: "refused",
    code: "not_admin",
  }).catch((error: unknown) => log.error("audit.write_failed", { organizationId: membership.organizationId, action }, error));
}
