/**
 * Texts of hearings in the chat (Telegram HTML): the staff's list and card, the residents'
 * /hearings, the questions list. Staff and residents write in Kyrgyz and/or Russian; each reader
 * gets their language's text, else the other (`hearingText`).
 */
import { MAX_MESSAGE_LENGTH } from "../../channels/types";
import { visibleText } from "../../delivery";
import { escapeHtml, formatDate, formatDateTime, type TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { hearingText } from "./notices";
import type { HearingQuestionRow, HearingRow, RsvpAnswer } from "./schema";
import { formatHearingWhen } from "./time";
import type { HearingCounts } from "./types";

/** How a text is read: the reader's language and `t`, the deployment's time zone. */
export interface Reader {
  t: TFunction;
  locale: Locale;
  timezone: string;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The hearing's title for a reader, "№12" when it has none in either language. */
export function titleOf(h: Pick<HearingRow, "id" | "title">, locale: Locale): string {
  return hearingText(h.title, locale) || `№${h.id}`;
}

/** A status word; a held hearing whose minutes are out says so. */
export function statusLabel(
  t: TFunction,
  h: Pick<HearingRow, "status" | "minutesPublishedAt">,
): string {
  if (h.status === "held" && h.minutesPublishedAt) return t("hearings.staff.status_minutes");
  return t(`hearings.staff.status_${h.status}`);
}

/** Reminder offsets in the form staff type them: "7d, 1d, 2h". */
export function typedOffsets(offsets: readonly number[]): string {
  return offsets
    .map((m) => (m % 1440 === 0 ? `${m / 1440}d` : m % 60 === 0 ? `${m / 60}h` : `${m}m`))
    .join(", ");
}

function countsLine(t: TFunction, c: HearingCounts): string {
  return t("hearings.staff.counts", {
    going: c.going,
    notGoing: c.notGoing,
    questions: c.questions,
  });
}

/** One line of the staff list (with the municipality for admins, who see every one). */
export function staffListItem(
  r: Reader,
  h: HearingRow,
  counts: HearingCounts,
  municipality?: string,
): string {
  const lines = [
    r.t("hearings.staff.list_item", {
      id: h.id,
      status: statusLabel(r.t, h),
      when: escapeHtml(formatHearingWhen(h.startsAt, h.durationMin, r.locale, r.timezone)),
      title: escapeHtml(shorten(titleOf(h, r.locale), 120)),
    }),
  ];
  if (municipality) lines.push(`🏘 ${escapeHtml(municipality)}`);
  lines.push(countsLine(r.t, counts));
  return lines.join("\n");
}

/** The label of the button opening a hearing's card. */
export function openLabel(h: HearingRow, locale: Locale): string {
  return `№${h.id} · ${shorten(titleOf(h, locale), 40)}`;
}

/** The staff card: everything about one hearing, then its buttons (see keyboards). */
export function staffCard(
  r: Reader,
  h: HearingRow,
  counts: HearingCounts,
  municipality: string,
): string {
  const { t, locale } = r;
  const lines = [
    `<b>№${h.id} · ${escapeHtml(titleOf(h, locale))}</b>`,
    `🏘 ${escapeHtml(municipality)}`,
    `🏛 ${escapeHtml(t(`hearings.kind.${h.kind}`))} · ${statusLabel(t, h)}`,
    `🗓 ${escapeHtml(formatHearingWhen(h.startsAt, h.durationMin, locale, r.timezone))}`,
    `📍 ${escapeHtml(hearingText(h.place, locale))}`,
  ];
  if (h.onlineUrl) lines.push(`💻 ${escapeHtml(h.onlineUrl)}`);
  if (h.documents.length > 0) {
    lines.push(t("hearings.staff.card_documents", { n: h.documents.length }));
  }
  lines.push(countsLine(t, counts));
  lines.push(
    h.reminderOffsets.length > 0
      ? t("hearings.staff.card_reminders", { offsets: typedOffsets(h.reminderOffsets) })
      : t("hearings.staff.card_no_reminders"),
  );
  if (h.status === "cancelled") {
    lines.push(t("hearings.staff.card_cancelled", { reason: escapeHtml(h.cancelReason ?? "") }));
  }
  if (h.minutesPublishedAt) {
    lines.push(
      t("hearings.staff.card_minutes", {
        date: formatDateTime(h.minutesPublishedAt, locale, r.timezone),
      }),
    );
  }
  return lines.join("\n");
}

/** One upcoming hearing for a resident, with their own answer. */
export function residentItem(r: Reader, h: HearingRow, answer: RsvpAnswer | undefined): string {
  const { t, locale } = r;
  const lines = [
    `🏛 ${escapeHtml(t(`hearings.kind.${h.kind}`))}`,
    `<b>${escapeHtml(titleOf(h, locale))}</b>`,
    `🗓 ${escapeHtml(formatHearingWhen(h.startsAt, h.durationMin, locale, r.timezone))}`,
    `📍 ${escapeHtml(hearingText(h.place, locale))}`,
  ];
  if (h.onlineUrl) {
    const url = escapeHtml(h.onlineUrl).replace(/"/g, "&quot;");
    lines.push(`💻 <a href="${url}">${escapeHtml(h.onlineUrl)}</a>`);
  }
  const agenda = hearingText(h.agenda, locale);
  if (agenda) lines.push("", escapeHtml(shorten(agenda, 600)));
  lines.push("", t(`hearings.resident.your_answer_${answer ?? "none"}`));
  return lines.join("\n");
}

/** One held hearing with its minutes, for residents. */
export function residentPastItem(r: Reader, h: HearingRow): string {
  const { t, locale } = r;
  const lines = [
    `<b>${escapeHtml(titleOf(h, locale))}</b> — ${formatDate(h.startsAt, locale, r.timezone)}`,
  ];
  const doc = h.minutesDocument;
  if (doc?.kind === "link") {
    const url = escapeHtml(doc.url).replace(/"/g, "&quot;");
    lines.push(`📄 <a href="${url}">${escapeHtml(t("hearings.resident.minutes_link"))}</a>`);
  } else if (doc?.kind === "file") {
    lines.push(`📄 ${t("hearings.resident.minutes_file")}`);
  }
  if (h.minutesText) lines.push(escapeHtml(shorten(h.minutesText, 500)));
  return lines.join("\n");
}

/** A question for staff: number, time, text as typed. */
export function questionItem(r: Reader, q: HearingQuestionRow, n: number): string {
  return r.t("hearings.staff.question_item", {
    n,
    time: formatDateTime(q.createdAt, r.locale, r.timezone),
    // Empty once its author deleted their data (/forgetme): it still counts, without words.
    text: q.text ? escapeHtml(q.text) : r.t("privacy.removed_text"),
  });
}

/**
 * Joins parts into as few messages as fit Telegram's limit (what the reader sees counts), each
 * part whole; `head` starts the first.
 */
export function chunkMessages(head: string, parts: readonly string[]): string[] {
  const out: string[] = [];
  let current = head;
  for (const part of parts) {
    const joined = current ? `${current}\n\n${part}` : part;
    if (visibleText(joined).length <= MAX_MESSAGE_LENGTH) {
      current = joined;
      continue;
    }
    if (current) out.push(current);
    current = part;
  }
  if (current) out.push(current);
  return out;
}
