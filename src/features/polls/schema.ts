/**
 * The tables of polls (SPEC §6). Who voted and what was voted live in two tables that share
 * nothing but the poll id:
 * - `poll_voters`: one row per (poll, voter key): that someone voted, and when. The voter key
 *   is a keyed hash (HMAC with the ballot secret) of the account, or of the verified phone
 *   number for verified-residents polls, never a user id or a phone number.
 * - `poll_ballots`: one row per (poll, ballot token): the choices. The token is another keyed
 *   hash of the voter key and the poll, so the voter finds their ballot again to change it;
 *   without the secret a token leads to nobody. No timestamps and no serial id, which would
 *   let someone line ballots up with voters by time or order.
 * The resident list stores keyed hashes of phone numbers, not the numbers.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { municipalities, users } from "../../db/schema";

/** Staff write polls in Kyrgyz and/or Russian; English readers get one of those. */
export type PollText = { ky?: string; ru?: string };

/** Who may vote: the municipality's residents by account, or verified residents by phone. */
export const POLL_AUDIENCES = ["subscribers", "verified"] as const;
export type PollAudience = (typeof POLL_AUDIENCES)[number];

/**
 * scheduled (opens later) → open → closed; or cancelled from scheduled or open. A poll is open
 * to votes when its status is scheduled or open and now is within [opensAt, closesAt): the
 * scheduler's tick makes the status follow the clock, and a vote never waits for it.
 */
export const POLL_STATUSES = ["scheduled", "open", "closed", "cancelled"] as const;
export type PollStatus = (typeof POLL_STATUSES)[number];

export const polls = pgTable(
  "polls",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    municipalityId: integer("municipality_id")
      .notNull()
      .references(() => municipalities.id),
    question: jsonb("question").$type<PollText>().notNull(),
    /** 2–10 options; a ballot's choices are indexes into this array, which never changes. */
    options: jsonb("options").$type<PollText[]>().notNull(),
    /** 1: single choice; more: multiple choice with at most this many. */
    maxChoices: integer("max_choices").notNull().default(1),
    audience: text("audience", { enum: POLL_AUDIENCES }).notNull(),
    liveResults: boolean("live_results").notNull().default(false),
    status: text("status", { enum: POLL_STATUSES }).notNull(),
    opensAt: timestamp("opens_at", { withTimezone: true }).notNull(),
    closesAt: timestamp("closes_at", { withTimezone: true }).notNull(),
    createdByUserId: bigint("created_by_user_id", { mode: "number" }).references(() => users.id, {
      onDelete: "set null",
    }),
    openedAt: timestamp("opened_at", { withTimezone: true }),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
    /** The last warning about a burst of votes from new accounts (at most one an hour). */
    burstWarnedAt: timestamp("burst_warned_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("polls_municipality_idx").on(t.municipalityId, t.closesAt),
    index("polls_due_idx").on(t.status, t.opensAt, t.closesAt),
    check("polls_max_choices_ck", sql`${t.maxChoices} between 1 and 10`),
    check("polls_times_ck", sql`${t.closesAt} > ${t.opensAt}`),
  ],
);

export const pollVoters = pgTable(
  "poll_voters",
  {
    /**
     * No foreign key, on purpose: a vote inserts only for a poll its own statement just locked,
     * polls are never deleted, and a key's check would lock the poll's row twice more per vote.
     */
    pollId: bigint("poll_id", { mode: "number" }).notNull(),
    /** HMAC of "user:{id}" or "phone:{E.164}": settles one vote per person, also across instances. */
    voterKey: text("voter_key").notNull(),
    votedAt: timestamp("voted_at", { withTimezone: true }).notNull().defaultNow(),
    /** The account was created less than an hour before its first vote (burst warnings). */
    newAccount: boolean("new_account").notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.pollId, t.voterKey] }),
    // Only the burst warning reads it, and only new accounts' votes: others skip the index.
    index("poll_voters_new_idx").on(t.pollId, t.votedAt).where(sql`${t.newAccount}`),
  ],
);

export const pollBallots = pgTable(
  "poll_ballots",
  {
    /** No foreign key, as in poll_voters. */
    pollId: bigint("poll_id", { mode: "number" }).notNull(),
    /** HMAC of the poll id and the voter key. */
    token: text("token").notNull(),
    /** Indexes into polls.options, ascending, no repeats, 1..maxChoices of them. */
    choices: integer("choices").array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.pollId, t.token] })],
);

/** A municipality's resident list: keyed hashes of E.164 numbers. Importing again replaces it. */
export const pollResidents = pgTable(
  "poll_residents",
  {
    municipalityId: integer("municipality_id")
      .notNull()
      .references(() => municipalities.id),
    phoneHash: text("phone_hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.municipalityId, t.phoneHash] })],
);

/** When each municipality's list was imported, and how many numbers it holds. */
export const pollResidentLists = pgTable("poll_resident_lists", {
  municipalityId: integer("municipality_id")
    .primaryKey()
    .references(() => municipalities.id),
  numbers: integer("numbers").notNull(),
  importedAt: timestamp("imported_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A fingerprint of the ballot secret (an HMAC of a fixed label, not the secret): an instance
 * started with another secret would count someone's second vote as a first one, so it refuses
 * to start instead.
 */
export const ballotSecretCheck = pgTable("ballot_secret_check", {
  id: integer("id").primaryKey().default(1),
  fingerprint: text("fingerprint").notNull(),
});

export type PollRow = typeof polls.$inferSelect;
