import type { CallbackQueryContext } from "grammy";
import type { AppConversation, ConvContext } from "./context";

/** Longest free-text answer a flow accepts (names, search queries). */
export const MAX_INPUT_LENGTH = 200;

export type Answer =
  | { kind: "button"; data: string; ctx: CallbackQueryContext<ConvContext> }
  | { kind: "text"; text: string; ctx: ConvContext };

export interface AskOptions {
  /** Callback data this step accepts; other buttons are answered as stale. */
  buttons: RegExp;
  /** Whether typed text is an answer too (otherwise `onOther` runs). */
  acceptText?: boolean;
  /** Says what is expected when the person sends something else. */
  onOther: (ctx: ConvContext) => Promise<unknown>;
}

function isCommand(ctx: ConvContext): boolean {
  return ctx.message?.entities?.some((e) => e.type === "bot_command" && e.offset === 0) ?? false;
}

/**
 * Waits for the person's next answer to a step. Any command ends the flow and is handled as
 * usual (so /help or /start always work); buttons from old messages are answered as stale and
 * change nothing.
 */
export async function ask(conversation: AppConversation, options: AskOptions): Promise<Answer> {
  for (;;) {
    const ctx = await conversation.wait();
    if (isCommand(ctx)) await conversation.halt({ next: true });
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
    if (options.acceptText && text) {
      if (text.length > MAX_INPUT_LENGTH) {
        await ctx.reply(ctx.t("errors.too_long", { length: text.length, max: MAX_INPUT_LENGTH }));
        continue;
      }
      return { kind: "text", text, ctx };
    }
    await options.onOther(ctx);
  }
}

/** Runs a side effect once, not on every replay of the conversation. */
export function once<R>(conversation: AppConversation, task: () => Promise<R>): Promise<R> {
  return conversation.external(task);
}
