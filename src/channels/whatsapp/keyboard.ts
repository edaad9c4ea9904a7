/**
 * Inline keyboards on WhatsApp. Telegram allows up to 100 buttons of any length; WhatsApp allows
 * 3 reply buttons of 20 characters or a list of 10 rows of 24. So a keyboard degrades: reply
 * buttons → one list → a list paged with a "more" row (district and municipality lists). Pure
 * functions: the adapter sends what they plan and answers "more" rows with planPage.
 */
import { shortenLabel, splitText, uniqueTitles } from "./markup";
import { WA_LIMITS, type WaInteractive, type WaListRow, type WaOutgoing } from "./types";

export interface KeyboardButton {
  text: string;
  callbackData?: string;
  url?: string;
}

export interface KeyboardLabels {
  /** The list's button ("Choose"), ≤ 20 after shortening. */
  choose: string;
  /** The title of the row that shows the next page ("More…"). */
  more: string;
  /** The body of a page after the first ("Page 2 of 3"). */
  page: (page: number, pages: number) => string;
}

export interface PlanInput {
  /** The message text, already in WhatsApp markup (may be empty). */
  text: string;
  keyboard?: KeyboardButton[][];
  labels: KeyboardLabels;
  /** Reply id of the i-th callback button, counting callback buttons in reading order from 0. */
  buttonId: (index: number) => string;
  /** Reply id of the "more" row that leads to page `page` (0-based). */
  moreId: (page: number) => string;
}

interface CallbackButton {
  text: string;
  callbackData: string;
}

/** Rows on a page that is followed by another: the 10th row is the "more" row. */
const ROWS_BEFORE_MORE = WA_LIMITS.listRows - 1;

/** The callback buttons in reading order (index = the i of buttonId). */
export function callbackButtons(keyboard: KeyboardButton[][] | undefined): CallbackButton[] {
  return (keyboard ?? [])
    .flat()
    .filter((b): b is CallbackButton => typeof b.callbackData === "string" && b.callbackData !== "")
    .map((b) => ({ text: b.text, callbackData: b.callbackData }));
}

function urlButtons(keyboard: KeyboardButton[][] | undefined): { text: string; url: string }[] {
  return (keyboard ?? [])
    .flat()
    .filter((b) => !b.callbackData && typeof b.url === "string" && b.url !== "")
    .map((b) => ({ text: b.text, url: b.url ?? "" }));
}

/** Number of pages a keyboard with n callback buttons needs (1 when n ≤ 10). */
export function pageCount(n: number): number {
  if (n <= WA_LIMITS.listRows) return 1;
  // Every page but the last gives up a row to "more"; the last may use all ten.
  return Math.ceil((n - 1) / ROWS_BEFORE_MORE);
}

/** The button indexes [start, end) on page `page` of a keyboard with n callback buttons. */
function pageRange(n: number, page: number): { start: number; end: number } {
  const last = page === pageCount(n) - 1;
  const start = page * ROWS_BEFORE_MORE;
  return { start, end: last ? n : start + ROWS_BEFORE_MORE };
}

function replyId(id: string): string {
  // Ids come from the adapter; a bad one is a programming error, not something to send.
  if (id === "" || id.length > WA_LIMITS.replyId) {
    throw new RangeError(`WhatsApp reply id must be 1–${WA_LIMITS.replyId} characters: "${id}"`);
  }
  return id;
}

/**
 * The body of an interactive message: at most 1024 characters and never empty. A longer text
 * goes ahead as text messages; its tail, cut at a paragraph (else a line, else a word), stays
 * with the buttons so the question sits right above them.
 */
function splitBody(text: string, fallback: string): { before: string[]; body: string } {
  const max = WA_LIMITS.interactiveBody;
  const trimmed = text.trim();
  if (!trimmed) return { before: [], body: shortenLabel(fallback, max) || "…" };
  if (trimmed.length <= max) return { before: [], body: trimmed };
  const from = trimmed.length - max;
  let cut = -1;
  for (const sep of ["\n\n", "\n", " "]) {
    const at = trimmed.indexOf(sep, from);
    if (at >= 0) {
      cut = at;
      break;
    }
  }
  if (cut < 0) {
    // One unbroken word: cut hard, but not inside a surrogate pair.
    const code = trimmed.charCodeAt(from);
    cut = code >= 0xdc00 && code <= 0xdfff ? from + 1 : from;
  }
  // The text ends in a non-space, so the tail is never empty.
  return {
    before: splitText(trimmed.slice(0, cut), WA_LIMITS.textLength),
    body: trimmed.slice(cut).trim(),
  };
}

function textMessages(parts: string[]): WaOutgoing[] {
  return parts.map((body) => ({ type: "text", text: { body } }));
}

function interactive(interactive: WaInteractive): WaOutgoing {
  return { type: "interactive", interactive };
}

/** Title (24) and, when the title lost part of the label, the full label as description (72). */
function rows(labels: string[], titles: string[], ids: string[]): WaListRow[] {
  return labels.map((label, i) => {
    const title = titles[i] ?? "";
    const full = label.replace(/\s+/g, " ").trim();
    const row: WaListRow = { id: replyId(ids[i] ?? ""), title };
    if (full && title !== full) row.description = shortenLabel(full, WA_LIMITS.listRowDescription);
    return row;
  });
}

function listButton(labels: KeyboardLabels): string {
  return shortenLabel(labels.choose, WA_LIMITS.listButton) || "…";
}

/**
 * One page of a list keyboard. Titles are made unique over the whole keyboard and the "more" row
 * together, so a title means the same button on every page and never clashes with "more".
 */
function listPage(input: PlanInput, buttons: CallbackButton[], page: number, body: string) {
  const n = buttons.length;
  const pages = pageCount(n);
  const labels = buttons.map((b) => b.text);
  const titles = uniqueTitles([...labels, input.labels.more], WA_LIMITS.listRowTitle);
  const { start, end } = pageRange(n, page);
  const ids = labels.map((_, i) => input.buttonId(i));
  const pageRows = rows(labels.slice(start, end), titles.slice(start, end), ids.slice(start, end));
  if (page < pages - 1) {
    pageRows.push({
      id: replyId(input.moreId(page + 1)),
      title: titles[n] ?? "…",
      description: shortenLabel(input.labels.page(page + 2, pages), WA_LIMITS.listRowDescription),
    });
  }
  return interactive({
    type: "list",
    body: { text: body },
    action: { button: listButton(input.labels), sections: [{ rows: pageRows }] },
  });
}

/** A text with "label: url" lines for link buttons WhatsApp cannot show as buttons. */
function withLinks(text: string, links: { text: string; url: string }[]): string {
  if (links.length === 0) return text;
  const lines = links.map(({ text: label, url }) => {
    const name = label.replace(/\s+/g, " ").trim();
    return !name || name === url ? url : `${name}: ${url}`;
  });
  return [text.trimEnd(), lines.join("\n")].filter(Boolean).join("\n\n");
}

/**
 * The messages that carry one Bot API message on WhatsApp, in order: text messages when there
 * are no buttons; a call-to-action for a lone link button; reply buttons for 1–3 callback
 * buttons; a list for 4–10; page 0 of a paged list beyond (see planPage). Link buttons next to
 * callback buttons are written into the text. Everything respects WA_LIMITS.
 */
export function planMessages(input: PlanInput): WaOutgoing[] {
  const buttons = callbackButtons(input.keyboard);
  const links = urlButtons(input.keyboard);
  const n = buttons.length;

  if (n === 0 && links.length === 1) {
    const link = links[0]!;
    const label = link.text.replace(/\s+/g, " ").trim();
    // Without a text, the link's own label is the most meaningful body.
    const { before, body } = splitBody(input.text, label || input.labels.choose);
    const cta = interactive({
      type: "cta_url",
      body: { text: body },
      action: {
        name: "cta_url",
        parameters: {
          display_text: shortenLabel(label || link.url, WA_LIMITS.ctaDisplayText) || "…",
          url: link.url,
        },
      },
    });
    return [...textMessages(before), cta];
  }

  const text = withLinks(input.text, links);
  if (n === 0) return textMessages(splitText(text, WA_LIMITS.textLength));

  const { before, body } = splitBody(text, input.labels.choose);
  const head = textMessages(before);
  if (n <= WA_LIMITS.replyButtons) {
    const titles = uniqueTitles(
      buttons.map((b) => b.text),
      WA_LIMITS.replyButtonTitle,
    );
    return [
      ...head,
      interactive({
        type: "button",
        body: { text: body },
        action: {
          buttons: buttons.map((_, i) => ({
            type: "reply",
            reply: { id: replyId(input.buttonId(i)), title: titles[i] ?? "…" },
          })),
        },
      }),
    ];
  }
  return [...head, listPage(input, buttons, 0, body)];
}

/**
 * The list of page `page` (≥ 1) of a paged keyboard, the answer to its "more" row: body
 * labels.page(page + 1, pages); the rows of that page, and "more" (moreId(page + 1)) unless it
 * is the last page.
 */
export function planPage(input: PlanInput, page: number): WaOutgoing {
  const buttons = callbackButtons(input.keyboard);
  const pages = pageCount(buttons.length);
  if (!Number.isInteger(page) || page < 1 || page >= pages) {
    throw new RangeError(`planPage: page ${page} is not in 1..${pages - 1}`);
  }
  const { body } = splitBody(input.labels.page(page + 1, pages), input.labels.choose);
  return listPage(input, buttons, page, body);
}
