import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import { LOCALES, type Locale } from "../../locales";
import { municipalities } from "./directory";
import { users } from "./users";

/** Who may see an entry: everyone, or only deputies and municipal staff (and lawyers/admins). */
export const FAQ_AUDIENCES = ["everyone", "deputies_staff"] as const;
export type FaqAudience = (typeof FAQ_AUDIENCES)[number];

export const FAQ_STATUSES = ["draft", "published", "outdated"] as const;
export type FaqStatus = (typeof FAQ_STATUSES)[number];

export const FAQ_ESCALATION_STATUSES = ["open", "taken", "answered"] as const;
export type FaqEscalationStatus = (typeof FAQ_ESCALATION_STATUSES)[number];

/** Alternative ways people ask the same question, per language. */
export type FaqPhrasings = Partial<Record<Locale, string[]>>;

/**
 * One legal FAQ entry. The id is a stable, human-readable slug (e.g. "appeal-language") so that
 * imports, exports, feedback and evaluation files can refer to entries across databases.
 */
export const faqEntries = pgTable(
  "faq_entries",
  {
    id: text("id").primaryKey(),
    topic: text("topic").notNull(),
    questionKy: text("question_ky"),
    questionRu: text("question_ru"),
    questionEn: text("question_en"),
    answerKy: text("answer_ky"),
    answerRu: text("answer_ru"),
    answerEn: text("answer_en"),
    /** The law (and article where known) the answer rests on, as the Russian texts cite it. */
    source: text("source").notNull().default(""),
    /** The same citation as the official Kyrgyz texts write it ("…Мыйзамы, 25-берене"). */
    sourceKy: text("source_ky").notNull().default(""),
    lastCheckedAt: date("last_checked_at", { mode: "string" }).notNull(),
    audience: text("audience", { enum: FAQ_AUDIENCES }).notNull().default("everyone"),
    /** Free tags; the shipped corpus keeps its per-language keywords here. */
    tags: text("tags").array().notNull().default([]),
    status: text("status", { enum: FAQ_STATUSES }).notNull().default("published"),
    phrasings: jsonb("phrasings").$type<FaqPhrasings>().notNull().default({}),
    /**
     * Points next to this entry that it does not answer (words per language: "зарплата",
     * "айлык"): a question about one of them gets no confident answer from this entry.
     */
    notCovered: jsonb("not_covered").$type<FaqPhrasings>().notNull().default({}),
    /** Ids of neighbouring entries people confuse with this one ("see also"). */
    seeAlso: text("see_also").array().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("faq_entries_status_idx").on(t.status)],
);

export type FaqEntryRow = typeof faqEntries.$inferSelect;

/** "Helpful / not helpful" votes: one per user per entry, the latest vote wins. */
export const faqFeedback = pgTable(
  "faq_feedback",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    entryId: text("entry_id")
      .notNull()
      .references(() => faqEntries.id, { onDelete: "cascade" }),
    /** Null once the person deleted their data (/forgetme): the vote still counts. */
    userId: bigint("user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    helpful: boolean("helpful").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("faq_feedback_entry_user_uq").on(t.entryId, t.userId)],
);

/** Questions the FAQ could not answer, sent by deputies or staff to the lawyers. */
export const faqEscalations = pgTable(
  "faq_escalations",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** Null once the asker deleted their data (/forgetme); the text is then emptied too. */
    askerUserId: bigint("asker_user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    municipalityId: integer("municipality_id").references(() => municipalities.id),
    text: text("text").notNull(),
    lang: text("lang", { enum: LOCALES }).notNull(),
    /** What the search returned when the question was asked (ids, scores, confidence). */
    searchSnapshot: jsonb("search_snapshot").$type<Record<string, unknown>>().notNull().default({}),
    status: text("status", { enum: FAQ_ESCALATION_STATUSES }).notNull().default("open"),
    takenByUserId: bigint("taken_by_user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    answerText: text("answer_text"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    takenAt: timestamp("taken_at", { withTimezone: true }),
    answeredAt: timestamp("answered_at", { withTimezone: true }),
    remindedAt: timestamp("reminded_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("faq_escalations_status_idx").on(t.status, t.createdAt)],
);

export type FaqEscalationRow = typeof faqEscalations.$inferSelect;

/**
 * A question the FAQ could not answer, asked by a deputy or staff member, waiting for them to
 * press "send to the lawyers" (the button carries the row id). Kept in the database so that a
 * restart or another app instance still knows it; consumed by one conditional DELETE, so two
 * presses (or two processes) escalate it once. Expired rows are purged by the scheduler.
 */
export const faqPendingQuestions = pgTable(
  "faq_pending_questions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    text: text("text").notNull(),
    lang: text("lang", { enum: LOCALES }).notNull(),
    searchSnapshot: jsonb("search_snapshot").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("faq_pending_questions_user_idx").on(t.userId),
    index("faq_pending_questions_expires_idx").on(t.expiresAt),
  ],
);

export type FaqPendingQuestionRow = typeof faqPendingQuestions.$inferSelect;

/**
 * Per-user question rate limit, shared by every app instance: a fixed window per user, counted
 * with one atomic upsert per question (see `allowQuestion`). One row per user who ever asked.
 */
export const faqQuestionRate = pgTable("faq_question_rate", {
  userId: bigint("user_id", { mode: "number" })
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
  count: integer("count").notNull(),
});

/**
 * A question the FAQ did not answer (the search abstained), kept so that lawyers can see what
 * people ask that the FAQ lacks (/gaps) and draft entries from it. Only the text, its language
 * and the asker's municipality: no link to the person.
 */
export const faqUnanswered = pgTable(
  "faq_unanswered",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    text: text("text").notNull(),
    lang: text("lang", { enum: LOCALES }).notNull(),
    municipalityId: integer("municipality_id").references(() => municipalities.id, {
      onDelete: "set null",
    }),
    /** Set once a lawyer drafted an entry from this question's group. */
    draftEntryId: text("draft_entry_id").references(() => faqEntries.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("faq_unanswered_created_idx").on(t.createdAt)],
);

export type FaqUnansweredRow = typeof faqUnanswered.$inferSelect;
