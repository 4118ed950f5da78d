import "server-only";

import type { PersonActor } from "@/lib/audit/actor";
import { recordAuditEvent } from "@/lib/audit/record";
import type { Database } from "@/lib/db/client";
import { generateApiKey, hashApiKey, isWellFormedApiKey } from "./key-format";

/**
 * Organisation API keys: created by an admin, shown once, stored as a hash, usable only within their organisation
 * until revoked or expired. Creating and revoking are audited in the same transaction as the change.
 */

export type ApiKeyState = "active" | "expired" | "revoked";

export type ApiKeyView = {
  id: string;
  name: string;
  displayPrefix: string;
  state: ApiKeyState;
  createdAt: string;
  createdBy: { name: string; email: string } | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
};

const stateOf = (key: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): ApiKeyState =>
  key.revokedAt ? "revoked" : key.expiresAt && key.expiresAt.getTime() <= now.getTime() ? "expired" : "active";

export async function listApiKeys(db: Database, organizationId: string, now = new Date()): Promise<ApiKeyView[]> {
  const rows = await db.apiKey.findMany({
    where: { organizationId },
    orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    select: {
      id: true,
      name: true,
      displayPrefix: true,
      createdAt: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
      createdBy: { select: { name: true, email: true } },
    },
  });
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    displayPrefix: row.displayPrefix,
    state: stateOf(row, now),
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  }));
}

/** Returns the key itself: the one and only time it exists outside the caller's hands. */
export async function createApiKey(
  db: Database,
  request: { organizationId: string; actor: PersonActor; name: string; expiresAt: Date | null },
): Promise<{ key: string; id: string; displayPrefix: string }> {
  const { key, displayPrefix, keyHash } = generateApiKey();
  const created = await db.$transaction(async (tx) => {
    const row = await tx.apiKey.create({
      data: {
        organizationId: request.organizationId,
        name: request.name,
        displayPrefix,
        keyHash,
        createdById: request.actor.userId,
        expiresAt: request.expiresAt,
      },
      select: { id: true },
    });
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "api_key.create",
      outcome: "success",
      detail: { apiKeyName: request.name, apiKeyPrefix: displayPrefix, ...(request.expiresAt ? { expiresAt: request.expiresAt.toISOString() } : {}) },
    });
    return row;
  });
  return { key, id: created.id, displayPrefix };
}

export type RevokeApiKeyResult = { ok: true; name: string } | { ok: false; reason: "not_found" | "already_revoked" };

export async function revokeApiKey(
  db: Database,
  request: { organizationId: string; actor: PersonActor; keyId: string },
): Promise<RevokeApiKeyResult> {
  return db.$transaction(async (tx) => {
    // Only a key of this organisation: another organisation's key id is "not found", never revoked.
    const key = await tx.apiKey.findFirst({
      where: { id: request.keyId, organizationId: request.organizationId },
      select: { name: true, displayPrefix: true, revokedAt: true },
    });
    if (!key) return { ok: false, reason: "not_found" } as const;
    const { count } = await tx.apiKey.updateMany({
      where: { id: request.keyId, organizationId: request.organizationId, revokedAt: null },
      data: { revokedAt: new Date(), revokedById: request.actor.userId },
    });
    if (count === 0) return { ok: false, reason: "already_revoked" } as const;
    await recordAuditEvent(tx, {
      organizationId: request.organizationId,
      actor: request.actor,
      action: "api_key.revoke",
      outcome: "success",
      detail: { apiKeyName: key.name, apiKeyPrefix: key.displayPrefix },
    });
    return { ok: true, name: key.name } as const;
  });
}

export type ApiKeyPrincipal = { keyId: string; name: string; organizationId: string };

export type ApiKeyCheck = { ok: true; key: ApiKeyPrincipal } | { ok: false; reason: "malformed" | "unknown" | "revoked" | "expired" };

/** The key a request presented, if it is one of ours and usable now. Timing reveals nothing: lookup is by hash. */
export async function findUsableApiKey(db: Database, presented: string, now = new Date()): Promise<ApiKeyCheck> {
  if (!isWellFormedApiKey(presented)) return { ok: false, reason: "malformed" };
  const row = await db.apiKey.findUnique({
    where: { keyHash: hashApiKey(presented) },
    select: { id: true, name: true, organizationId: true, revokedAt: true, expiresAt: true },
  });
  if (!row) return { ok: false, reason: "unknown" };
  const state = stateOf(row, now);
  if (state !== "active") return { ok: false, reason: state };
  return { ok: true, key: { keyId: row.id, name: row.name, organizationId: row.organizationId } };
}

/** "Last used", written at most once a minute per key so a busy script does not write on every call. */
export async function recordApiKeyUse(db: Database, keyId: string, now = new Date()): Promise<void> {
  await db.apiKey.updateMany({
    where: { id: keyId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - 60_000) } }] },
    data: { lastUsedAt: now },
  });
}
