import "server-only";

import type { Prisma } from "@/lib/generated/prisma/client";
import type { Database } from "@/lib/db/client";

type Writer = Pick<Database, "auditEvent"> | Prisma.TransactionClient;

export type AuditEntry = {
  organizationId: string;
  actor: { userId: string; email: string } | null;
  action: "buildkite.connect";
  outcome: "success" | "failure";
  code?: string;
  /** Facts about the attempt: Buildkite organisation, token UUID, scopes. Never the token. */
  detail?: Prisma.InputJsonValue;
};

export async function recordAuditEvent(db: Writer, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      organizationId: entry.organizationId,
      actorUserId: entry.actor?.userId ?? null,
      actorEmail: entry.actor?.email ?? null,
      action: entry.action,
      outcome: entry.outcome,
      code: entry.code ?? null,
      detail: entry.detail,
    },
  });
}
