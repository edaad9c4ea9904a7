/**
 * What staff read about polls in the chat (Telegram HTML): the list, a poll's card with counts
 * and turnout, the results, and the row a draft would become (for the preview). Counts only:
 * nothing here knows who chose what.
 */
import { escapeHtml, type TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { formatMoment } from "../hearings/time";
import { pollText, tallyLines } from "./notices";
import type { PollRow, PollText } from "./schema";
import type { PollInput, PollTally } from "./types";

/** How a text is read: the reader's language and `t`, the deployment's time zone. */
export interface Reader {
  t: TFunction;
  locale: Locale;
  timezone: string;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The poll's question for a reader, "№12" when it has none. */
export function questionOf(poll: Pick<PollRow, "id" | "question">, locale: Locale): string {
  return pollText(poll.question, locale) || `№${poll.id}`;
}

function statusLabel(t: TFunction, poll: Pick<PollRow, "status">): string {
  return t(`polls.status.${poll.status}`);
}

/** One entry of the staff list (with the municipality for admins, who see every one). */
export function staffListItem(
  r: Reader,
  poll: PollRow,
  tally: PollTally,
  municipality?: string,
): string {
  const lines = [
    r.t("polls.staff.list_item", {
      id: poll.id,
      status: statusLabel(r.t, poll),
      question: escapeHtml(shorten(questionOf(poll, r.locale), 120)),
    }),
  ];
  if (municipality) lines.push(`🏘 ${escapeHtml(municipality)}`);
  lines.push(
    r.t("polls.staff.list_turnout", {
      count: tally.voters,
      closes: escapeHtml(formatMoment(poll.closedAt ?? poll.closesAt, r.locale, r.timezone)),
    }),
  );
  return lines.join("\n");
}

/** The label of the button opening a poll's card. */
export function openLabel(poll: PollRow, locale: Locale): string {
  return `№${poll.id} · ${shorten(questionOf(poll, locale), 40)}`;
}

/** The card: question, counts, turnout, audience, times, status. */
export function staffCard(
  r: Reader,
  poll: PollRow,
  tally: PollTally,
  municipality: string,
): string {
  const t = r.t;
  const when = (at: Date) => escapeHtml(formatMoment(at, r.locale, r.timezone));
  const lines = [
    t("polls.staff.card_title", { id: poll.id, status: statusLabel(t, poll) }),
    `🏘 ${escapeHtml(municipality)}`,
    "",
    `<b>${escapeHtml(questionOf(poll, r.locale))}</b>`,
    "",
    ...tallyLines(poll, tally, r.locale),
    "",
    poll.maxChoices === 1
      ? t("polls.staff.mode_single")
      : t("polls.staff.mode_multiple", { count: poll.maxChoices }),
    t(`polls.staff.audience_${poll.audience}`),
    t(poll.liveResults ? "polls.staff.live_yes" : "polls.staff.live_no"),
    t("polls.staff.opens", { when: when(poll.openedAt ?? poll.opensAt) }),
    t("polls.staff.closes", { when: when(poll.closedAt ?? poll.closesAt) }),
  ];
  if (poll.status === "cancelled" && poll.cancelledAt) {
    lines.push(t("polls.staff.cancelled_at", { when: when(poll.cancelledAt) }));
  }
  return lines.join("\n");
}

/** The results in text (a closed poll's chart goes with it). */
export function resultsText(r: Reader, poll: PollRow, tally: PollTally): string {
  const head =
    poll.status === "closed" ? "polls.staff.results_final" : "polls.staff.results_so_far";
  return [
    r.t(head, { id: poll.id }),
    "",
    `<b>${escapeHtml(questionOf(poll, r.locale))}</b>`,
    "",
    ...tallyLines(poll, tally, r.locale),
  ].join("\n");
}

/** A typed option in the staff's view: "ky text | ru text", or the one text. */
export function optionLine(option: PollText): string {
  if (option.ky && option.ru && option.ky !== option.ru) return `${option.ky} | ${option.ru}`;
  return option.ky ?? option.ru ?? "";
}

/**
 * The row the input would become, for the preview (id 0: nothing is stored yet). The input is
 * the validated one, so the preview shows what the service will store.
 */
export function draftRow(input: Required<Omit<PollInput, "opensAt">> & { opensAt: Date }): PollRow {
  const at = new Date(0);
  return {
    id: 0,
    municipalityId: input.municipalityId,
    question: input.question,
    options: input.options,
    maxChoices: input.maxChoices,
    audience: input.audience,
    liveResults: input.liveResults,
    status: "scheduled",
    opensAt: input.opensAt,
    closesAt: input.closesAt,
    createdByUserId: null,
    openedAt: null,
    closedAt: null,
    cancelledAt: null,
    burstWarnedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}
