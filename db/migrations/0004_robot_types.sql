CREATE TABLE "robot_types" (
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "robot_types_name_version_pk" PRIMARY KEY("name","version")
);
