import type { CallbackQueryContext } from "grammy";
import type { AppConversation, ConvContext } from "./context";

/** Longest free-text answer a flow accepts (names, search queries). */
export const MAX_INPUT_LENGTH = 200;

export type Answer =
  | { kind: "button"; data: string; ctx: CallbackQueryContext<ConvContext> }
  | { kind: "text"; text: string; ctx: ConvContext }
  /** `aside` took the message (an invite code): the step asks its question again. */
  | { kind: "aside"; ctx: ConvContext };

export interface AskOptions {
  /** Callback data this step accepts; other buttons are answered as stale. */
  buttons: RegExp;
  /** Whether typed text is an answer too (otherwise see `textEnds`). */
  acceptText?: boolean;
  /**
   * Whether typed text that is no answer ends the flow and goes on to the handlers after it, so
   * a question typed into an open menu is answered as one. Otherwise `onOther` runs.
   */
  textEnds?: boolean;
  /** Says what is expected when the person sends something else. */
  onOther: (ctx: ConvContext) => Promise<unknown>;
  /**
   * A message that belongs to no step and is handled wherever it comes (an invite code): returns
   * whether it took this one. It runs inside the conversation, so its side effects go in `once`.
   */
  aside?: (ctx: ConvContext) => Promise<boolean>;
}

/**
 * Waits for the person's next answer to a step (a command never gets here: it ends the flow
 * first, see commandsEndFlows in ./flows); buttons from old messages are answered as stale and
 * change nothing; what `aside` takes comes back as an "aside" answer.
 */
export async function ask(conversation: AppConversation, options: AskOptions): Promise<Answer> {
  for (;;) {
    const ctx = await conversation.wait();
    const data = ctx.callbackQuery?.data;
    if (data !== undefined) {
      if (options.buttons.test(data)) {
        await ctx.answerCallbackQuery();
        return { kind: "button", data, ctx: ctx as CallbackQueryContext<ConvContext> };
      }
      await ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
      continue;
    }
    const text = ctx.message?.text?.trim();
    if (text && options.aside && (await options.aside(ctx))) return { kind: "aside", ctx };
    if (options.acceptText && text) {
      if (text.length > MAX_INPUT_LENGTH) {
        await ctx.reply(ctx.t("errors.too_long", { length: text.length, max: MAX_INPUT_LENGTH }));
        continue;
      }
      return { kind: "text", text, ctx };
    }
    if (options.textEnds && text) await conversation.halt({ next: true });
    await options.onOther(ctx);
  }
}

/** Runs a side effect once, not on every replay of the conversation. */
export function once<R>(conversation: AppConversation, task: () => Promise<R>): Promise<R> {
  return conversation.external(task);
}
