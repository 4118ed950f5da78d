import "server-only";

import { createHash } from "node:crypto";
import type { Database } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";

/**
 * `Idempotency-Key` for PUT and DELETE: the first request with a key runs and its outcome is kept; a retry with the
 * same key and the same request gets that outcome again without running anything; the same key with another
 * request is refused. Keys are per caller and organisation, and kept 24 hours (the job runner clears older ones).
 * Outcomes that invite a retry (another change in progress, a rate limit, a server-side failure) are not kept, so
 * the retry runs for real.
 */

export const IDEMPOTENCY_HEADER = "idempotency-key";
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Visible ASCII, as the header's draft standard suggests (a UUID is typical). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyScope = { organizationId: string; principal: string; key: string; requestHash: string };

export type IdempotencyStart =
  | { kind: "run"; id: string }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "reused" }
  | { kind: "in_progress" };

export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY_PATTERN.test(key);
}

/** The method, path and body a key is bound to (the body as sent: a different body is a different request). */
export function requestHash(method: string, path: string, body: string): string {
  return createHash("sha256").update(`${method}\n${path}\n${body}`).digest("hex");
}

/** Only the key's hash is kept: the header is the caller's free text, and could hold a token pasted in by mistake. */
const keyHashOf = (key: string) => createHash("sha256").update(key).digest("hex");

export async function startIdempotent(db: Database, scope: IdempotencyScope, now = new Date()): Promise<IdempotencyStart> {
  const since = new Date(now.getTime() - IDEMPOTENCY_TTL_MS);
  const keyHash = keyHashOf(scope.key);
  // A record older than the window no longer counts: the key starts afresh.
  await db.idempotencyKey.deleteMany({
    where: { organizationId: scope.organizationId, principal: scope.principal, keyHash, createdAt: { lt: since } },
  });
  try {
    const created = await db.idempotencyKey.create({
      data: { organizationId: scope.organizationId, principal: scope.principal, keyHash, requestHash: scope.requestHash },
      select: { id: true },
    });
    return { kind: "run", id: created.id };
  } catch (error) {
    if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")) throw error;
  }
  const existing = await db.idempotencyKey.findUnique({
    where: { organizationId_principal_keyHash: { organizationId: scope.organizationId, principal: scope.principal, keyHash } },
    select: { requestHash: true, responseStatus: true, responseBody: true },
  });
  // Deleted between our insert and our read (its first request gave up): treat it as still running.
  if (!existing) return { kind: "in_progress" };
  if (existing.requestHash !== scope.requestHash) return { kind: "reused" };
  if (existing.responseStatus === null) return { kind: "in_progress" };
  return { kind: "replay", status: existing.responseStatus, body: existing.responseBody };
}

/** Keeps the first outcome, or lets the key go when the outcome invites a retry. */
export async function finishIdempotent(db: Database, id: string, outcome: { status: number; body: unknown }): Promise<void> {
  // "busy" is the one 409 that says "try again"; the others (a choice to make, a token already connected) are final.
  const code = (outcome.body as { code?: unknown } | null)?.code;
  const retryable = (outcome.status === 409 && code === "busy") || outcome.status === 429 || outcome.status >= 500;
  if (retryable) {
    await db.idempotencyKey.deleteMany({ where: { id } });
    return;
  }
  await db.idempotencyKey.update({
    where: { id },
    data: { responseStatus: outcome.status, responseBody: outcome.body as Prisma.InputJsonValue },
  });
}

export async function clearExpiredIdempotencyKeys(db: Database, now = new Date()): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - IDEMPOTENCY_TTL_MS) } } });
  return count;
}
