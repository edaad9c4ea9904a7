import { InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import type { TFunction } from "../../i18n";

/**
 * FAQ entry ids in buttons: as long as "faq:show:<id>" and "faq:fb:<id>:1" fit in Telegram's 64
 * bytes. Entries with longer ids (allowed in the files) get no such buttons.
 */
const entryId = field.slug({ maxLength: 55 });

/** Callback data of the FAQ buttons. */
export const CB = {
  feedback: callbackData("faq:fb", { entryId, helpful: field.flag() }),
  show: callbackData("faq:show", { entryId }),
  /** Send pending question `pendingId` to the lawyers. */
  escalate: callbackData("faq:esc", { pendingId: field.int() }),
  /** A button from before the pending question was stored (answered as stale). */
  escalateWithoutId: callbackData("faq:esc"),
  take: callbackData("faq:take", { questionId: field.int() }),
  publish: callbackData("faq:pub", { questionId: field.int() }),
  /** The buttons under an answer draft; `draft` numbers the drafts, so an older one's are stale. */
  draft: callbackData("faq:ans", {
    action: field.oneOf(["send", "edit", "cancel"]),
    draft: field.int({ maxDigits: 6 }),
  }),
  /** "Publish as FAQ": keep or skip a field, then publish or not. */
  publishStep: callbackData("faq:p", { choice: field.oneOf(["keep", "skip", "ok", "no"]) }),
  publishAudience: callbackData("faq:p:aud", {
    audience: field.oneOf(["everyone", "deputies_staff"]),
  }),
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

export function buttonLabel(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= BUTTON_TEXT_MAX ? flat : `${flat.slice(0, BUTTON_TEXT_MAX - 1)}…`;
}

/** Entry buttons under an answer: its "see also" neighbours first, then the search's related. */
const MAX_ENTRY_BUTTONS = 3;
const MAX_RELATED = 2;

/**
 * Under an answer: helpful / not helpful, then the entries the answer names as its neighbours
 * (the ones people confuse it with), then up to 2 related entries; each entry once, at most 3.
 * The caller has left out entries the asker may not see.
 */
export function answerKeyboard(
  t: TFunction,
  entryId: string,
  related: EntryLink[],
  seeAlso: EntryLink[] = [],
): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (CB.feedback.canPack({ entryId, helpful: false })) {
    kb.text(t("faq.helpful"), CB.feedback.pack({ entryId, helpful: true }));
    kb.text(t("faq.not_helpful"), CB.feedback.pack({ entryId, helpful: false }));
  }
  const fits = (e: EntryLink) => CB.show.canPack({ entryId: e.id });
  const seen = new Set([entryId]);
  const links = [...seeAlso.filter(fits), ...related.filter(fits).slice(0, MAX_RELATED)].filter(
    (e) => !seen.has(e.id) && seen.add(e.id),
  );
  for (const r of links.slice(0, MAX_ENTRY_BUTTONS))
    kb.row().text(buttonLabel(r.question), CB.show.pack({ entryId: r.id }));
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
  for (const d of didYouMean.filter((e) => CB.show.canPack({ entryId: e.id })).slice(0, 3)) {
    kb.text(buttonLabel(d.question), CB.show.pack({ entryId: d.id })).row();
    any = true;
  }
  if (pendingId !== undefined) {
    kb.text(t("faq.escalate_button"), CB.escalate.pack({ pendingId }));
    any = true;
  }
  return any ? kb : undefined;
}

export function queueKeyboard(t: TFunction, ids: number[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  ids.forEach((id, i) => {
    kb.text(t("faq.take_button", { id }), CB.take.pack({ questionId: id }));
    if (i % 2 === 1) kb.row();
  });
  return kb;
}
