-- Idempotency keys are kept as sha256 of what the caller sent: the header is free text, and a token pasted into it
-- must not land in a table. Records made before this held the key as sent; they are only replay records (24 hours),
-- so they go.
DELETE FROM "idempotency_keys";

ALTER TABLE "idempotency_keys" RENAME COLUMN "key" TO "key_hash";

ALTER INDEX "idempotency_keys_organization_id_principal_key_key" RENAME TO "idempotency_keys_organization_id_principal_key_hash_key";
