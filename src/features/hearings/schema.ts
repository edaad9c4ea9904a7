/**
 * The tables of budget hearings (SPEC §5). They live with the feature; drizzle.config.ts reads
 * every src/features/<name>/schema.ts beside the shared src/db/schema.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import { municipalities, users } from "../../db/schema";

/** What a hearing is about: the draft local budget, the report on its execution, or other. */
export const HEARING_KINDS = ["draft_budget", "budget_report", "other"] as const;
export type HearingKind = (typeof HEARING_KINDS)[number];

/**
 * draft → published → (rescheduled: still published, `sequence` grew) → held → minutes
 * (`minutesPublishedAt`); or cancelled from draft or published.
 */
export const HEARING_STATUSES = ["draft", "published", "cancelled", "held"] as const;
export type HearingStatus = (typeof HEARING_STATUSES)[number];

/** Staff write hearings in Kyrgyz and/or Russian; English readers get one of those. */
export type HearingText = { ky?: string; ru?: string };

/** A document of the hearing: a file sent in the chat (Telegram file id) or an https link. */
export type HearingDocument =
  | { kind: "file"; fileId: string; name?: string }
  | { kind: "link"; url: string; title?: string };

export const RSVP_ANSWERS = ["going", "not_going"] as const;
export type RsvpAnswer = (typeof RSVP_ANSWERS)[number];

export const hearings = pgTable(
  "hearings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    municipalityId: integer("municipality_id")
      .notNull()
      .references(() => municipalities.id),
    kind: text("kind", { enum: HEARING_KINDS }).notNull(),
    status: text("status", { enum: HEARING_STATUSES }).notNull().default("draft"),
    title: jsonb("title").$type<HearingText>().notNull(),
    agenda: jsonb("agenda").$type<HearingText>().notNull().default({}),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    durationMin: integer("duration_min").notNull().default(120),
    place: jsonb("place").$type<HearingText>().notNull(),
    onlineUrl: text("online_url"),
    documents: jsonb("documents").$type<HearingDocument[]>().notNull().default([]),
    /** Minutes before the start at which reminders go, largest first (HEARING_REMINDERS). */
    reminderOffsets: integer("reminder_offsets").array().notNull(),
    /** Grows with each change residents are told of (the .ics SEQUENCE; reminder keys). */
    sequence: integer("sequence").notNull().default(0),
    cancelReason: text("cancel_reason"),
    minutesText: text("minutes_text"),
    /** A file of the minutes (Telegram file id) or an https link. */
    minutesDocument: jsonb("minutes_document").$type<HearingDocument>(),
    createdByUserId: bigint("created_by_user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    publishedAt: timestamp("published_at", { withTimezone: true }),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
    heldAt: timestamp("held_at", { withTimezone: true }),
    minutesPublishedAt: timestamp("minutes_published_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("hearings_municipality_idx").on(t.municipalityId, t.startsAt),
    check("hearings_duration_ck", sql`${t.durationMin} between 15 and 1440`),
  ],
);

/** One answer per person per hearing; changeable until the hearing starts. */
export const hearingRsvps = pgTable(
  "hearing_rsvps",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    hearingId: bigint("hearing_id", { mode: "number" })
      .notNull()
      .references(() => hearings.id, { onDelete: "cascade" }),
    /** Null once the person deleted their data (/forgetme): the answer still counts. */
    userId: bigint("user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    answer: text("answer", { enum: RSVP_ANSWERS }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("hearing_rsvps_hearing_user_uq").on(t.hearingId, t.userId),
    index("hearing_rsvps_user_idx").on(t.userId),
  ],
);

/** Questions and proposals residents send before a hearing, for its protocol. */
export const hearingQuestions = pgTable(
  "hearing_questions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    hearingId: bigint("hearing_id", { mode: "number" })
      .notNull()
      .references(() => hearings.id, { onDelete: "cascade" }),
    userId: bigint("user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    text: text("text").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("hearing_questions_hearing_idx").on(t.hearingId, t.createdAt),
    index("hearing_questions_user_idx").on(t.userId),
  ],
);

export type HearingRow = typeof hearings.$inferSelect;
export type HearingRsvpRow = typeof hearingRsvps.$inferSelect;
export type HearingQuestionRow = typeof hearingQuestions.$inferSelect;
