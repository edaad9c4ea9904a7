CREATE TABLE "ballot_secret_check" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"fingerprint" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "poll_ballots" (
	"poll_id" bigint NOT NULL,
	"token" text NOT NULL,
	"choices" integer[] NOT NULL,
	CONSTRAINT "poll_ballots_poll_id_token_pk" PRIMARY KEY("poll_id","token")
);
--> statement-breakpoint
CREATE TABLE "poll_resident_lists" (
	"municipality_id" integer PRIMARY KEY NOT NULL,
	"numbers" integer NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "poll_residents" (
	"municipality_id" integer NOT NULL,
	"phone_hash" text NOT NULL,
	CONSTRAINT "poll_residents_municipality_id_phone_hash_pk" PRIMARY KEY("municipality_id","phone_hash")
);
--> statement-breakpoint
CREATE TABLE "poll_voters" (
	"poll_id" bigint NOT NULL,
	"voter_key" text NOT NULL,
	"voted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"new_account" boolean DEFAULT false NOT NULL,
	CONSTRAINT "poll_voters_poll_id_voter_key_pk" PRIMARY KEY("poll_id","voter_key")
);
--> statement-breakpoint
CREATE TABLE "polls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"municipality_id" integer NOT NULL,
	"question" jsonb NOT NULL,
	"options" jsonb NOT NULL,
	"max_choices" integer DEFAULT 1 NOT NULL,
	"audience" text NOT NULL,
	"live_results" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"opens_at" timestamp with time zone NOT NULL,
	"closes_at" timestamp with time zone NOT NULL,
	"created_by_user_id" bigint,
	"opened_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"burst_warned_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "polls_max_choices_ck" CHECK ("polls"."max_choices" between 1 and 10),
	CONSTRAINT "polls_times_ck" CHECK ("polls"."closes_at" > "polls"."opens_at")
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "phone_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "poll_resident_lists" ADD CONSTRAINT "poll_resident_lists_municipality_id_municipalities_id_fk" FOREIGN KEY ("municipality_id") REFERENCES "public"."municipalities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "poll_residents" ADD CONSTRAINT "poll_residents_municipality_id_municipalities_id_fk" FOREIGN KEY ("municipality_id") REFERENCES "public"."municipalities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "polls" ADD CONSTRAINT "polls_municipality_id_municipalities_id_fk" FOREIGN KEY ("municipality_id") REFERENCES "public"."municipalities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "polls" ADD CONSTRAINT "polls_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "poll_voters_new_idx" ON "poll_voters" USING btree ("poll_id","voted_at") WHERE "poll_voters"."new_account";--> statement-breakpoint
CREATE INDEX "polls_municipality_idx" ON "polls" USING btree ("municipality_id","closes_at");--> statement-breakpoint
CREATE INDEX "polls_due_idx" ON "polls" USING btree ("status","opens_at","closes_at");