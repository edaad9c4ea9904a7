import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import type { MessageContent, StoredAudience } from "./delivery-types";
import { municipalities } from "./directory";
import { CHANNELS, users } from "./users";

/** What an outgoing message is; free to extend, the engine treats every kind the same. */
export const MESSAGE_KINDS = [
  "announcement",
  "hearing_notice",
  "hearing_reminder",
  "hearing_minutes",
  "hearing_update",
  "hearing_nudge",
  "poll_opened",
  "poll_result",
  "faq_answer",
  "faq_escalation",
  "faq_reminder",
  "system",
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const MESSAGE_STATUSES = ["draft", "scheduled", "sending", "done", "cancelled"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * `held`: kept for a person who is not looking right now (a web chat whose page is closed): the
 * message waits in their history and becomes `sent` when a page of theirs first shows it.
 */
export const DELIVERY_STATUSES = [
  "pending",
  "sending",
  "sent",
  "held",
  "failed",
  "skipped",
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Per-status counts of a message's deliveries (see MessageProgress in src/delivery). */
export interface MessageTotals {
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  blocked: number;
  unreachable: number;
  held: number;
  /** WhatsApp: skipped outside the 24-hour window (no template for the kind). */
  outsideWindow?: number;
  /** WhatsApp: sent as a template (outside the window). */
  templates?: number;
  /** WhatsApp: reported delivered (or read) by the person's phone. */
  delivered?: number;
  /** WhatsApp: reported read. */
  read?: number;
}

/**
 * One proactive message (a broadcast, a notice, a single answer). Its recipients are rows of
 * `deliveries`; the engine only sends rows whose message is in status `sending`.
 */
export const outgoingMessages = pgTable(
  "outgoing_messages",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind", { enum: MESSAGE_KINDS }).notNull(),
    municipalityId: integer("municipality_id").references(() => municipalities.id),
    createdByUserId: bigint("created_by_user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    content: jsonb("content").$type<MessageContent>().notNull(),
    /** Enqueued (INSERT … SELECT) when the message starts, so a schedule reaches who is there then. */
    audience: jsonb("audience").$type<StoredAudience>(),
    /** Optional caller key ("hearing:12:reminder:1d"): creating the same key twice is refused. */
    dedupeKey: text("dedupe_key").unique(),
    status: text("status", { enum: MESSAGE_STATUSES }).notNull().default("draft"),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    /**
     * A scheduled message not started by this time is dropped (cancelled), never sent late: a
     * reminder whose moment passed while every instance was down gives way to the next one.
     */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
    /** Where the sender's live progress message lives (chat id as in grammY, message id). */
    progressChatId: bigint("progress_chat_id", { mode: "number" }),
    progressMessageId: integer("progress_message_id"),
    progressUpdatedAt: timestamp("progress_updated_at", { withTimezone: true }),
    /**
     * Final per-status counts of its deliveries, written when the message finishes and again
     * right before retention deletes its rows: what progress reports show once the rows are gone.
     */
    totals: jsonb("totals").$type<MessageTotals>(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("outgoing_messages_due_idx").on(t.scheduledAt).where(sql`${t.status} = 'scheduled'`),
    index("outgoing_messages_sending_idx").on(t.id).where(sql`${t.status} = 'sending'`),
    index("outgoing_messages_municipality_idx").on(t.municipalityId, t.createdAt),
  ],
);

/** One row per (message, recipient): the durable unit of work of the delivery engine. */
export const deliveries = pgTable(
  "deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    messageId: bigint("message_id", { mode: "number" })
      .notNull()
      .references(() => outgoingMessages.id, { onDelete: "cascade" }),
    /**
     * Null once the person deleted their data (/forgetme): the row still counts in its
     * message's totals, and goes with the other rows at retention.
     */
    userId: bigint("user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    /** Copied from the user at enqueue time so each channel's workers claim only their rows. */
    channel: text("channel", { enum: CHANNELS }).notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    /** Claims so far (a claim that ends without a send attempt gives its count back). */
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** Lease: a `sending` row whose lease has passed belongs to a dead worker and is re-queued. */
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    claimToken: text("claim_token"),
    lastError: text("last_error"),
    /** Why a row was skipped: blocked, unreachable, inactive, cancelled. */
    skipReason: text("skip_reason"),
    channelMessageId: text("channel_message_id"),
    /**
     * What the channel reported after the send (WhatsApp status webhooks): delivered, read,
     * failed; `reengage` while a row waits to go again as a template (error 131047).
     */
    channelStatus: text("channel_status"),
    /** Sent as the channel's template (WhatsApp, outside the 24-hour window). */
    viaTemplate: boolean("via_template").notNull().default(false),
    channelStatusAt: timestamp("channel_status_at", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("deliveries_message_user_uq").on(t.messageId, t.userId),
    index("deliveries_due_idx").on(t.channel, t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("deliveries_lease_idx").on(t.claimedUntil).where(sql`${t.status} = 'sending'`),
    index("deliveries_user_idx").on(t.userId),
    index("deliveries_whatsapp_message_idx")
      .on(t.channelMessageId)
      .where(sql`${t.channel} = 'whatsapp'`),
  ],
);

/**
 * Shared rate limiter state per channel (one row each), so every app instance draws from the
 * same budget: `next_slot_at` is the next free send slot (GCRA), `paused_until` a 429 pause.
 */
export const deliveryChannelState = pgTable("delivery_channel_state", {
  channel: text("channel", { enum: CHANNELS }).primaryKey(),
  nextSlotAt: timestamp("next_slot_at", { withTimezone: true }).notNull().defaultNow(),
  pausedUntil: timestamp("paused_until", { withTimezone: true }),
});

export type OutgoingMessageRow = typeof outgoingMessages.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
