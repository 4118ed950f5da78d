-- Manage a live connection: compare-and-set revisions, scheduled verification, rotation, and audit actors.

-- CreateEnum
CREATE TYPE "AuditActorType" AS ENUM ('person', 'scheduler', 'api_key');

-- AlterTable
ALTER TABLE "buildkite_connections" RENAME COLUMN "last_error_code" TO "attention_code";
ALTER TABLE "buildkite_connections"
    ADD COLUMN "revision" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "rotated_by_id" UUID,
    ADD COLUMN "rotated_at" TIMESTAMP(3),
    ADD COLUMN "last_checked_at" TIMESTAMP(3),
    ADD COLUMN "last_check_outcome" TEXT,
    ADD COLUMN "unreachable_since" TIMESTAMP(3),
    ADD COLUMN "attention_detail" JSONB,
    -- Existing connections are due for a check straight away; new rows always set it.
    ADD COLUMN "next_verify_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "buildkite_connections" ALTER COLUMN "next_verify_at" DROP DEFAULT;

-- AlterTable
ALTER TABLE "audit_events"
    ADD COLUMN "actor_type" "AuditActorType" NOT NULL DEFAULT 'person',
    ADD COLUMN "actor_label" TEXT;

-- CreateIndex
CREATE INDEX "buildkite_connections_next_verify_at_idx" ON "buildkite_connections"("next_verify_at");

-- CreateIndex
CREATE INDEX "audit_events_organization_id_action_created_at_idx" ON "audit_events"("organization_id", "action", "created_at");

-- AddForeignKey
ALTER TABLE "buildkite_connections" ADD CONSTRAINT "buildkite_connections_rotated_by_id_fkey" FOREIGN KEY ("rotated_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
