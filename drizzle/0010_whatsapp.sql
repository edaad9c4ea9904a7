CREATE TABLE "whatsapp_inbox" (
	"wamid" text PRIMARY KEY NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "whatsapp_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"payload" jsonb NOT NULL,
	"wamid" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "channel_status" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "via_template" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "channel_status_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "channel_alt_id" text;--> statement-breakpoint
ALTER TABLE "whatsapp_messages" ADD CONSTRAINT "whatsapp_messages_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "whatsapp_inbox_received_idx" ON "whatsapp_inbox" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "whatsapp_inbox_unprocessed_idx" ON "whatsapp_inbox" USING btree ("received_at") WHERE "whatsapp_inbox"."processed_at" is null;--> statement-breakpoint
CREATE INDEX "whatsapp_messages_user_idx" ON "whatsapp_messages" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "deliveries_whatsapp_message_idx" ON "deliveries" USING btree ("channel_message_id") WHERE "deliveries"."channel" = 'whatsapp';--> statement-breakpoint
CREATE UNIQUE INDEX "users_channel_alt_id_uq" ON "users" USING btree ("channel","channel_alt_id") WHERE "users"."channel_alt_id" is not null;