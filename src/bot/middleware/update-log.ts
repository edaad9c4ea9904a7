import type { Context, MiddlewareFn } from "grammy";
import { isSyntheticChatId } from "../../channels/types";
import type { Channel } from "../../db/schema";
import type { Logger } from "../../logger";

/**
 * One child logger per update, on `ctx.log`: every line a handler writes says which update,
 * chat and channel it was about, so one person's trouble can be followed through the logs.
 * Jobs and start-up have no update and keep the app's logger.
 */

/** The fields every per-update log line carries. */
export interface UpdateLogFields {
  updateId: number;
  chatId?: number;
  channel?: Channel;
}

/**
 * The channel of a chat: Telegram for ordinary ids; a synthetic id (web chat, WhatsApp)
 * says only that it is not Telegram, so the channel comes from the person's row (undefined
 * until it is loaded).
 */
export function channelOfChat(
  chatId: number | undefined,
  personChannel?: Channel,
): Channel | undefined {
  if (personChannel) return personChannel;
  return chatId !== undefined && !isSyntheticChatId(chatId) ? "telegram" : undefined;
}

function chatIdOf(ctx: Context): number | undefined {
  return ctx.chatId ?? ctx.from?.id;
}

export function updateLogger(base: Logger, ctx: Context, channel: Channel | undefined): Logger {
  const chatId = chatIdOf(ctx);
  const fields: UpdateLogFields = { updateId: ctx.update.update_id };
  if (chatId !== undefined) fields.chatId = chatId;
  if (channel) fields.channel = channel;
  return base.child(fields);
}

/**
 * The channel of each chat whose person the person middleware loaded: conversations build fresh
 * contexts that cannot reach the outer one, so this is how their logger learns the channel
 * without a database query. (Not AsyncLocalStorage: it slowed every update by a fifth.) Bounded:
 * a chat that fell out is simply logged without its channel until its next update.
 */
const channelByChat = new Map<number, Channel>();
const MAX_CHATS = 50_000;

/** Remembers the channel of the chat being handled, for the logger of its conversations. */
export function rememberChannel(chatId: number, channel: Channel): void {
  if (channelByChat.get(chatId) === channel) return;
  if (channelByChat.size >= MAX_CHATS) channelByChat.clear();
  channelByChat.set(chatId, channel);
}

/** A conversations plugin: `ctx.log` inside conversations, like the handlers' one. */
export function conversationLogger<C extends Context & { log: Logger }>(
  base: Logger,
): MiddlewareFn<C> {
  return async (ctx, next) => {
    const chatId = chatIdOf(ctx);
    const known = chatId === undefined ? undefined : channelByChat.get(chatId);
    ctx.log = updateLogger(base, ctx, channelOfChat(chatId, known));
    await next();
  };
}
