/**
 * What hearings keep about a person: their going / not going answers and the questions they
 * sent in advance. /forgetme: the answers stay in the counts without the person; the questions
 * stay as a number (a hearing's "3 questions"), without their words.
 */
import { asc, eq } from "drizzle-orm";
import type { PersonalDataHolder } from "../../bot/feature";
import { escapeHtml, formatDate } from "../../i18n";
import { titleOf } from "./cards";
import { hearingQuestions, hearingRsvps, hearings } from "./schema";

const LISTED = 5;

export const hearingsPersonalData: PersonalDataHolder = {
  async collect(deps, person, t, locale) {
    const { db } = deps;
    const rsvps = await db
      .select({
        hearingId: hearings.id,
        title: hearings.title,
        startsAt: hearings.startsAt,
        answer: hearingRsvps.answer,
        at: hearingRsvps.updatedAt,
      })
      .from(hearingRsvps)
      .innerJoin(hearings, eq(hearings.id, hearingRsvps.hearingId))
      .where(eq(hearingRsvps.userId, person.id))
      .orderBy(asc(hearings.startsAt));
    const questions = await db
      .select({
        hearingId: hearings.id,
        title: hearings.title,
        text: hearingQuestions.text,
        at: hearingQuestions.createdAt,
      })
      .from(hearingQuestions)
      .innerJoin(hearings, eq(hearings.id, hearingQuestions.hearingId))
      .where(eq(hearingQuestions.userId, person.id))
      .orderBy(asc(hearingQuestions.createdAt));
    const tz = deps.config.timezone;
    const lines: string[] = [];
    if (rsvps.length > 0) {
      lines.push(t("privacy.hearings.rsvps", { count: rsvps.length }));
      for (const r of rsvps.slice(-LISTED)) {
        lines.push(
          t("privacy.hearings.rsvp_item", {
            title: escapeHtml(titleOf({ id: r.hearingId, title: r.title }, locale)),
            date: formatDate(r.startsAt, locale, tz),
            answer: t(`privacy.hearings.answer_${r.answer}`),
          }),
        );
      }
    }
    if (questions.length > 0) {
      lines.push(t("privacy.hearings.questions", { count: questions.length }));
      for (const q of questions.slice(-LISTED)) {
        lines.push(
          t("privacy.hearings.question_item", {
            title: escapeHtml(titleOf({ id: q.hearingId, title: q.title }, locale)),
            text: escapeHtml(q.text.length > 200 ? `${q.text.slice(0, 199)}…` : q.text),
          }),
        );
      }
    }
    return [
      {
        key: "hearings",
        lines,
        data: {
          answers: rsvps.map((r) => ({
            hearing: r.hearingId,
            title: r.title,
            startsAt: r.startsAt.toISOString(),
            answer: r.answer,
            answeredAt: r.at.toISOString(),
          })),
          questions: questions.map((q) => ({
            hearing: q.hearingId,
            title: q.title,
            text: q.text,
            sentAt: q.at.toISOString(),
          })),
        },
      },
    ];
  },

  async forget(tx, person) {
    const answers = await tx
      .update(hearingRsvps)
      .set({ userId: null })
      .where(eq(hearingRsvps.userId, person.id))
      .returning({ id: hearingRsvps.id });
    const questions = await tx
      .update(hearingQuestions)
      .set({ userId: null, text: "" })
      .where(eq(hearingQuestions.userId, person.id))
      .returning({ id: hearingQuestions.id });
    const authored = await tx
      .update(hearings)
      .set({ createdByUserId: null })
      .where(eq(hearings.createdByUserId, person.id))
      .returning({ id: hearings.id });
    return {
      hearing_rsvps: answers.length,
      hearing_questions: questions.length,
      hearings: authored.length,
    };
  },
};
