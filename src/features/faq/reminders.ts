/**
 * Reminders to the lawyers about questions nobody has answered (FAQ_REMIND_AFTER_HOURS), run by
 * the scheduler's job in src/features/faq/jobs.ts.
 */
import { and, eq, inArray, or, sql } from "drizzle-orm";
import { recordAudit } from "../../core/audit";
import type { Database } from "../../db/client";
import { type FaqEscalationRow, faqEscalations } from "../../db/schema/faq";
import {
  createOutgoingMessage,
  enqueueUsers,
  type LocalizedText,
  type MessageButton,
  type MessageContent,
  startMessage,
  wakeDelivery,
} from "../../delivery";
import { formatDateTime, translator } from "../../i18n";
import { LOCALES } from "../../locales";
import {
  askerPlaces,
  holdsLawyerRole,
  LAWYERS,
  MESSAGE_MAX,
  perLocale,
  placeHtml,
  previewHtml,
} from "./escalation";
import { CB } from "./keyboards";

const REMINDER_PREVIEW = 150;
/** Questions listed (with a button each) in one reminder; the rest are counted. */
const REMINDER_LIST_MAX = 10;

export interface RemindOptions {
  /** FAQ_REMIND_AFTER_HOURS: remind after this long without an answer, and again as often. */
  afterHours: number;
  /** TIMEZONE, for the dates in the reminder. */
  timezone: string;
  /** The clock (tests); default now. */
  now?: Date;
}

export interface RemindResult {
  /** Taken questions given back to the queue: their holder is no longer a lawyer. */
  released: number[];
  /** Open questions every lawyer was reminded of. */
  open: number[];
  /** Taken questions whose holder was reminded. */
  taken: number[];
  /** Outgoing messages created (one for all lawyers, one per holder). */
  messages: number[];
}

function reminderContent(
  questions: FaqEscalationRow[],
  kind: "open" | "taken",
  hours: number,
  timezone: string,
  places: Map<number, LocalizedText>,
): MessageContent {
  const text: LocalizedText = {};
  let shown = REMINDER_LIST_MAX;
  for (const l of LOCALES) {
    const t = translator(l);
    const head = t(kind === "open" ? "faq.remind_open" : "faq.remind_taken", { count: hours });
    const hint = t(kind === "open" ? "faq.remind_open_hint" : "faq.remind_taken_hint");
    const items: string[] = [];
    let length = head.length + hint.length + 100;
    for (const q of questions.slice(0, REMINDER_LIST_MAX)) {
      const item = t("faq.queue_item", {
        id: q.id,
        date: formatDateTime(q.createdAt, l, timezone),
        municipality: placeHtml(places, q.municipalityId, l),
        text: previewHtml(q.text, REMINDER_PREVIEW),
      });
      if (length + item.length + 2 > MESSAGE_MAX) break;
      items.push(item);
      length += item.length + 2;
    }
    shown = Math.min(shown, items.length);
    const more = questions.length - items.length;
    const parts = [head, ...items];
    if (more > 0) parts.push(t("faq.remind_more", { count: more }));
    parts.push(hint);
    text[l] = parts.join("\n\n");
  }
  // Buttons are shared by every language: only for questions listed in all of them.
  const buttons: MessageButton[][] = [];
  questions.slice(0, shown).forEach((q, i) => {
    const button: MessageButton = {
      text: perLocale((t) =>
        t(kind === "open" ? "faq.take_button" : "faq.resume_button", { id: q.id }),
      ),
      callbackData: CB.take.pack({ questionId: q.id }),
    };
    if (i % 2 === 0) buttons.push([button]);
    else buttons.at(-1)!.push(button);
  });
  return { text, parseMode: "HTML", ...(buttons.length > 0 ? { buttons } : {}) };
}

/**
 * The reminder job (the scheduler runs it every minute; any number of instances may):
 *
 * 1. A taken question whose holder is no longer a lawyer goes back to the queue.
 * 2. Every question still unanswered `afterHours` after its last "nudge" — asked, taken, or
 *    reminded, whichever is latest — is claimed with one conditional UPDATE … RETURNING that
 *    sets `reminded_at`, so two instances never remind of the same question twice, and again
 *    only `afterHours` later.
 * 3. Open ones: one message to every lawyer listing them with a "take" button each. Taken ones:
 *    one message to the lawyer holding them, with a button to go on answering.
 *
 * Messages go through the delivery engine, created in the same transaction as the claim: a
 * crash loses no reminder and sends none twice. Each reminded question is audit-logged.
 */
export async function remindLawyers(db: Database, options: RemindOptions): Promise<RemindResult> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.afterHours * 3_600_000);
  const result = await db.transaction(async (tx) => {
    const released = await tx
      .update(faqEscalations)
      .set({ status: "open", takenByUserId: null, takenAt: null, updatedAt: now })
      .where(
        and(
          eq(faqEscalations.status, "taken"),
          or(
            sql`${faqEscalations.takenByUserId} is null`,
            sql`not ${holdsLawyerRole(faqEscalations.takenByUserId)}`,
          ),
        ),
      )
      .returning();
    for (const q of released) {
      await recordAudit(tx, {
        actorLabel: "system",
        action: "faq.question.release",
        municipalityId: q.municipalityId,
        details: { questionId: q.id, reason: "holder is no longer a lawyer" },
      });
    }

    const due = await tx
      .update(faqEscalations)
      .set({ remindedAt: now, updatedAt: now })
      .where(
        and(
          inArray(faqEscalations.status, ["open", "taken"]),
          sql`greatest(${faqEscalations.createdAt}, ${faqEscalations.takenAt}, ${faqEscalations.remindedAt}) <= ${cutoff.toISOString()}::timestamptz`,
        ),
      )
      .returning();
    due.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id);
    const places = await askerPlaces(
      tx,
      due.map((q) => q.municipalityId),
    );

    const messages: number[] = [];
    const sentTo = new Map<number, { messageId: number; to: string }>();
    const open = due.filter((q) => q.status === "open");
    if (open.length > 0) {
      const message = await createOutgoingMessage(tx, {
        kind: "faq_reminder",
        municipalityId: null,
        createdByUserId: null,
        content: reminderContent(open, "open", options.afterHours, options.timezone, places),
        audience: LAWYERS,
      });
      await startMessage(tx, message.id);
      messages.push(message.id);
      for (const q of open) sentTo.set(q.id, { messageId: message.id, to: "lawyers" });
    }
    const byHolder = new Map<number, FaqEscalationRow[]>();
    for (const q of due) {
      if (q.status !== "taken" || q.takenByUserId === null) continue;
      byHolder.set(q.takenByUserId, [...(byHolder.get(q.takenByUserId) ?? []), q]);
    }
    for (const [holder, questions] of byHolder) {
      const message = await createOutgoingMessage(tx, {
        kind: "faq_reminder",
        municipalityId: null,
        createdByUserId: null,
        content: reminderContent(questions, "taken", options.afterHours, options.timezone, places),
      });
      await enqueueUsers(tx, message.id, [holder]);
      await startMessage(tx, message.id);
      messages.push(message.id);
      for (const q of questions) sentTo.set(q.id, { messageId: message.id, to: `user:${holder}` });
    }
    for (const q of due) {
      const sent = sentTo.get(q.id);
      await recordAudit(tx, {
        actorLabel: "system",
        action: "faq.question.remind",
        municipalityId: q.municipalityId,
        details: { questionId: q.id, status: q.status, ...sent },
      });
    }
    return {
      released: released.map((q) => q.id),
      open: open.map((q) => q.id),
      taken: [...byHolder.values()].flat().map((q) => q.id),
      messages,
    };
  });
  if (result.messages.length > 0) wakeDelivery();
  return result;
}
