import "server-only";

import type { Database } from "@/lib/db/client";
import type { Prisma } from "@/lib/generated/prisma/client";
import type { Actor } from "./actor";
import type { AuditAction, AuditDetail, AuditOutcome } from "./events";

type Writer = Pick<Database, "auditEvent"> | Prisma.TransactionClient;

export type AuditEntry = {
  organizationId: string;
  actor: Actor;
  action: AuditAction;
  outcome: AuditOutcome;
  code?: string;
  detail?: AuditDetail;
};

/** Writes one event. Pass the transaction of the change it records, so both commit or neither does. */
export async function recordAuditEvent(db: Writer, entry: AuditEntry): Promise<void> {
  const { actor } = entry;
  await db.auditEvent.create({
    data: {
      organizationId: entry.organizationId,
      actorType: actor.type,
      actorUserId: actor.type === "person" ? actor.userId : null,
      actorEmail: actor.type === "person" ? actor.email : null,
      actorLabel: actor.type === "api_key" ? actor.name : null,
      action: entry.action,
      outcome: entry.outcome,
      code: entry.code ?? null,
      // Dates and undefined fields become plain JSON, exactly as it will be read back.
      detail: entry.detail ? (JSON.parse(JSON.stringify(entry.detail)) as Prisma.InputJsonObject) : undefined,
    },
  });
}
