ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "faq_escalations" DROP CONSTRAINT "faq_escalations_asker_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "faq_feedback" DROP CONSTRAINT "faq_feedback_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "hearing_rsvps" DROP CONSTRAINT "hearing_rsvps_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "hearing_rsvps" DROP CONSTRAINT "hearing_rsvps_hearing_id_user_id_pk";--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "faq_escalations" ALTER COLUMN "asker_user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "faq_feedback" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "hearing_rsvps" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "hearing_rsvps" ADD COLUMN "id" bigserial PRIMARY KEY NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_escalations" ADD CONSTRAINT "faq_escalations_asker_user_id_users_id_fk" FOREIGN KEY ("asker_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faq_feedback" ADD CONSTRAINT "faq_feedback_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearing_rsvps" ADD CONSTRAINT "hearing_rsvps_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hearing_rsvps" ADD CONSTRAINT "hearing_rsvps_hearing_user_uq" UNIQUE("hearing_id","user_id");