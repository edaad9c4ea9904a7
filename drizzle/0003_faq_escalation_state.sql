CREATE TABLE "faq_pending_questions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"text" text NOT NULL,
	"lang" text NOT NULL,
	"search_snapshot" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "faq_question_rate" (
	"user_id" bigint PRIMARY KEY NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "faq_pending_questions" ADD CONSTRAINT "faq_pending_questions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_question_rate" ADD CONSTRAINT "faq_question_rate_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "faq_pending_questions_user_idx" ON "faq_pending_questions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "faq_pending_questions_expires_idx" ON "faq_pending_questions" USING btree ("expires_at");