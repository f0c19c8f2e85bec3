DROP INDEX "robots_idempotency_key_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "robots_key_idempotency_idx" ON "robots" USING btree ("created_by_key_id","idempotency_key") WHERE created_by_key_id is not null;--> statement-breakpoint
CREATE INDEX "robots_idempotency_expiry_idx" ON "robots" USING btree ("created_at") WHERE idempotency_key is not null and created_by_key_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "robots_idempotency_key_idx" ON "robots" USING btree ("idempotency_key") WHERE created_by_key_id is null;