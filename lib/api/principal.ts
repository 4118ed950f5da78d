import "server-only";

import { findUsableApiKey, recordApiKeyUse } from "@/lib/api-keys/api-keys";
import { personActor, type ApiKeyActor, type PersonActor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import type { AuditAction } from "@/lib/audit/events";
import { isSignedIn, membershipIn } from "@/lib/auth/membership";
import { getDb } from "@/lib/db/client";
import { log } from "@/lib/log";
import { API_PROBLEMS, type ProblemOutcome } from "./problem";

/**
 * Who is calling the API, checked in every handler: an organisation API key in `Authorization: Bearer`, or else the
 * browser session of an admin. A key acts only within its organisation. Another organisation's id in the path
 * answers 404, exactly as an id that does not exist: nobody learns which organisations there are.
 */

export type Principal =
  | { kind: "api_key"; actor: ApiKeyActor; organizationId: string; id: string }
  | { kind: "person"; actor: PersonActor; organizationId: string; id: string };

export type Authentication = { ok: true; principal: Principal } | ProblemOutcome;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export async function authenticate(request: Request, organizationId: string, action: AuditAction | null): Promise<Authentication> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const presented = BEARER.exec(authorization)?.[1];
    if (!presented) return { ok: false, problem: API_PROBLEMS.unauthenticated(), headers: { "www-authenticate": 'Bearer realm="gitar"' } };
    const db = getDb();
    const check = await findUsableApiKey(db, presented);
    if (!check.ok) {
      log.warn("api.refused", { reason: `api_key_${check.reason}` });
      return { ok: false, problem: API_PROBLEMS.invalidApiKey(check.reason), headers: { "www-authenticate": 'Bearer realm="gitar", error="invalid_token"' } };
    }
    if (check.key.organizationId !== organizationId) return { ok: false, problem: API_PROBLEMS.notFound() };
    await recordApiKeyUse(db, check.key.keyId);
    return {
      ok: true,
      principal: {
        kind: "api_key",
        actor: { type: "api_key", keyId: check.key.keyId, name: check.key.name },
        organizationId,
        id: `api_key:${check.key.keyId}`,
      },
    };
  }

  const membership = await membershipIn(organizationId);
  if (!membership) {
    return (await isSignedIn())
      ? { ok: false, problem: API_PROBLEMS.notFound() }
      : { ok: false, problem: API_PROBLEMS.unauthenticated(), headers: { "www-authenticate": 'Bearer realm="gitar"' } };
  }
  if (membership.role !== "admin") {
    // A member of this organisation tried: that is worth the admins' knowing, as on the page.
    if (action) {
      await recordAuditEvent(getDb(), { organizationId, actor: personActor(membership), action, outcome: "refused", code: "not_admin" }).catch(
        (error: unknown) => log.error("audit.write_failed", { organizationId, action }, error),
      );
    }
    log.warn("api.refused", { organizationId, reason: "not_admin" });
    return { ok: false, problem: API_PROBLEMS.forbidden(membership.organizationName) };
  }
  return { ok: true, principal: { kind: "person", actor: personActor(membership), organizationId, id: `person:${membership.userId}` } };
}
