/**
 * What residents and staff read about a poll (Telegram HTML, per language): the poll card with
 * its voting buttons (the delivered opening and the card under /polls are the same), the vote
 * confirmation, and the result with its chart. Polls are written in Kyrgyz and/or Russian: each
 * reader gets their language's text, else the other one.
 */
import {
  type LocalizedText,
  type MessageButton,
  type MessageContent,
  visibleText,
} from "../../delivery";
import { escapeHtml, formatNumber, staffText, translator } from "../../i18n";
import { LOCALES, type Locale } from "../../locales";
import { templateTexts } from "../hearings/notices";
import { formatMoment } from "../hearings/time";
import { choicesMask, POLL_CB } from "./callbacks";
import type { PollRow, PollText } from "./schema";
import type { PollTally } from "./types";

/** The poll's own text for a reader: their language, else the other one. */
export const pollText: (text: PollText, locale: Locale) => string = staffText;

export function perLocale(make: (locale: Locale) => string): LocalizedText {
  return Object.fromEntries(LOCALES.map((l) => [l, make(l)])) as LocalizedText;
}

/** One button: its label per language and its callback data. */
export interface VoteButton {
  text: (locale: Locale) => string;
  callbackData: string;
}

/**
 * The voting buttons of a poll for one selection: single choice, one button per option (the
 * chosen one marked); multiple choice, a toggle per option (✅ when selected) and a submit
 * button carrying the selection.
 */
export function voteButtons(poll: PollRow, chosen: readonly number[] = []): VoteButton[][] {
  const picked = new Set(chosen);
  const mark = (i: number, l: Locale) =>
    `${picked.has(i) ? "✅ " : ""}${pollText(poll.options[i] ?? {}, l)}`;
  if (poll.maxChoices === 1) {
    return poll.options.map((_, option) => [
      {
        text: (l) => mark(option, l),
        callbackData: POLL_CB.vote.pack({ pollId: poll.id, option }),
      },
    ]);
  }
  const mask = choicesMask(chosen);
  const rows: VoteButton[][] = poll.options.map((_, option) => [
    {
      text: (l) => mark(option, l),
      callbackData: POLL_CB.toggle.pack({ pollId: poll.id, mask, option }),
    },
  ]);
  rows.push([
    {
      text: (l) => translator(l)("polls.notice.btn_submit", { count: picked.size }),
      callbackData: POLL_CB.submit.pack({ pollId: poll.id, mask }),
    },
  ]);
  return rows;
}

/** The buttons as stored in a delivered message (every language's label). */
export function messageButtons(rows: VoteButton[][]): MessageButton[][] {
  return rows.map((row) =>
    row.map((b) => ({ text: perLocale(b.text), callbackData: b.callbackData })),
  );
}

/** The buttons for one reader (an inline keyboard of a card or of an edited message). */
export function inlineKeyboard(rows: VoteButton[][], locale: Locale) {
  return {
    inline_keyboard: rows.map((row) =>
      row.map((b) => ({ text: b.text(locale), callback_data: b.callbackData })),
    ),
  };
}

export interface CardContext {
  /** The body that speaks ("Aiyl okmotu of …"), per language. */
  sender: Record<Locale, string>;
  timezone: string;
}

/** How to vote: one option, or up to N. */
function howToVote(poll: PollRow, locale: Locale): string {
  const t = translator(locale);
  return poll.maxChoices === 1
    ? t("polls.notice.choose_one")
    : t("polls.notice.choose_up_to", { count: poll.maxChoices });
}

/** The poll as residents see it (the delivered opening, and a card under /polls). */
export function pollCardText(poll: PollRow, ctx: CardContext, locale: Locale): string {
  const t = translator(locale);
  const lines = [
    `📊 <b>${escapeHtml(ctx.sender[locale])}</b>`,
    "",
    `<b>${escapeHtml(pollText(poll.question, locale))}</b>`,
    "",
    howToVote(poll, locale),
    t("polls.notice.closes", { when: formatMoment(poll.closesAt, locale, ctx.timezone) }),
  ];
  if (poll.audience === "verified") lines.push(t("polls.notice.verified_only"));
  if (poll.liveResults) lines.push(t("polls.notice.live_results"));
  return lines.join("\n");
}

/**
 * The WhatsApp template parameters of a poll message (plain text, per language): question,
 * closes (as the card writes it), municipality (the body that speaks), and for a result
 * `results` ("Option A: 412 · 38% · Option B: …").
 */
function templateParams(
  poll: PollRow,
  ctx: CardContext,
  more: Record<string, (locale: Locale) => string> = {},
): Record<string, LocalizedText> {
  const params: Record<string, (locale: Locale) => string> = {
    question: (l) => pollText(poll.question, l),
    closes: (l) => formatMoment(poll.closesAt, l, ctx.timezone),
    municipality: (l) => ctx.sender[l],
    ...more,
  };
  return templateTexts(params);
}

export function openingContent(poll: PollRow, ctx: CardContext): MessageContent {
  return {
    text: perLocale((l) => pollCardText(poll, ctx, l)),
    parseMode: "HTML",
    buttons: messageButtons(voteButtons(poll)),
    templateParams: templateParams(poll, ctx),
  };
}

/** "412 · 38%": votes for one option and their share of the people who voted. */
export function share(count: number, voters: number, locale: Locale): string {
  const percent = voters > 0 ? Math.round((count / voters) * 100) : 0;
  return `${formatNumber(count, locale)} · ${percent}%`;
}

/** The counts in text: one line per option, then the turnout. */
export function tallyLines(
  poll: PollRow,
  tally: PollTally,
  locale: Locale,
  labelMax = Number.POSITIVE_INFINITY,
): string[] {
  const t = translator(locale);
  const lines = poll.options.map(
    (o, i) =>
      `• ${escapeHtml(cut(pollText(o, locale), labelMax))}: <b>${share(tally.counts[i] ?? 0, tally.voters, locale)}</b>`,
  );
  lines.push(t("polls.notice.voters", { count: tally.voters }));
  return lines;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** What was chosen, for a confirmation: "Option A, Option C". */
export function choiceList(poll: PollRow, choices: readonly number[], locale: Locale): string {
  return choices.map((i) => pollText(poll.options[i] ?? {}, locale)).join(", ");
}

/** Where the app serves a closed poll's chart in one language (the result's photo). */
export function chartPath(pollId: number, locale: Locale): string {
  return `/polls/${pollId}/chart/${locale}.png`;
}

/** Telegram's caption limit: the chart's caption must fit in it. */
const CAPTION_LIMIT = 1024;

/**
 * Shorter and shorter option names and question until the caption fits (ten long options and
 * a long question do not): the chart beside it shows them in full.
 */
const CAPTION_CUTS = [
  { question: Number.POSITIVE_INFINITY, label: Number.POSITIVE_INFINITY },
  { question: 300, label: 20 },
  { question: 120, label: 10 },
] as const;

function resultCaption(poll: PollRow, tally: PollTally, ctx: CardContext, l: Locale): string {
  const t = translator(l);
  let caption = "";
  for (const max of CAPTION_CUTS) {
    caption = [
      `📊 <b>${escapeHtml(ctx.sender[l])}</b>`,
      t("polls.notice.result_title"),
      "",
      `<b>${escapeHtml(cut(pollText(poll.question, l), max.question))}</b>`,
      "",
      ...tallyLines(poll, tally, l, max.label),
    ].join("\n");
    if (visibleText(caption).length <= CAPTION_LIMIT) break;
  }
  return caption;
}

/** The result for residents and staff: the chart, with the numbers as its caption. */
export function resultContent(poll: PollRow, tally: PollTally, ctx: CardContext): MessageContent {
  return {
    text: perLocale((l) => resultCaption(poll, tally, ctx, l)),
    parseMode: "HTML",
    photo: perLocale((l) => chartPath(poll.id, l)),
    templateParams: templateParams(poll, ctx, {
      results: (l) =>
        poll.options
          .map((o, i) => `${pollText(o, l)}: ${share(tally.counts[i] ?? 0, tally.voters, l)}`)
          .join(" · "),
    }),
  };
}
