CREATE TABLE "hearing_questions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"hearing_id" bigint NOT NULL,
	"user_id" bigint,
	"text" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hearing_rsvps" (
	"hearing_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"answer" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hearing_rsvps_hearing_id_user_id_pk" PRIMARY KEY("hearing_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "hearings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"municipality_id" integer NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"title" jsonb NOT NULL,
	"agenda" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"duration_min" integer DEFAULT 120 NOT NULL,
	"place" jsonb NOT NULL,
	"online_url" text,
	"documents" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reminder_offsets" integer[] NOT NULL,
	"sequence" integer DEFAULT 0 NOT NULL,
	"cancel_reason" text,
	"minutes_text" text,
	"minutes_document" jsonb,
	"created_by_user_id" bigint,
	"published_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"held_at" timestamp with time zone,
	"minutes_published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hearings_duration_ck" CHECK ("hearings"."duration_min" between 15 and 1440)
);
--> statement-breakpoint
ALTER TABLE "outgoing_messages" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "hearing_questions" ADD CONSTRAINT "hearing_questions_hearing_id_hearings_id_fk" FOREIGN KEY ("hearing_id") REFERENCES "public"."hearings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearing_questions" ADD CONSTRAINT "hearing_questions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearing_rsvps" ADD CONSTRAINT "hearing_rsvps_hearing_id_hearings_id_fk" FOREIGN KEY ("hearing_id") REFERENCES "public"."hearings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearing_rsvps" ADD CONSTRAINT "hearing_rsvps_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearings" ADD CONSTRAINT "hearings_municipality_id_municipalities_id_fk" FOREIGN KEY ("municipality_id") REFERENCES "public"."municipalities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearings" ADD CONSTRAINT "hearings_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "hearing_questions_hearing_idx" ON "hearing_questions" USING btree ("hearing_id","created_at");--> statement-breakpoint
CREATE INDEX "hearing_questions_user_idx" ON "hearing_questions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "hearing_rsvps_user_idx" ON "hearing_rsvps" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "hearings_municipality_idx" ON "hearings" USING btree ("municipality_id","starts_at");