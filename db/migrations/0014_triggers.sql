CREATE TABLE "triggers" (
	"trigger_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"robot_type" text NOT NULL,
	"priority" "robot_priority" DEFAULT 'normal' NOT NULL,
	"input_mapping" jsonb,
	"key_id" text NOT NULL,
	"iv" text NOT NULL,
	"tag" text NOT NULL,
	"ciphertext" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "triggers_name_unique" UNIQUE("name")
);
