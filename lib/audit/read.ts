import "server-only";

import type { Database } from "@/lib/db/client";
import { describeActor } from "./actor";
import { AUDIT_ACTIONS, isAuditAction, type AuditAction, type AuditDetail, type AuditOutcome } from "./events";

export const AUDIT_PAGE_SIZE = 50;

/** One event as the page and the API show it: plain data, nothing that identifies a secret. */
export type AuditEventView = {
  id: string;
  at: string;
  action: AuditAction | string;
  actionLabel: string;
  outcome: AuditOutcome;
  code: string | null;
  actor: { type: "person" | "scheduler" | "api_key"; name: string };
  detail: AuditDetail;
};

export type AuditPage = { events: AuditEventView[]; nextCursor: string | null };

/** A cursor is the last event's time and id: stable while new events arrive at the top. */
function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}

/** Newest first, a page at a time, optionally only one action. An unreadable cursor starts from the top. */
export async function listAuditEvents(
  db: Database,
  organizationId: string,
  options: { action?: AuditAction; cursor?: string; limit?: number } = {},
): Promise<AuditPage> {
  const limit = Math.min(Math.max(options.limit ?? AUDIT_PAGE_SIZE, 1), 200);
  const after = options.cursor ? decodeCursor(options.cursor) : null;
  const rows = await db.auditEvent.findMany({
    where: {
      organizationId,
      ...(options.action ? { action: options.action } : {}),
      ...(after
        ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
        : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: {
      id: true,
      createdAt: true,
      action: true,
      outcome: true,
      code: true,
      detail: true,
      actorType: true,
      actorEmail: true,
      actorLabel: true,
    },
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => ({
      id: row.id,
      at: row.createdAt.toISOString(),
      action: row.action,
      actionLabel: isAuditAction(row.action) ? AUDIT_ACTIONS[row.action] : row.action,
      outcome: row.outcome as AuditOutcome,
      code: row.code,
      actor: { type: row.actorType, name: describeActor({ type: row.actorType, email: row.actorEmail, label: row.actorLabel }) },
      detail: (row.detail ?? {}) as AuditDetail,
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
