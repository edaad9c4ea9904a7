import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { LOCALES } from "../../locales";
import { municipalities } from "./directory";

/** Ids of chats on channels other than Telegram start here (Telegram ids fit in 52 bits). */
export const SYNTHETIC_CHAT_ID_BASE = 2 ** 52;

export function syntheticChatId(userId: number): number {
  return SYNTHETIC_CHAT_ID_BASE + userId;
}

export function isSyntheticChatId(chatId: number): boolean {
  return chatId >= SYNTHETIC_CHAT_ID_BASE;
}

export const CHANNELS = ["telegram", "web", "whatsapp"] as const;
export type Channel = (typeof CHANNELS)[number];

export const TOPICS = ["hearings", "polls", "announcements"] as const;
export type Topic = (typeof TOPICS)[number];

/**
 * One row per person per channel. `chatId` is the id this person has inside grammY updates:
 * the Telegram user id on Telegram, and a synthetic id at or above 2^52 on other channels
 * (Telegram ids use at most 52 bits), so one bot can serve every channel without collisions.
 */
export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    channelUserId: text("channel_user_id").notNull(),
    /**
     * A second id the channel has for the same person, by which they are found too: on WhatsApp
     * `channel_user_id` is the phone number (wa_id) and this the business-scoped user id, which
     * is the only one Meta sends for people who adopted a username (then it is both).
     */
    channelAltId: text("channel_alt_id"),
    chatId: bigint("chat_id", { mode: "number" }).notNull().unique(),
    firstName: text("first_name"),
    locale: text("locale", { enum: LOCALES }),
    municipalityId: integer("municipality_id").references(() => municipalities.id),
    topics: text("topics", { enum: TOPICS })
      .array()
      .notNull()
      .default(sql`ARRAY['hearings','polls','announcements']::text[]`),
    /** E.164; set only from a number the person proved is theirs (their own shared contact). */
    phone: text("phone"),
    phoneVerifiedAt: timestamp("phone_verified_at", { withTimezone: true }),
    consentAt: timestamp("consent_at", { withTimezone: true }),
    inactive: boolean("inactive").notNull().default(false),
    inactiveReason: text("inactive_reason"),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true }),
    /**
     * The roles whose commands this person's Telegram menu shows ("lawyer,staff"; "" or null:
     * the default menu), so it is set again only when their roles change.
     */
    commandMenu: text("command_menu"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("users_channel_identity_uq").on(t.channel, t.channelUserId),
    uniqueIndex("users_channel_alt_id_uq")
      .on(t.channel, t.channelAltId)
      .where(sql`${t.channelAltId} is not null`),
    index("users_municipality_idx").on(t.municipalityId),
  ],
);

export type UserRow = typeof users.$inferSelect;
