import { sql } from "drizzle-orm";
import { FLOW_TTL_MS } from "../bot/flows";
import { INBOX_KEEP_DAYS } from "../channels/whatsapp/inbound";
import { type Database, rowsOf } from "../db/client";
import { purgeDeliveries } from "../delivery/transitions";

export const RETENTION_JOB = "retention";

const DAY_MS = 86_400_000;
/** Invite codes are kept this long after they expired or were used (the audit log keeps the grant). */
export const INVITE_KEEP_DAYS = 30;
/** The per-person FAQ rate counter covers minutes; a day-old one counts nothing. */
const RATE_KEEP_MS = DAY_MS;
/** A web chat visitor who never finished onboarding and left is forgotten after this long. */
export const ABANDONED_WEB_DAYS = 30;
/** Request counters (rate_limits) live for a window of at most minutes; a day-old one is done. */
const RATE_LIMIT_KEEP_MS = DAY_MS;
/** Telegram keeps an undelivered update for 24 hours: a redelivery never comes later than that. */
export const TELEGRAM_UPDATE_KEEP_MS = 2 * DAY_MS;
/**
 * A web chat stream row is refreshed at every keep-alive (seconds); one an hour old belonged to
 * an instance that died without closing it.
 */
export const STREAM_KEEP_MS = 60 * 60_000;
/** The record that a periodic job ran in a slot only matters while other instances might fire it. */
export const JOB_RUN_KEEP_MS = 7 * DAY_MS;
/**
 * Questions the FAQ could not answer (text, language, municipality; nobody's id) feed the
 * lawyers' /gaps: a year shows what people keep asking across the seasons.
 */
export const UNANSWERED_KEEP_DAYS = 365;
/** Messages whose words are a person's (a question, its answer, a reminder quoting it). */
const QUOTING_KINDS = ["faq_escalation", "faq_answer", "faq_reminder"] as const;

export type RetentionResult = Record<
  | "deliveries"
  | "webchatMessages"
  | "whatsappMessages"
  | "quotingMessages"
  | "pendingQuestions"
  | "unansweredQuestions"
  | "questionRate"
  | "invites"
  | "flows"
  | "whatsappInbox"
  | "abandonedVisitors"
  | "rateLimits"
  | "telegramUpdates"
  | "webchatStreams"
  | "jobRuns",
  number
>;

/**
 * The daily job that keeps nothing personal longer than its documented lifetime (README,
 * "Personal data"; /privacy says the same):
 * - after RETENTION_DAYS (`days`): delivery rows of messages that ended (each message keeps its
 *   totals, so reports still show its counts), web chat messages, the bot's WhatsApp messages
 *   (kept only so their buttons and edits work), and the words of messages that quoted a person
 *   (a question sent to the lawyers, its answer, reminders);
 * - invite codes INVITE_KEEP_DAYS after they expired or were used;
 * - questions the FAQ could not answer (kept without the person) after UNANSWERED_KEEP_DAYS;
 * - web chat visitors who never gave consent (never finished onboarding), hold no role and have
 *   not written for ABANDONED_WEB_DAYS: their row and transcript (a page opened once);
 * - flows nobody answered for FLOW_TTL_MS, questions waiting for "send" past their hour, FAQ
 *   rate counters, seen WhatsApp message ids after INBOX_KEEP_DAYS: these have their own
 *   frequent jobs too; this is the backstop when those did not run;
 * - the bookkeeping of several instances: request counters of past windows (a day), Telegram
 *   update ids (two days: Telegram redelivers within one), web chat streams not refreshed for an
 *   hour (their instance died), and the runs of periodic jobs after a week.
 * Safe on any number of instances at once (plain conditional deletes).
 */
export async function runRetention(
  db: Database,
  days: number,
  now: Date = new Date(),
): Promise<RetentionResult> {
  const at = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const cutoff = at(days * DAY_MS);
  const n = async (query: ReturnType<typeof sql>) =>
    Number(
      rowsOf<{ n: number }>(
        await db.execute(
          sql`with gone as (${query} returning 1) select count(*)::int as n from gone`,
        ),
      )[0]?.n ?? 0,
    );
  const kinds = sql.join(
    QUOTING_KINDS.map((k) => sql`${k}`),
    sql`, `,
  );
  return {
    deliveries: await purgeDeliveries(db, new Date(cutoff)),
    webchatMessages: await n(
      sql`delete from webchat_messages where created_at < ${cutoff}::timestamptz`,
    ),
    whatsappMessages: await n(
      sql`delete from whatsapp_messages where updated_at < ${cutoff}::timestamptz`,
    ),
    quotingMessages: await n(sql`update outgoing_messages set content = '{"text": {}}'::jsonb,
        updated_at = now()
      where kind in (${kinds}) and status in ('done', 'cancelled')
        and coalesce(finished_at, cancelled_at) < ${cutoff}::timestamptz
        and content <> '{"text": {}}'::jsonb`),
    pendingQuestions: await n(
      sql`delete from faq_pending_questions where expires_at <= ${now.toISOString()}::timestamptz`,
    ),
    unansweredQuestions: await n(
      sql`delete from faq_unanswered where created_at < ${at(UNANSWERED_KEEP_DAYS * DAY_MS)}::timestamptz`,
    ),
    questionRate: await n(
      sql`delete from faq_question_rate where window_started_at < ${at(RATE_KEEP_MS)}::timestamptz`,
    ),
    invites: await n(sql`delete from invites
      where coalesce(used_at, expires_at) < ${at(INVITE_KEEP_DAYS * DAY_MS)}::timestamptz`),
    flows: await n(
      sql`delete from conversation_state where updated_at < ${at(FLOW_TTL_MS)}::timestamptz`,
    ),
    whatsappInbox: await n(
      sql`delete from whatsapp_inbox where received_at < ${at(INBOX_KEEP_DAYS * DAY_MS)}::timestamptz`,
    ),
    abandonedVisitors: await n(sql`delete from users u
      where u.channel = 'web' and u.consent_at is null
        and u.created_at < ${at(ABANDONED_WEB_DAYS * DAY_MS)}::timestamptz
        and not exists (select 1 from role_grants g where g.user_id = u.id)
        and not exists (select 1 from webchat_messages w where w.user_id = u.id
          and w.created_at >= ${at(ABANDONED_WEB_DAYS * DAY_MS)}::timestamptz)`),
    rateLimits: await n(
      sql`delete from rate_limits where window_start < ${at(RATE_LIMIT_KEEP_MS)}::timestamptz`,
    ),
    telegramUpdates: await n(
      sql`delete from telegram_updates where received_at < ${at(TELEGRAM_UPDATE_KEEP_MS)}::timestamptz`,
    ),
    webchatStreams: await n(
      sql`delete from webchat_streams where seen_at < ${at(STREAM_KEEP_MS)}::timestamptz`,
    ),
    jobRuns: await n(
      sql`delete from scheduled_job_runs where slot < ${at(JOB_RUN_KEEP_MS)}::timestamptz`,
    ),
  };
}
