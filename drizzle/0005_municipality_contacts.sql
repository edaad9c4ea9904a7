ALTER TABLE "municipalities" ADD COLUMN "phone" text;--> statement-breakpoint
ALTER TABLE "municipalities" ADD COLUMN "email" text;--> statement-breakpoint
ALTER TABLE "municipalities" ADD COLUMN "website" text;--> statement-breakpoint
ALTER TABLE "municipalities" ADD COLUMN "address" text;