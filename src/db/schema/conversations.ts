import { jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Durable state of @grammyjs/conversations, keyed like the runner's sequentialize. */
export const conversationState = pgTable("conversation_state", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
