CREATE TABLE "module_replicas" (
	"module_name" text NOT NULL,
	"replica_id" text NOT NULL,
	"capacity" integer NOT NULL,
	"in_flight" integer DEFAULT 0 NOT NULL,
	"info" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "module_replicas_module_name_replica_id_pk" PRIMARY KEY("module_name","replica_id")
);
--> statement-breakpoint
CREATE TABLE "robot_execute_archive" (
	"execution_id" uuid PRIMARY KEY NOT NULL,
	"robot_id" uuid NOT NULL,
	"module_name" text,
	"execution_state" "execution_state" NOT NULL,
	"current_step" text,
	"step_details" jsonb NOT NULL,
	"performance_metrics" jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "module_registry" ADD COLUMN "draining" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "module_registry" ADD COLUMN "supported_steps" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "module_registry" ADD COLUMN "capacity" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "module_replicas" ADD CONSTRAINT "module_replicas_module_name_module_registry_module_name_fk" FOREIGN KEY ("module_name") REFERENCES "public"."module_registry"("module_name") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "robot_execute_archive_robot_idx" ON "robot_execute_archive" USING btree ("robot_id");--> statement-breakpoint
CREATE INDEX "robot_execute_completed_idx" ON "robot_execute" USING btree ("completed_at");--> statement-breakpoint
CREATE INDEX "robots_module_status_idx" ON "robots" USING btree ("module_name","status");