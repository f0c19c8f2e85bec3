ALTER TYPE "public"."robot_status" ADD VALUE 'awaiting_approval' BEFORE 'completed';--> statement-breakpoint
ALTER TYPE "public"."robot_status" ADD VALUE 'escalated' BEFORE 'completed';