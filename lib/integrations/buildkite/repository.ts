import "server-only";

import type { Prisma } from "@/lib/generated/prisma/client";
import type { Database } from "@/lib/db/client";
import type { SecretRef } from "@/lib/secrets/store";

/** The secret behind an organisation's current connection, for the one path that needs it (undo after a failure). */
export async function findSecretRef(db: Database, organizationId: string): Promise<SecretRef | null> {
  const row = await db.buildkiteConnection.findUnique({
    where: { organizationId },
    select: { secretRef: true, secretVersion: true },
  });
  return row ? { ref: row.secretRef, version: row.secretVersion } : null;
}

export type ConnectionRecord = {
  organizationId: string;
  buildkiteOrgSlug: string;
  buildkiteOrgName: string;
  tokenUuid: string;
  tokenDescription: string | null;
  tokenOwnerName: string | null;
  tokenOwnerEmail: string | null;
  tokenLastFour: string;
  scopes: string[];
  tokenCreatedAt: Date | null;
  tokenExpiresAt: Date | null;
  secret: SecretRef;
  connectedById: string;
  connectedAt: Date;
};

/** One row per organisation: a reconnect replaces the previous record in place. */
export async function saveConnectedRecord(tx: Prisma.TransactionClient, record: ConnectionRecord): Promise<void> {
  const { organizationId, secret, ...fields } = record;
  const data = {
    ...fields,
    status: "connected" as const,
    secretRef: secret.ref,
    secretVersion: secret.version,
    lastVerifiedAt: record.connectedAt,
    lastErrorCode: null,
  };
  await tx.buildkiteConnection.upsert({
    where: { organizationId },
    create: { organizationId, ...data },
    update: data,
  });
}

/** Everything the page shows, and nothing that points at the secret. */
export async function findConnectionForDisplay(db: Database, organizationId: string) {
  return db.buildkiteConnection.findUnique({
    where: { organizationId },
    select: {
      status: true,
      buildkiteOrgSlug: true,
      buildkiteOrgName: true,
      tokenUuid: true,
      tokenDescription: true,
      tokenOwnerName: true,
      tokenOwnerEmail: true,
      tokenLastFour: true,
      scopes: true,
      tokenCreatedAt: true,
      tokenExpiresAt: true,
      connectedAt: true,
      lastVerifiedAt: true,
      lastErrorCode: true,
      connectedBy: { select: { name: true, email: true } },
    },
  });
}
