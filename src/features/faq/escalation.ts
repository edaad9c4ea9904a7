/**
 * Questions the FAQ could not answer, passed to the lawyers. Channel-free: the bot, the CLI and
 * the scheduler's reminder job all go through these functions. What comes before (rate limit,
 * the question waiting for "send") is in intake.ts; reminders are in reminders.ts.
 *
 * - Every state change is a conditional UPDATE (of two lawyers or two app instances, one wins)
 *   and is audit-logged in the same transaction.
 * - Lawyer rights are checked here, against the database, not only by the handlers.
 * - Messages the person did not just ask for (the "new question" notice to the lawyers, the
 *   answer to the asker, reminders) go through the delivery engine, enqueued in the same
 *   transaction as the state change: a crash can lose neither the answer nor its delivery.
 */
import { and, asc, eq, gt, inArray, or, sql } from "drizzle-orm";
import { recordAudit } from "../../core/audit";
import type { Database, Executor, Transaction } from "../../db/client";
import { districts, municipalities, regions } from "../../db/schema/directory";
import { type FaqEscalationRow, faqEscalations, faqPendingQuestions } from "../../db/schema/faq";
import { roleGrants } from "../../db/schema/roles";
import { users } from "../../db/schema/users";
import {
  type Audience,
  createOutgoingMessage,
  enqueueUsers,
  type LocalizedText,
  type MessageContent,
  startMessage,
  wakeDelivery,
} from "../../delivery";
import { escapeHtml, translator } from "../../i18n";
import { isLocale, LOCALES, type Locale } from "../../locales";
import { placeLabel } from "../municipalities/service";
import { CB } from "./keyboards";

/** Every lawyer (role "lawyer", any municipality): who gets new questions and reminders. */
export const LAWYERS: Audience = { role: "lawyer", municipalityId: null };

/** Telegram's limit for a text message. */
export const MESSAGE_MAX = 4096;
const NOTICE_PREVIEW = 700;
const ANSWER_QUESTION_PREVIEW = 300;
/** How much of the question a WhatsApp template's parameter repeats. */
const ANSWER_TEMPLATE_QUESTION = 200;

/** The first `max` characters of `text` (with "…" when cut), HTML-escaped. */
export function previewHtml(text: string, max: number): string {
  return escapeHtml(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

export function perLocale(render: (t: ReturnType<typeof translator>, locale: Locale) => string) {
  const out: LocalizedText = {};
  for (const l of LOCALES) out[l] = render(translator(l), l);
  return out;
}

/** SQL: the user holds the lawyer role (or is an admin, who may do everything a lawyer does). */
export function holdsLawyerRole(userId: number | typeof faqEscalations.takenByUserId) {
  return sql`exists (select 1 from ${roleGrants} where ${roleGrants.userId} = ${userId}
    and ${roleGrants.role} in ('lawyer', 'admin'))`;
}

/** Whether the user may act as a lawyer now (checked in the database, not from a cache). */
export async function mayActAsLawyer(db: Database, userId: number): Promise<boolean> {
  const rows = await db
    .select({ one: sql<number>`1` })
    .from(roleGrants)
    .where(and(eq(roleGrants.userId, userId), inArray(roleGrants.role, ["lawyer", "admin"])))
    .limit(1);
  return rows.length > 0;
}

/**
 * Where each asker is from, per language ("Сокулук · Сокулук району"), for what the lawyers
 * see. Read through `q` (a transaction works too), so it is safe inside one.
 */
export async function askerPlaces(
  q: Executor,
  municipalityIds: readonly (number | null)[],
): Promise<Map<number, LocalizedText>> {
  const ids = [...new Set(municipalityIds.filter((id): id is number => id !== null))];
  const places = new Map<number, LocalizedText>();
  if (ids.length === 0) return places;
  const rows = await q
    .select({ m: municipalities, r: regions, d: districts })
    .from(municipalities)
    .innerJoin(regions, eq(regions.id, municipalities.regionId))
    .leftJoin(districts, eq(districts.id, municipalities.districtId))
    .where(inArray(municipalities.id, ids));
  for (const { m, r, d } of rows) {
    places.set(
      m.id,
      perLocale((_t, l) => placeLabel({ ...m, region: r, district: d }, l)),
    );
  }
  return places;
}

/** The asker's municipality as shown to a lawyer in `locale` (HTML-escaped). */
export function placeHtml(
  places: Map<number, LocalizedText>,
  municipalityId: number | null,
  locale: Locale,
): string {
  const place = municipalityId === null ? undefined : places.get(municipalityId)?.[locale];
  return place ? escapeHtml(place) : translator(locale)("faq.municipality_unknown");
}

// ---------------------------------------------------------------------------------------------
// Escalation

export interface EscalateInput {
  askerUserId: number;
  municipalityId: number | null;
  text: string;
  lang: Locale;
  /** What the search returned (ids, confidence), for the lawyer's context. */
  searchSnapshot: Record<string, unknown>;
}

/**
 * The "new question" notice: every lawyer, in their language, with where the asker is from and a
 * button to take it.
 */
export function newQuestionContent(
  row: Pick<FaqEscalationRow, "id" | "text" | "municipalityId">,
  places: Map<number, LocalizedText>,
): MessageContent {
  const text = previewHtml(row.text, NOTICE_PREVIEW);
  return {
    text: perLocale((t, l) =>
      t("faq.new_question", {
        id: row.id,
        text,
        municipality: placeHtml(places, row.municipalityId, l),
      }),
    ),
    parseMode: "HTML",
    buttons: [
      [
        {
          text: perLocale((t) => t("faq.take_button", { id: row.id })),
          callbackData: CB.take.pack({ questionId: row.id }),
        },
      ],
    ],
  };
}

async function escalateIn(tx: Transaction, input: EscalateInput): Promise<FaqEscalationRow> {
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
  const message = await createOutgoingMessage(tx, {
    kind: "faq_escalation",
    municipalityId: input.municipalityId,
    createdByUserId: input.askerUserId,
    content: newQuestionContent(row!, await askerPlaces(tx, [row!.municipalityId])),
    audience: LAWYERS,
    dedupeKey: `faq:question:${row!.id}:new`,
  });
  await startMessage(tx, message.id);
  await recordAudit(tx, {
    actorUserId: input.askerUserId,
    actorLabel: "asker",
    action: "faq.escalate",
    municipalityId: input.municipalityId,
    details: { questionId: row!.id, messageId: message.id },
  });
  return row!;
}

/** Stores an open question, notifies the lawyers (delivery engine) and audit-logs it. */
export async function escalate(db: Database, input: EscalateInput): Promise<FaqEscalationRow> {
  const row = await db.transaction((tx) => escalateIn(tx, input));
  wakeDelivery();
  return row;
}

/**
 * Escalates the pending question `pendingId` of `askerUserId`: consumes it with one conditional
 * DELETE (so two presses, on any instances, escalate it once; another person's id or an expired
 * one does nothing) and escalates it in the same transaction. Undefined when there is nothing
 * (any more) to send.
 */
export async function escalatePending(
  db: Database,
  input: { pendingId: number; askerUserId: number; municipalityId: number | null },
  now: Date = new Date(),
): Promise<FaqEscalationRow | undefined> {
  const row = await db.transaction(async (tx) => {
    const [pending] = await tx
      .delete(faqPendingQuestions)
      .where(
        and(
          eq(faqPendingQuestions.id, input.pendingId),
          eq(faqPendingQuestions.userId, input.askerUserId),
          gt(faqPendingQuestions.expiresAt, now),
        ),
      )
      .returning();
    if (!pending) return undefined;
    return escalateIn(tx, {
      askerUserId: input.askerUserId,
      municipalityId: input.municipalityId,
      text: pending.text,
      lang: pending.lang,
      searchSnapshot: pending.searchSnapshot,
    });
  });
  if (row) wakeDelivery();
  return row;
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
 * Only a current lawyer (or admin) can. Returns the question, or undefined when it is not
 * available to this person.
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
          holdsLawyerRole(lawyerUserId),
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
 * The answer as the asker receives it: in their language (or, when they never chose one, the
 * question's), HTML with the question in italics; plain text in the rare case where escaping
 * would push it over Telegram's limit.
 */
export function answerContent(
  row: Pick<FaqEscalationRow, "text" | "lang">,
  answerText: string,
  askerLocale: string | null,
): MessageContent {
  const locales: Locale[] = isLocale(askerLocale) ? [askerLocale] : [row.lang];
  const question = row.text;
  // WhatsApp templates (outside the 24-hour window) name the question and carry the answer.
  const templateParams = answerTemplateParams(locales, question, answerText);
  const html: LocalizedText = {};
  for (const l of locales) {
    html[l] = translator(l)("faq.answer_for_you", {
      question: previewHtml(question, ANSWER_QUESTION_PREVIEW),
      answer: escapeHtml(answerText),
    });
  }
  if (Object.values(html).every((t) => t.length <= MESSAGE_MAX)) {
    return { text: html, parseMode: "HTML", ...templateParams };
  }
  const plain: LocalizedText = {};
  const shortQuestion =
    question.length > ANSWER_QUESTION_PREVIEW
      ? `${question.slice(0, ANSWER_QUESTION_PREVIEW - 1)}…`
      : question;
  for (const l of locales) {
    plain[l] = translator(l)("faq.answer_for_you", { question: "\u0000Q", answer: "\u0000A" })
      .replace(/<\/?[a-z]+>/g, "")
      .replace("\u0000Q", () => shortQuestion)
      .replace("\u0000A", () => answerText)
      .slice(0, MESSAGE_MAX);
  }
  return { text: plain, ...templateParams };
}

/** The question, cut to ANSWER_TEMPLATE_QUESTION, and the answer, in plain text. */
function answerTemplateParams(
  locales: Locale[],
  question: string,
  answerText: string,
): Pick<MessageContent, "templateParams"> {
  const asked = question.trim();
  // Not ending on half a surrogate pair (an emoji): jsonb refuses a lone one.
  let end = ANSWER_TEMPLATE_QUESTION - 1;
  if (/[\uD800-\uDBFF]/.test(asked.charAt(end - 1))) end--;
  const params: Record<string, string> = {
    question: asked.length > ANSWER_TEMPLATE_QUESTION ? `${asked.slice(0, end).trimEnd()}…` : asked,
    answer: answerText.trim(),
  };
  const templateParams: Record<string, LocalizedText> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value) templateParams[name] = Object.fromEntries(locales.map((l) => [l, value]));
  }
  return Object.keys(templateParams).length > 0 ? { templateParams } : {};
}

export interface AnswerResult {
  question: FaqEscalationRow;
  /** The outgoing message carrying the answer to the asker. */
  messageId: number;
  /** False when the asker cannot be reached any more (blocked the bot, deleted). */
  queued: boolean;
}

/**
 * Records the answer of the lawyer who holds the question (taken by them → answered) and, in the
 * same transaction, enqueues it for the asker on the delivery engine. Undefined when the
 * question is not theirs to answer (or they are no longer a lawyer).
 */
export async function answer(
  db: Database,
  questionId: number,
  lawyerUserId: number,
  text: string,
): Promise<AnswerResult | undefined> {
  const result = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(faqEscalations)
      .set({ status: "answered", answerText: text, answeredAt: new Date(), updatedAt: new Date() })
      .where(
        and(
          eq(faqEscalations.id, questionId),
          eq(faqEscalations.status, "taken"),
          eq(faqEscalations.takenByUserId, lawyerUserId),
          holdsLawyerRole(lawyerUserId),
        ),
      )
      .returning();
    // A question whose asker deleted their data (/forgetme) was deleted with it: never here.
    if (!row || row.askerUserId === null) return undefined;
    const askerUserId = row.askerUserId;
    const [asker] = await tx
      .select({ locale: users.locale })
      .from(users)
      .where(eq(users.id, askerUserId));
    const message = await createOutgoingMessage(tx, {
      kind: "faq_answer",
      municipalityId: row.municipalityId,
      createdByUserId: lawyerUserId,
      content: answerContent(row, text, asker?.locale ?? null),
      dedupeKey: `faq:question:${row.id}:answer`,
    });
    const queued = (await enqueueUsers(tx, message.id, [askerUserId])) > 0;
    await startMessage(tx, message.id);
    await recordAudit(tx, {
      actorUserId: lawyerUserId,
      actorLabel: "lawyer",
      action: "faq.question.answer",
      municipalityId: row.municipalityId,
      details: { questionId, messageId: message.id, queued },
    });
    return { question: row, messageId: message.id, queued };
  });
  if (result) wakeDelivery();
  return result;
}
