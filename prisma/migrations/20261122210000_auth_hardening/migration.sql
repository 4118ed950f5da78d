-- Auth hardening: demo organisations marked apart from real ones, and people bound to their identity-provider
-- accounts at first sign-in.

-- AlterTable
ALTER TABLE "organizations" ADD COLUMN "demo" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "user_identities" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_account_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_identities_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_identities_provider_provider_account_id_key" ON "user_identities"("provider", "provider_account_id");

-- CreateIndex
CREATE UNIQUE INDEX "user_identities_user_id_provider_key" ON "user_identities"("user_id", "provider");

-- AddForeignKey
ALTER TABLE "user_identities" ADD CONSTRAINT "user_identities_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Data: the organisations the demo seed made before this column existed (slug and name as it made them, and no
-- member but the demo accounts) are demo organisations.
UPDATE "organizations" o SET "demo" = true
WHERE (o."slug", o."name") IN (('acme', 'Acme'), ('globex', 'Globex'))
  AND EXISTS (SELECT 1 FROM "memberships" m WHERE m."organization_id" = o."id")
  AND NOT EXISTS (
    SELECT 1 FROM "memberships" m JOIN "users" u ON u."id" = m."user_id"
    WHERE m."organization_id" = o."id"
      AND u."email" NOT IN ('admin@acme.test', 'member@acme.test', 'admin@globex.test')
  );

-- Data: the old seed attached the demo accounts (whose password is published) by slug to whatever organisation was
-- called acme or globex, real ones included. Those memberships go.
DELETE FROM "memberships" m
USING "users" u, "organizations" o
WHERE u."id" = m."user_id" AND o."id" = m."organization_id"
  AND o."demo" = false
  AND u."email" IN ('admin@acme.test', 'member@acme.test', 'admin@globex.test');
