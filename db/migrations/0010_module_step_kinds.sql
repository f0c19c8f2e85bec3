CREATE TABLE "module_step_kinds" (
	"module_name" text NOT NULL,
	"kind" text NOT NULL,
	"version" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"params_schema" jsonb NOT NULL,
	"input_schema" jsonb NOT NULL,
	"output_schema" jsonb NOT NULL,
	"secret_params" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "module_step_kinds_module_name_kind_pk" PRIMARY KEY("module_name","kind")
);
--> statement-breakpoint
ALTER TABLE "module_step_kinds" ADD CONSTRAINT "module_step_kinds_module_name_module_registry_module_name_fk" FOREIGN KEY ("module_name") REFERENCES "public"."module_registry"("module_name") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "module_step_kinds_kind_idx" ON "module_step_kinds" USING btree ("kind");