import { type SQL, sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * Every message a person sent on WhatsApp, by Meta's message id (wamid): the durable inbox of
 * the webhook. The row is written before the webhook is answered, so a message Meta delivers
 * twice (to this or another instance) is processed once, and one whose processing was cut short
 * (a crash) is picked up again. Pruned 7 days after it arrived.
 */
export const whatsappInbox = pgTable(
  "whatsapp_inbox",
  {
    wamid: text("wamid").primaryKey(),
    /** The message and its sender as Meta sent them (see src/channels/whatsapp/inbound.ts). */
    payload: jsonb("payload").$type<WhatsappInboxPayload>().notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    /** While an instance processes the message; a passed lease means it died meanwhile. */
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    processedAt: timestamp("processed_at", { withTimezone: true }),
  },
  (t) => [
    index("whatsapp_inbox_received_idx").on(t.receivedAt),
    index("whatsapp_inbox_unprocessed_idx").on(t.receivedAt).where(sql`${t.processedAt} is null`),
  ],
);

export interface WhatsappInboxPayload {
  /** The sender's phone number (wa_id), when Meta sent it. */
  waId?: string;
  /** The sender's business-scoped user id (BSUID), when Meta sent it. */
  bsuid?: string;
  name?: string;
  /** Meta's message object (text, interactive, contacts, …). */
  message: Record<string, unknown>;
}

/**
 * Rows of `whatsapp_inbox` sent by a person known by any of `ids` (their wa_id or BSUID, as the
 * payload stores either): for what a person's data request or deletion must find.
 */
export function inboxSentBy(ids: readonly string[]): SQL {
  const list = sql.join(
    ids.map((v) => sql`${v}`),
    sql`, `,
  );
  return sql`(${whatsappInbox.payload}->>'waId' in (${list}) or ${whatsappInbox.payload}->>'bsuid' in (${list}))`;
}

/**
 * The bot's messages to WhatsApp people, as the bot knows them: the id grammY code uses as
 * message_id, the latest text and buttons (an edit sends a new WhatsApp message and bumps
 * `version`; buttons of older versions answer as stale), and Meta's id of the latest send.
 */
export const whatsappMessages = pgTable(
  "whatsapp_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    version: integer("version").notNull().default(1),
    payload: jsonb("payload").$type<WhatsappMessagePayload>().notNull(),
    wamid: text("wamid"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("whatsapp_messages_user_idx").on(t.userId, t.id)],
);

export interface WhatsappMessagePayload {
  /** As the bot wrote it (Telegram HTML when `html`). */
  text: string;
  html: boolean;
  /** The inline keyboard, as rows of buttons. */
  buttons?: { text: string; callbackData?: string; url?: string }[][];
}
