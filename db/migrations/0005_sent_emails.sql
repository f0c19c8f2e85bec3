CREATE TABLE "sent_emails" (
	"robot_id" uuid NOT NULL,
	"step" text NOT NULL,
	"message_id" text NOT NULL,
	"recipients" text[] NOT NULL,
	"subject" text NOT NULL,
	"sent_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sent_emails_robot_id_step_pk" PRIMARY KEY("robot_id","step")
);
