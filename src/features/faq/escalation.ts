/**
 * Questions the FAQ could not answer, passed to the lawyers. Channel-free: the bot, the CLI and
 * a future reminder job all go through these functions. Every state change is audit-logged.
 */
import { and, asc, eq, or } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type FaqEscalationRow, type FaqLang, faqEscalations } from "../../db/schema/faq";
import { recordAudit } from "../audit/service";

export interface EscalateInput {
  askerUserId: number;
  municipalityId: number | null;
  text: string;
  lang: FaqLang;
  /** What the search returned (ids, confidence), for the lawyer's context. */
  searchSnapshot: Record<string, unknown>;
}

/** Stores an open question and audit-logs it. */
export async function escalate(db: Database, input: EscalateInput): Promise<FaqEscalationRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(faqEscalations)
      .values({
        askerUserId: input.askerUserId,
        municipalityId: input.municipalityId,
        text: input.text,
        lang: input.lang,
        searchSnapshot: input.searchSnapshot,
      })
      .returning();
    await recordAudit(tx, {
      actorUserId: input.askerUserId,
      actorLabel: "asker",
      action: "faq.escalate",
      municipalityId: input.municipalityId,
      details: { questionId: row!.id },
    });
    return row!;
  });
}

/** Open questions, oldest first. */
export async function listOpen(db: Database, limit = 20): Promise<FaqEscalationRow[]> {
  return db
    .select()
    .from(faqEscalations)
    .where(eq(faqEscalations.status, "open"))
    .orderBy(asc(faqEscalations.createdAt), asc(faqEscalations.id))
    .limit(limit);
}

export async function getEscalation(
  db: Database,
  questionId: number,
): Promise<FaqEscalationRow | undefined> {
  const [row] = await db.select().from(faqEscalations).where(eq(faqEscalations.id, questionId));
  return row;
}

/**
 * A lawyer takes an open question (conditional update: of two lawyers pressing at once, one
 * wins). The same lawyer may take a question they already hold again, to resume answering.
 * Returns the question, or undefined when it is no longer available to this lawyer.
 */
export async function take(
  db: Database,
  questionId: number,
  lawyerUserId: number,
): Promise<FaqEscalationRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(faqEscalations)
      .set({
        status: "taken",
        takenByUserId: lawyerUserId,
        takenAt: new Date(),
        updatedAt: new Date(),
      })
      .where(
        and(
          eq(faqEscalations.id, questionId),
          or(
            eq(faqEscalations.status, "open"),
            and(eq(faqEscalations.status, "taken"), eq(faqEscalations.takenByUserId, lawyerUserId)),
          ),
        ),
      )
      .returning();
    if (!row) return undefined;
    await recordAudit(tx, {
      actorUserId: lawyerUserId,
      actorLabel: "lawyer",
      action: "faq.question.take",
      municipalityId: row.municipalityId,
      details: { questionId },
    });
    return row;
  });
}

/**
 * Records the answer of the lawyer who holds the question (taken by them → answered).
 * Returns the answered question, or undefined when it is not theirs to answer.
 */
export async function answer(
  db: Database,
  questionId: number,
  lawyerUserId: number,
  text: string,
): Promise<FaqEscalationRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(faqEscalations)
      .set({ status: "answered", answerText: text, answeredAt: new Date(), updatedAt: new Date() })
      .where(
        and(
          eq(faqEscalations.id, questionId),
          eq(faqEscalations.status, "taken"),
          eq(faqEscalations.takenByUserId, lawyerUserId),
        ),
      )
      .returning();
    if (!row) return undefined;
    await recordAudit(tx, {
      actorUserId: lawyerUserId,
      actorLabel: "lawyer",
      action: "faq.question.answer",
      municipalityId: row.municipalityId,
      details: { questionId },
    });
    return row;
  });
}
