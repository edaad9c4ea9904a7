/**
 * What the FAQ keeps about a person: questions sent to the lawyers (and their answers), ratings
 * of answers, a question waiting for "send", the rate-limit counter; for a lawyer, the questions
 * they hold. /forgetme: ratings stay without the person; answered questions stay as a count,
 * with neither question nor answer; open ones go (nobody is left to answer); the notices,
 * answers and reminders quoting them lose their text.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { PersonalDataHolder } from "../../bot/feature";
import { redactTranscripts } from "../../channels/transcripts";
import { type Executor, rowsOf } from "../../db/client";
import {
  faqEntries,
  faqEscalations,
  faqFeedback,
  faqPendingQuestions,
  faqQuestionRate,
} from "../../db/schema/faq";
import { redactMessages } from "../../delivery";
import { escapeHtml, formatDate } from "../../i18n";
import { perLocale } from "./escalation";
import { forgetUnanswered } from "./gaps";

/** At most this many questions are listed in the summary (all of them are in the file). */
const LISTED = 5;
const PREVIEW = 200;

const preview = (text: string) =>
  escapeHtml(text.length > PREVIEW ? `${text.slice(0, PREVIEW - 1)}…` : text);

export const faqPersonalData: PersonalDataHolder = {
  async collect(deps, person, t, locale) {
    const { db } = deps;
    const asked = await db
      .select()
      .from(faqEscalations)
      .where(eq(faqEscalations.askerUserId, person.id))
      .orderBy(faqEscalations.createdAt);
    const ratings = await db
      .select({
        entryId: faqFeedback.entryId,
        helpful: faqFeedback.helpful,
        at: faqFeedback.updatedAt,
        questionKy: faqEntries.questionKy,
        questionRu: faqEntries.questionRu,
        questionEn: faqEntries.questionEn,
      })
      .from(faqFeedback)
      .innerJoin(faqEntries, eq(faqEntries.id, faqFeedback.entryId))
      .where(eq(faqFeedback.userId, person.id))
      .orderBy(faqFeedback.updatedAt);
    const waiting = await db
      .select()
      .from(faqPendingQuestions)
      .where(eq(faqPendingQuestions.userId, person.id));
    const held = await db
      .select({ id: faqEscalations.id, status: faqEscalations.status })
      .from(faqEscalations)
      .where(eq(faqEscalations.takenByUserId, person.id));

    const tz = deps.config.timezone;
    const lines: string[] = [];
    if (asked.length > 0) {
      lines.push(t("privacy.faq.asked", { count: asked.length }));
      for (const q of asked.slice(-LISTED)) {
        lines.push(
          t("privacy.faq.asked_item", {
            id: q.id,
            date: formatDate(q.createdAt, locale, tz),
            status: t(`privacy.faq.status_${q.status}`),
            text: preview(q.text),
          }),
        );
        if (q.answerText) lines.push(t("privacy.faq.answer_item", { text: preview(q.answerText) }));
      }
    }
    if (waiting.length > 0) lines.push(t("privacy.faq.waiting", { count: waiting.length }));
    if (ratings.length > 0) {
      const helpful = ratings.filter((r) => r.helpful).length;
      lines.push(
        t("privacy.faq.ratings", {
          count: ratings.length,
          helpful,
          unhelpful: ratings.length - helpful,
        }),
      );
    }
    if (held.length > 0) lines.push(t("privacy.faq.held", { count: held.length }));
    return [
      {
        key: "faq",
        lines,
        data: {
          questionsToLawyers: asked.map((q) => ({
            number: q.id,
            askedAt: q.createdAt.toISOString(),
            language: q.lang,
            text: q.text,
            status: q.status,
            answer: q.answerText,
            answeredAt: q.answeredAt?.toISOString() ?? null,
          })),
          questionWaitingToBeSent: waiting.map((w) => ({
            text: w.text,
            askedAt: w.createdAt.toISOString(),
          })),
          ratingsOfAnswers: ratings.map((r) => ({
            entry: r.entryId,
            question: r.questionKy ?? r.questionRu ?? r.questionEn,
            helpful: r.helpful,
            at: r.at.toISOString(),
          })),
          questionsHeldAsLawyer: held.map((h) => ({ number: h.id, status: h.status })),
        },
      },
    ];
  },

  async forget(tx, person) {
    const asked = await tx
      .select({ id: faqEscalations.id, text: faqEscalations.text })
      .from(faqEscalations)
      .where(eq(faqEscalations.askerUserId, person.id));
    const pending = await tx
      .select({ text: faqPendingQuestions.text })
      .from(faqPendingQuestions)
      .where(eq(faqPendingQuestions.userId, person.id));
    const texts = [...asked.map((q) => q.text), ...pending.map((p) => p.text)];
    // Kept without the person, but those still traceable to them go (before their records do).
    const unanswered = await forgetUnanswered(tx, person, texts);
    const messages = await messagesQuoting(
      tx,
      asked.map((q) => q.id),
    );
    const notice = perLocale((t) => t("privacy.removed_message"));
    const redacted = await redactMessages(tx, messages, { text: notice });
    const transcripts = await redactTranscripts(tx, texts, notice.en ?? "");

    const removed = await tx
      .delete(faqEscalations)
      .where(
        and(
          eq(faqEscalations.askerUserId, person.id),
          inArray(faqEscalations.status, ["open", "taken"]),
        ),
      )
      .returning({ id: faqEscalations.id });
    const anonymised = await tx
      .update(faqEscalations)
      .set({
        askerUserId: null,
        text: "",
        answerText: null,
        searchSnapshot: {},
        updatedAt: new Date(),
      })
      .where(eq(faqEscalations.askerUserId, person.id))
      .returning({ id: faqEscalations.id });
    // A lawyer's held questions go back to the queue; answered ones keep the answer, not them.
    const released = await tx
      .update(faqEscalations)
      .set({
        takenByUserId: null,
        status: sql`case when ${faqEscalations.status} = 'taken' then 'open'
          else ${faqEscalations.status} end`,
        updatedAt: new Date(),
      })
      .where(eq(faqEscalations.takenByUserId, person.id))
      .returning({ id: faqEscalations.id });
    const ratings = await tx
      .update(faqFeedback)
      .set({ userId: null })
      .where(eq(faqFeedback.userId, person.id))
      .returning({ id: faqFeedback.id });
    const waiting = await tx
      .delete(faqPendingQuestions)
      .where(eq(faqPendingQuestions.userId, person.id))
      .returning({ id: faqPendingQuestions.id });
    const rate = await tx
      .delete(faqQuestionRate)
      .where(eq(faqQuestionRate.userId, person.id))
      .returning({ userId: faqQuestionRate.userId });
    return {
      faq_escalations: removed.length + anonymised.length + released.length,
      faq_feedback: ratings.length,
      faq_pending_questions: waiting.length,
      faq_question_rate: rate.length,
      faq_unanswered: unanswered,
      outgoing_messages_redacted: redacted,
      webchat_messages_redacted: transcripts.webchat_messages,
      whatsapp_messages_redacted: transcripts.whatsapp_messages,
    };
  },
};

/**
 * The messages that quote these questions: the notice to the lawyers and the answer (by their
 * keys), and the reminders that listed them (the audit log names each reminder's message).
 */
async function messagesQuoting(tx: Executor, questionIds: readonly number[]): Promise<number[]> {
  if (questionIds.length === 0) return [];
  const ids = `{${questionIds.join(",")}}`;
  const keys = questionIds.flatMap((id) => [`faq:question:${id}:new`, `faq:question:${id}:answer`]);
  const rows = rowsOf<{ id: number }>(
    await tx.execute(sql`
      select id from outgoing_messages where dedupe_key in (${sql.join(
        keys.map((k) => sql`${k}`),
        sql`, `,
      )})
      union
      select (details->>'messageId')::bigint from audit_log
      where action like 'faq.%' and jsonb_typeof(details->'messageId') = 'number'
        and jsonb_typeof(details->'questionId') = 'number'
        and (details->>'questionId')::bigint = any(${ids}::bigint[])`),
  );
  return rows.map((r) => Number(r.id));
}
