CREATE TYPE "public"."execution_state" AS ENUM('started', 'running', 'completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."health_status" AS ENUM('healthy', 'degraded', 'unhealthy', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."performance_tier" AS ENUM('bronze', 'silver', 'gold', 'platinum');--> statement-breakpoint
CREATE TYPE "public"."robot_priority" AS ENUM('low', 'normal', 'high', 'critical');--> statement-breakpoint
CREATE TYPE "public"."robot_status" AS ENUM('queued', 'pending', 'running', 'paused', 'parked', 'completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TABLE "module_registry" (
	"module_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"module_name" text NOT NULL,
	"module_version" text NOT NULL,
	"supported_robot_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"performance_score" double precision DEFAULT 0.5 NOT NULL,
	"performance_tier" "performance_tier" DEFAULT 'silver' NOT NULL,
	"health_status" "health_status" DEFAULT 'unknown' NOT NULL,
	"registration_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"registered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "module_registry_module_name_unique" UNIQUE("module_name")
);
--> statement-breakpoint
CREATE TABLE "robot_execute" (
	"execution_id" uuid PRIMARY KEY NOT NULL,
	"robot_id" uuid NOT NULL,
	"module_name" text,
	"execution_state" "execution_state" DEFAULT 'started' NOT NULL,
	"current_step" text,
	"step_details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"performance_metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "robots" (
	"robot_id" uuid PRIMARY KEY NOT NULL,
	"robot_type" text NOT NULL,
	"robot_type_version" integer DEFAULT 1 NOT NULL,
	"status" "robot_status" DEFAULT 'queued' NOT NULL,
	"module_name" text,
	"input_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"output_data" jsonb,
	"priority" "robot_priority" DEFAULT 'normal' NOT NULL,
	"processing_time_ms" integer,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"completeness_score" double precision,
	"error_message" text,
	"idempotency_key" text,
	"request_hash" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "robot_execute" ADD CONSTRAINT "robot_execute_robot_id_robots_robot_id_fk" FOREIGN KEY ("robot_id") REFERENCES "public"."robots"("robot_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "robot_execute" ADD CONSTRAINT "robot_execute_module_name_module_registry_module_name_fk" FOREIGN KEY ("module_name") REFERENCES "public"."module_registry"("module_name") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "robots" ADD CONSTRAINT "robots_module_name_module_registry_module_name_fk" FOREIGN KEY ("module_name") REFERENCES "public"."module_registry"("module_name") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "module_registry_active_idx" ON "module_registry" USING btree ("is_active","health_status");--> statement-breakpoint
CREATE INDEX "robot_execute_robot_idx" ON "robot_execute" USING btree ("robot_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "robots_idempotency_key_idx" ON "robots" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "robots_created_idx" ON "robots" USING btree ("created_at" DESC NULLS LAST,"robot_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "robots_status_created_idx" ON "robots" USING btree ("status","created_at" DESC NULLS LAST,"robot_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "robots_type_created_idx" ON "robots" USING btree ("robot_type","created_at" DESC NULLS LAST,"robot_id" DESC NULLS LAST);