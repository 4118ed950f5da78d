import "server-only";

import type { AccessTokenInfo, BuildkiteOrganization } from "@/lib/buildkite/schemas";
import type { Database } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import type { SecretRef } from "@/lib/secrets/store";
import { nextCheckAt } from "./check-timing";
import type { Health } from "./health";

/**
 * The connection record. Every change is a compare-and-set on `revision` (read under the organisation's lock),
 * so even a change that lost its lock can never overwrite a newer record.
 */

type Reader = Pick<Database, "buildkiteConnection"> | Prisma.TransactionClient;

const FOR_CHANGE = {
  id: true,
  revision: true,
  status: true,
  secretRef: true,
  secretVersion: true,
  buildkiteOrgSlug: true,
  buildkiteOrgName: true,
  tokenUuid: true,
  tokenLastFour: true,
  tokenOwnerName: true,
  tokenOwnerEmail: true,
  unreachableSince: true,
  attentionCode: true,
} satisfies Prisma.BuildkiteConnectionSelect;

type ForChangeRow = Prisma.BuildkiteConnectionGetPayload<{ select: typeof FOR_CHANGE }>;

function forChange({ secretRef, secretVersion, ...facts }: ForChangeRow) {
  return { ...facts, secret: { ref: secretRef, version: secretVersion } satisfies SecretRef };
}

/** What a change needs: the secret's whereabouts and the facts it compares against. Not for display. */
export async function findConnectionForChange(db: Reader, organizationId: string) {
  const row = await db.buildkiteConnection.findUnique({ where: { organizationId }, select: FOR_CHANGE });
  return row ? forChange(row) : null;
}

/** The same for many organisations in one query (the schedule's batch of claims), by organisation. */
export async function findConnectionsForChange(db: Reader, organizationIds: readonly string[]) {
  const rows = await db.buildkiteConnection.findMany({ where: { organizationId: { in: [...organizationIds] } }, select: { ...FOR_CHANGE, organizationId: true } });
  return new Map(rows.map(({ organizationId, ...row }) => [organizationId, forChange(row)]));
}

export type ConnectionForChange = NonNullable<Awaited<ReturnType<typeof findConnectionForChange>>>;

/** The token's facts as Buildkite described them, and its health, in the record's columns. */
export function tokenColumns(info: AccessTokenInfo, lastFour: string, organization: BuildkiteOrganization, health: Health) {
  return {
    buildkiteOrgSlug: organization.slug,
    buildkiteOrgName: organization.name,
    tokenUuid: info.uuid,
    tokenDescription: info.description,
    tokenOwnerName: info.owner?.name ?? null,
    tokenOwnerEmail: info.owner?.email ?? null,
    tokenLastFour: lastFour,
    scopes: [...info.scopes].sort(),
    tokenCreatedAt: info.createdAt,
    tokenExpiresAt: info.expiresAt,
    ...healthColumns(health),
  };
}

export function healthColumns(health: Health) {
  return health.status === "connected"
    ? { status: "connected" as const, attentionCode: null, attentionDetail: Prisma.DbNull }
    : {
        status: "needs_attention" as const,
        attentionCode: health.attention.code,
        attentionDetail: JSON.parse(JSON.stringify(health.attention)) as Prisma.InputJsonObject,
      };
}

/**
 * The check columns after a connect or rotate: Buildkite has just confirmed the token, so it counts as verified now,
 * and the schedule picks it up at the organisation's next slot.
 */
export function justCheckedColumns(organizationId: string, now: Date, health: Health, intervalMinutes: number) {
  return {
    lastVerifiedAt: now,
    lastCheckedAt: now,
    lastCheckOutcome: health.status === "connected" ? "passed" : "needs_attention",
    unreachableSince: null,
    nextVerifyAt: nextCheckAt(organizationId, now, intervalMinutes),
  };
}

export type NewConnection = Omit<Prisma.BuildkiteConnectionUncheckedCreateInput, "id" | "revision" | "updatedAt">;

/** Inserts the record; returns its id and first revision (the name of this change in its notification). */
export async function insertConnection(tx: Prisma.TransactionClient, data: NewConnection): Promise<{ id: string; revision: number }> {
  return tx.buildkiteConnection.create({ data, select: { id: true, revision: true } });
}

/** Applies `data` only if the record is still at `revision`; true when it was. */
export async function updateConnectionIfUnchanged(
  tx: Prisma.TransactionClient,
  organizationId: string,
  revision: number,
  data: Prisma.BuildkiteConnectionUncheckedUpdateManyInput,
): Promise<boolean> {
  const { count } = await tx.buildkiteConnection.updateMany({
    where: { organizationId, revision },
    data: { ...data, revision: { increment: 1 } },
  });
  return count === 1;
}

/** What a verdict writes: the token's facts as Buildkite described them, its health and the check's own columns. */
export type VerdictColumns = Partial<{
  status: "connected" | "needs_attention";
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
  attentionCode: string | null;
  attentionDetail: Prisma.InputJsonObject | typeof Prisma.DbNull;
  lastVerifiedAt: Date;
  lastCheckedAt: Date;
  lastCheckOutcome: string;
  unreachableSince: Date | null;
  nextVerifyAt: Date;
}>;

const VERDICT_COLUMN_NAMES: Record<keyof VerdictColumns, string> = {
  status: "status",
  buildkiteOrgSlug: "buildkite_org_slug",
  buildkiteOrgName: "buildkite_org_name",
  tokenUuid: "token_uuid",
  tokenDescription: "token_description",
  tokenOwnerName: "token_owner_name",
  tokenOwnerEmail: "token_owner_email",
  tokenLastFour: "token_last_four",
  scopes: "scopes",
  tokenCreatedAt: "token_created_at",
  tokenExpiresAt: "token_expires_at",
  attentionCode: "attention_code",
  attentionDetail: "attention_detail",
  lastVerifiedAt: "last_verified_at",
  lastCheckedAt: "last_checked_at",
  lastCheckOutcome: "last_check_outcome",
  unreachableSince: "unreachable_since",
  nextVerifyAt: "next_verify_at",
};

function verdictValue(column: keyof VerdictColumns, value: unknown): Prisma.Sql {
  switch (column) {
    case "status":
      return Prisma.sql`${value}::"ConnectionStatus"`;
    case "scopes":
      return Prisma.sql`${value}::text[]`;
    case "attentionDetail":
      return value === Prisma.DbNull ? Prisma.sql`NULL` : Prisma.sql`${JSON.stringify(value)}::jsonb`;
    default:
      return Prisma.sql`${value}`;
  }
}

/**
 * A scheduled verdict that records no event and no audit entry (the status stays as it was): one statement that
 * takes the organisation's lock without waiting (`pg_try_advisory_xact_lock`, held until the statement commits) and
 * compares the revision, where an interactive transaction takes four round trips (docs/benchmarks.md, part 5). The
 * lock is a filter of the row, evaluated before the row is locked, so a change under way (holding the lock) is never
 * waited for. False when the lock was busy or the record changed: either way, this verdict is not recorded.
 */
export async function updateConnectionIfUnchangedAndFree(
  db: Pick<Database, "$executeRaw">,
  organizationId: string,
  revision: number,
  lockKey: readonly [number, number],
  data: VerdictColumns,
): Promise<boolean> {
  const sets = (Object.keys(data) as Array<keyof VerdictColumns>)
    .filter((column) => data[column] !== undefined)
    .map((column) => Prisma.sql`${Prisma.raw(`"${VERDICT_COLUMN_NAMES[column]}"`)} = ${verdictValue(column, data[column])}`);
  const count = await db.$executeRaw`
    UPDATE buildkite_connections
    SET ${Prisma.join([...sets, Prisma.sql`revision = revision + 1`, Prisma.sql`updated_at = ${new Date()}`])}
    WHERE organization_id = ${organizationId}::uuid AND revision = ${revision}
      AND pg_try_advisory_xact_lock(${lockKey[0]}::int, ${lockKey[1]}::int)`;
  return count === 1;
}

/** Deletes the record only if it is still at `revision`; true when it was. */
export async function deleteConnectionIfUnchanged(tx: Prisma.TransactionClient, organizationId: string, revision: number): Promise<boolean> {
  const { count } = await tx.buildkiteConnection.deleteMany({ where: { organizationId, revision } });
  return count === 1;
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
      rotatedAt: true,
      lastVerifiedAt: true,
      lastCheckedAt: true,
      lastCheckOutcome: true,
      unreachableSince: true,
      attentionCode: true,
      attentionDetail: true,
      nextVerifyAt: true,
      connectedBy: { select: { name: true, email: true } },
      rotatedBy: { select: { name: true, email: true } },
      connectedByKey: { select: { name: true } },
      rotatedByKey: { select: { name: true } },
    },
  });
}
