CREATE TABLE "alerts" (
	"alert_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule" text NOT NULL,
	"subject" text NOT NULL,
	"severity" text NOT NULL,
	"status" text DEFAULT 'firing' NOT NULL,
	"value" double precision NOT NULL,
	"threshold" double precision NOT NULL,
	"message" text NOT NULL,
	"fired_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp (3) with time zone,
	"resolved_value" double precision
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_firing_idx" ON "alerts" USING btree ("rule","subject") WHERE status = 'firing';--> statement-breakpoint
CREATE INDEX "alerts_fired_idx" ON "alerts" USING btree ("fired_at" DESC NULLS LAST,"alert_id" DESC NULLS LAST);