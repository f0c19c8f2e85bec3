CREATE TABLE "shared_hashes" (
	"hash" text NOT NULL,
	"field" text NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shared_hashes_hash_field_pk" PRIMARY KEY("hash","field")
);
