/**
 * The steps the staff's hearing flows are made of: wait for typed text, a file or a button;
 * "Cancel" ends the flow, old buttons are answered as stale. Commands end a flow before it gets
 * here (bot/flows commandsEndFlows).
 */
import type { AppConversation, ConvContext } from "../../bot/context";
import { HEARING_CB } from "./callbacks";
import { skipKeyboard } from "./keyboards";

/** Thrown inside a flow when the person presses "Cancel": ends it quietly. */
export class Aborted extends Error {}

export type Input =
  | { kind: "text"; text: string; ctx: ConvContext }
  | { kind: "button"; data: string; ctx: ConvContext }
  | { kind: "document"; fileId: string; name?: string; caption?: string; ctx: ConvContext };

/** The next thing the person sends; buttons outside `buttons` are stale (Cancel always works). */
export async function next(conversation: AppConversation, buttons: RegExp): Promise<Input> {
  for (;;) {
    const ctx = await conversation.wait();
    const data = ctx.callbackQuery?.data;
    if (data !== undefined) {
      if (HEARING_CB.abort.filter().test(data)) {
        await ctx.answerCallbackQuery();
        await ctx.editMessageReplyMarkup().catch(() => {});
        await ctx.reply(ctx.t("hearings.staff.aborted"));
        throw new Aborted();
      }
      if (buttons.test(data)) {
        await ctx.answerCallbackQuery();
        // The step is answered: its buttons go, so they cannot be pressed twice.
        await ctx.editMessageReplyMarkup().catch(() => {});
        return { kind: "button", data, ctx };
      }
      await ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
      continue;
    }
    const message = ctx.message;
    if (message?.document) {
      const caption = message.caption?.trim();
      return {
        kind: "document",
        fileId: message.document.file_id,
        ...(message.document.file_name ? { name: message.document.file_name } : {}),
        ...(caption ? { caption } : {}),
        ctx,
      };
    }
    const text = message?.text?.trim();
    if (text) return { kind: "text", text, ctx };
    await ctx.reply(ctx.t("hearings.staff.unexpected"));
  }
}

/** Matches nothing: a step without buttons of its own (Cancel still works). */
export const NO_BUTTONS = /^(?!)/;

/**
 * Asks for a text of at most `max` characters; with `skipLabel` a button moves on without one
 * (returns undefined). Anything else is asked again.
 */
export async function askText(
  conversation: AppConversation,
  ctx: ConvContext,
  prompt: string,
  max: number,
  skipLabel?: string,
): Promise<string | undefined> {
  const t = ctx.t;
  const markup = skipLabel ? skipKeyboard(t, skipLabel) : undefined;
  await ctx.reply(prompt, { parse_mode: "HTML", reply_markup: markup });
  for (;;) {
    // Only a step that offers Skip takes it: an old Skip button must not skip a required text.
    const answer = await next(conversation, skipLabel ? HEARING_CB.skip.filter() : NO_BUTTONS);
    if (answer.kind === "button") return undefined;
    if (answer.kind === "text") {
      if (answer.text.length <= max) return answer.text;
      await answer.ctx.reply(t("hearings.staff.too_long", { length: answer.text.length, max }), {
        reply_markup: markup,
      });
      continue;
    }
    await answer.ctx.reply(prompt, { parse_mode: "HTML", reply_markup: markup });
  }
}

/** Whether `text` is an https address (the only links hearings carry). */
export function isHttpsUrl(text: string): boolean {
  if (/\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return url.protocol === "https:" && Boolean(url.hostname);
  } catch {
    return false;
  }
}
