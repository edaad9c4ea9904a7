CREATE TABLE "faq_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"question_ky" text,
	"question_ru" text,
	"question_en" text,
	"answer_ky" text,
	"answer_ru" text,
	"answer_en" text,
	"source" text DEFAULT '' NOT NULL,
	"last_checked_at" date NOT NULL,
	"audience" text DEFAULT 'everyone' NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"status" text DEFAULT 'published' NOT NULL,
	"phrasings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "faq_escalations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"asker_user_id" bigint NOT NULL,
	"municipality_id" integer,
	"text" text NOT NULL,
	"lang" text NOT NULL,
	"search_snapshot" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"taken_by_user_id" bigint,
	"answer_text" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"taken_at" timestamp with time zone,
	"answered_at" timestamp with time zone,
	"reminded_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "faq_feedback" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entry_id" text NOT NULL,
	"user_id" bigint NOT NULL,
	"helpful" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "faq_feedback_entry_user_uq" UNIQUE("entry_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "faq_escalations" ADD CONSTRAINT "faq_escalations_asker_user_id_users_id_fk" FOREIGN KEY ("asker_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_escalations" ADD CONSTRAINT "faq_escalations_municipality_id_municipalities_id_fk" FOREIGN KEY ("municipality_id") REFERENCES "public"."municipalities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_escalations" ADD CONSTRAINT "faq_escalations_taken_by_user_id_users_id_fk" FOREIGN KEY ("taken_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_feedback" ADD CONSTRAINT "faq_feedback_entry_id_faq_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."faq_entries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_feedback" ADD CONSTRAINT "faq_feedback_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "faq_entries_status_idx" ON "faq_entries" USING btree ("status");--> statement-breakpoint
CREATE INDEX "faq_escalations_status_idx" ON "faq_escalations" USING btree ("status","created_at");