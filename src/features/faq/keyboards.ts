import { InlineKeyboard } from "grammy";
import type { TFunction } from "../../i18n";

/** Callback data of the FAQ buttons. Telegram allows 64 bytes; longer ones are left out. */
export const CB = {
  feedback: (entryId: string, helpful: boolean) => `faq:fb:${entryId}:${helpful ? 1 : 0}`,
  show: (entryId: string) => `faq:show:${entryId}`,
  /** Send pending question `pendingId` to the lawyers. */
  escalate: (pendingId: number) => `faq:esc:${pendingId}`,
  take: (questionId: number) => `faq:take:${questionId}`,
  publish: (questionId: number) => `faq:pub:${questionId}`,
} as const;

export const CB_PATTERN = {
  feedback: /^faq:fb:([a-z0-9-]{1,60}):([01])$/,
  show: /^faq:show:([a-z0-9-]{1,60})$/,
  /** Without an id: a button from before the pending question was stored (answered as stale). */
  escalate: /^faq:esc(?::(\d{1,15}))?$/,
  take: /^faq:take:(\d{1,15})$/,
  publish: /^faq:pub:(\d{1,15})$/,
} as const;

export interface EntryLink {
  id: string;
  question: string;
}

/**
 * Labels are whole questions: the web chat wraps them and Telegram's apps shorten what does not
 * fit on the screen themselves. Only a runaway text (a lawyer's long published question) is cut.
 */
const BUTTON_TEXT_MAX = 160;
const CALLBACK_DATA_MAX = 64;

function fits(data: string): boolean {
  return Buffer.byteLength(data) <= CALLBACK_DATA_MAX;
}

export function buttonLabel(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= BUTTON_TEXT_MAX ? flat : `${flat.slice(0, BUTTON_TEXT_MAX - 1)}…`;
}

/** Under an answer: helpful / not helpful, then up to 2 related entries. */
export function answerKeyboard(
  t: TFunction,
  entryId: string,
  related: EntryLink[],
): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (fits(CB.feedback(entryId, false))) {
    kb.text(t("faq.helpful"), CB.feedback(entryId, true));
    kb.text(t("faq.not_helpful"), CB.feedback(entryId, false));
  }
  for (const r of related.filter((e) => fits(CB.show(e.id))).slice(0, 2))
    kb.row().text(buttonLabel(r.question), CB.show(r.id));
  return kb;
}

/**
 * Under "no reliable answer": up to 3 guesses, and for deputies and staff (who have a pending
 * question stored) the escalation.
 */
export function abstainKeyboard(
  t: TFunction,
  didYouMean: EntryLink[],
  pendingId: number | undefined,
): InlineKeyboard | undefined {
  const kb = new InlineKeyboard();
  let any = false;
  for (const d of didYouMean.filter((e) => fits(CB.show(e.id))).slice(0, 3)) {
    kb.text(buttonLabel(d.question), CB.show(d.id)).row();
    any = true;
  }
  if (pendingId !== undefined) {
    kb.text(t("faq.escalate_button"), CB.escalate(pendingId));
    any = true;
  }
  return any ? kb : undefined;
}

export function queueKeyboard(t: TFunction, ids: number[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  ids.forEach((id, i) => {
    kb.text(t("faq.take_button", { id }), CB.take(id));
    if (i % 2 === 1) kb.row();
  });
  return kb;
}
