import { AsyncLocalStorage } from "node:async_hooks";
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
 * The channel of a chat: Telegram for ordinary ids; a synthetic id (web chat, later WhatsApp)
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
 * The channel of the update being handled, set by the person middleware for everything after
 * it. Conversations build fresh contexts that cannot reach the outer one; they run inside the
 * outer middleware, so this is how their logger learns the channel without a database query.
 */
const currentChannel = new AsyncLocalStorage<Channel>();

/** Runs the rest of the update's middleware with its channel known to `conversationLogger`. */
export function withUpdateChannel<R>(channel: Channel, next: () => Promise<R>): Promise<R> {
  return currentChannel.run(channel, next);
}

/** A conversations plugin: `ctx.log` inside conversations, like the handlers' one. */
export function conversationLogger<C extends Context & { log: Logger }>(
  base: Logger,
): MiddlewareFn<C> {
  return async (ctx, next) => {
    ctx.log = updateLogger(base, ctx, channelOfChat(chatIdOf(ctx), currentChannel.getStore()));
    await next();
  };
}
