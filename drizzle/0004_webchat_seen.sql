ALTER TABLE "webchat_messages" ADD COLUMN "seen_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "webchat_messages_unseen_idx" ON "webchat_messages" USING btree ("user_id") WHERE "webchat_messages"."seen_at" is null;--> statement-breakpoint
-- Messages from before this column existed were all on screen once: none of them is new.
UPDATE "webchat_messages" SET "seen_at" = "created_at" WHERE "seen_at" IS NULL;
