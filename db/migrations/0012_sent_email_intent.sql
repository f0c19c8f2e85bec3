CREATE TYPE "public"."sent_email_status" AS ENUM('sending', 'sent');--> statement-breakpoint
ALTER TABLE "sent_emails" ADD COLUMN "status" "sent_email_status" DEFAULT 'sent' NOT NULL;--> statement-breakpoint
ALTER TABLE "sent_emails" ADD COLUMN "run_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "sent_emails_message_id_idx" ON "sent_emails" USING btree ("message_id");