import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * Telegram updates taken in through the webhook, by update_id. Telegram delivers an update again
 * after a 5xx or a timeout, possibly to another instance behind the load balancer: the row is
 * claimed before the update is handled, so it is handled once. A failed handling deletes its
 * claim (the redelivery then handles it); a claim whose lease passed belonged to an instance that
 * died meanwhile. Pruned after two days (Telegram keeps an update for 24 hours).
 */
export const telegramUpdates = pgTable(
  "telegram_updates",
  {
    updateId: bigint("update_id", { mode: "number" }).primaryKey(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    /** While an instance handles the update. */
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    processedAt: timestamp("processed_at", { withTimezone: true }),
  },
  (t) => [index("telegram_updates_received_idx").on(t.receivedAt)],
);

/**
 * Fixed-window request counters shared by every app instance (web chat sends per session and per
 * address, session creation per address): one atomic upsert per request. `key` names what is
 * counted ("webchat:send:user:42", "webchat:session:ip:…"); rows of past windows are pruned by
 * the retention job.
 */
export const rateLimits = pgTable(
  "rate_limits",
  {
    key: text("key").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    hits: integer("hits").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.key, t.windowStart] }),
    index("rate_limits_window_idx").on(t.windowStart),
  ],
);

/**
 * Open web chat event streams, on whichever instance holds them. A reply produced on instance B
 * for a page connected to instance A is relayed through NOTIFY; this table tells every instance
 * whether a person has a page open anywhere (reachable, read) and caps streams per session.
 * Each instance refreshes `seen_at` of its streams while they are open; a row not refreshed for
 * a while belonged to an instance that died and counts as closed.
 */
export const webchatStreams = pgTable(
  "webchat_streams",
  {
    id: text("id").primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    instanceId: text("instance_id").notNull(),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
    seenAt: timestamp("seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("webchat_streams_user_idx").on(t.userId),
    index("webchat_streams_seen_idx").on(t.seenAt),
    index("webchat_streams_instance_idx").on(t.instanceId),
  ],
);

/**
 * One row per run of a periodic job (retention, reminders, …) and its scheduled time: every
 * instance's scheduler fires the job, and only the one whose insert wins runs it, so a job fires
 * once however many instances run. Pruned by the retention job.
 */
export const scheduledJobRuns = pgTable(
  "scheduled_job_runs",
  {
    job: text("job").notNull(),
    /** The tick the run belongs to (the cron time, rounded down to the job's period). */
    slot: timestamp("slot", { withTimezone: true }).notNull(),
    instanceId: text("instance_id").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.job, t.slot] }),
    index("scheduled_job_runs_slot_idx").on(t.slot),
  ],
);
