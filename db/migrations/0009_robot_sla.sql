CREATE TYPE "public"."sla_state" AS ENUM('on_track', 'at_risk', 'missed', 'met');--> statement-breakpoint
ALTER TABLE "robots" ADD COLUMN "deadline" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "robots" ADD COLUMN "sla_risk_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "robots" ADD COLUMN "sla_state" "sla_state";--> statement-breakpoint
CREATE INDEX "robots_sla_state_idx" ON "robots" USING btree ("sla_state","status") WHERE sla_state in ('at_risk', 'missed');