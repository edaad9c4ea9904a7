import type { Context } from "grammy";

/** One key for sequential processing and conversation storage: the chat. */
export function chatKey(ctx: Context): string | undefined {
  return ctx.chatId?.toString() ?? ctx.from?.id.toString();
}
