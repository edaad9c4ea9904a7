/**
 * The steps the staff's hearing flows are made of: wait for typed text, a file or a button;
 * "Cancel" ends the flow, old buttons are answered as stale. Commands end a flow before it gets
 * here (bot/flows commandsEndFlows).
 */
import { anyOf } from "../../bot/callback-data";
import type { AppConversation, ConvContext } from "../../bot/context";
import { ask } from "../../bot/conversation-kit";
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
  const answer = await ask(conversation, {
    buttons: anyOf(HEARING_CB.abort, buttons),
    // The step is answered: its buttons go, so they cannot be pressed twice.
    clearKeyboard: true,
    acceptText: true,
    maxLength: Number.POSITIVE_INFINITY,
    acceptFiles: "documents",
    onOther: (ctx) => ctx.reply(ctx.t("hearings.staff.unexpected")),
  });
  if (answer.kind === "button" && HEARING_CB.abort.filter().test(answer.data)) {
    await answer.ctx.reply(answer.ctx.t("hearings.staff.aborted"));
    throw new Aborted();
  }
  if (answer.kind === "document" || answer.kind === "photo") {
    const { fileName, caption } = answer;
    return {
      kind: "document",
      fileId: answer.fileId,
      ...(fileName ? { name: fileName } : {}),
      ...(caption ? { caption } : {}),
      ctx: answer.ctx,
    };
  }
  if (answer.kind === "aside") throw new Error("no aside in this flow");
  return answer;
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
