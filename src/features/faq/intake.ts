/**
 * What happens to a question before it reaches the lawyers: the per-user rate limit, and the
 * unanswered question kept until its asker presses "send to the lawyers". Both live in the
 * database, so every app instance shares them and a restart resets neither.
 */
import { lte, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { preparedStatement } from "../../db/prepared";
import { faqPendingQuestions, faqQuestionRate } from "../../db/schema/faq";
import type { Locale } from "../../locales";

/** Questions per user per window; counted in the database, so shared by every instance. */
export const QUESTION_RATE = { max: 10, windowMs: 60_000 } as const;
/** How long the "send to the lawyers" button stays valid after the question. */
export const PENDING_TTL_MS = 60 * 60_000;

/**
 * Counts one question of `userId` and says whether it is within the limit: a fixed window per
 * user in `faq_question_rate`, advanced by one atomic upsert, so every app instance shares it
 * and a restart does not reset it. Attempts over the limit are counted too (they do not extend
 * the window).
 */
export async function allowQuestion(
  db: Database,
  userId: number,
  now: Date = new Date(),
  rate: { max: number; windowMs: number } = QUESTION_RATE,
): Promise<boolean> {
  const cutoff = new Date(now.getTime() - rate.windowMs).toISOString();
  const [row] = await countQuestion(db).execute({ userId, at: now.toISOString(), cutoff });
  return (row?.count ?? 1) <= rate.max;
}

// Runs for every question asked: built once (see db/prepared.ts).
const countQuestion = preparedStatement((db) => {
  const at = sql`${sql.placeholder("at")}::timestamptz`;
  const expired = sql`${faqQuestionRate.windowStartedAt} <= ${sql.placeholder("cutoff")}::timestamptz`;
  return db
    .insert(faqQuestionRate)
    .values({ userId: sql.placeholder("userId"), windowStartedAt: at, count: 1 })
    .onConflictDoUpdate({
      target: faqQuestionRate.userId,
      set: {
        windowStartedAt: sql`case when ${expired} then ${at} else ${faqQuestionRate.windowStartedAt} end`,
        count: sql`case when ${expired} then 1 else ${faqQuestionRate.count} + 1 end`,
      },
    })
    .returning({ count: faqQuestionRate.count })
    .prepare("faq_question_count");
});

export interface PendingInput {
  userId: number;
  text: string;
  lang: Locale;
  /** What the search returned (ids, confidence), for the lawyer's context. */
  searchSnapshot: Record<string, unknown>;
}

/** Stores an unanswered question until its asker presses "send"; returns its id (for the button). */
export async function savePending(
  db: Database,
  input: PendingInput,
  now: Date = new Date(),
): Promise<number> {
  const [row] = await db
    .insert(faqPendingQuestions)
    .values({
      userId: input.userId,
      text: input.text,
      lang: input.lang,
      searchSnapshot: input.searchSnapshot,
      createdAt: now,
      expiresAt: new Date(now.getTime() + PENDING_TTL_MS),
    })
    .returning({ id: faqPendingQuestions.id });
  return row!.id;
}

/** Deletes pending questions past their time (the scheduler calls it). */
export async function purgeExpiredPending(db: Database, now: Date = new Date()): Promise<number> {
  const rows = await db
    .delete(faqPendingQuestions)
    .where(lte(faqPendingQuestions.expiresAt, now))
    .returning({ id: faqPendingQuestions.id });
  return rows.length;
}
