import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, jsonb, pgTable, timestamp } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * The web chat's transcript: what the page shows after a reload. Bot messages keep their
 * latest text and buttons (edits update the row); the person's messages are kept as typed.
 */
export const webchatMessages = pgTable(
  "webchat_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    fromBot: boolean("from_bot").notNull(),
    payload: jsonb("payload").$type<WebchatPayload>().notNull(),
    deleted: boolean("deleted").notNull().default(false),
    /**
     * When a page of the person first showed the message; null while it waits for them (it
     * arrived while every page was closed). The page marks such messages as new.
     */
    seenAt: timestamp("seen_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("webchat_messages_user_idx").on(t.userId, t.id),
    index("webchat_messages_unseen_idx").on(t.userId).where(sql`${t.seenAt} is null`),
  ],
);

export interface WebchatButton {
  text: string;
  callbackData?: string;
  url?: string;
}

export interface WebchatPayload {
  text: string;
  /** "html" when the bot used Telegram's HTML parse mode. */
  format: "html" | "plain";
  /** Rows of buttons, as in an inline keyboard. */
  buttons?: WebchatButton[][];
  /** A link to a photo or document the bot sent, when there is one. */
  attachment?: { kind: "photo" | "document"; url?: string; caption?: string };
}
