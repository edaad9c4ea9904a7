import type { MiddlewareFn } from "grammy";
import { isSyntheticChatId } from "../../channels/types";
import { findOrCreateTelegramPerson } from "../../core/people";
import { resolveLocale, translator } from "../../i18n";
import { chatKey } from "../chat-key";
import type { AppContext, BotDeps } from "../context";
import { rememberConversationState } from "../conversation-storage";
import { updateStateLoader } from "../update-state";
import { reactivate } from "./chat-member";
import { channelOfChat, rememberChannel, updateLogger } from "./update-log";

/**
 * Loads the person behind the update (creating Telegram users on first contact) with their
 * roles, and picks the language to answer in. The same round trip brings the person's
 * conversation state, handed to the conversation storage. Updates without a person (channel
 * posts, polls) stop here. Gives the update its logger (`ctx.log`): set first, so that even a
 * failure here is logged with the update, and bound to the person's channel once it is known.
 */
export function personMiddleware(deps: BotDeps): MiddlewareFn<AppContext> {
  const loadUpdateState = updateStateLoader(deps.db);
  return async (ctx, next) => {
    const from = ctx.from;
    if (!from || from.is_bot) return;
    ctx.log = updateLogger(deps.logger, ctx, channelOfChat(from.id));
    const key = chatKey(ctx) ?? String(from.id);
    const state = await loadUpdateState(from.id, key);
    if (state.conversation) rememberConversationState(ctx, state.conversation.value);
    // Telegram users appear on their first update; other channels create theirs on sign-in.
    const person =
      state.person ??
      (isSyntheticChatId(from.id)
        ? undefined
        : await findOrCreateTelegramPerson(deps.db, from.id, from.first_name));
    if (!person) return;
    // Someone who blocked the bot cannot write to it: writing again means they are back.
    if (person.user.inactive && person.user.inactiveReason === "blocked") {
      await reactivate(deps.db, person.user.chatId);
      person.user.inactive = false;
      person.user.inactiveReason = null;
    }
    const channel = person.user.channel;
    if (channel !== channelOfChat(from.id)) ctx.log = updateLogger(deps.logger, ctx, channel);
    ctx.user = person.user;
    ctx.roles = person.roles;
    ctx.locale = resolveLocale(person.user.locale, from.language_code, deps.config.defaultLocale);
    ctx.t = translator(ctx.locale);
    deps.locales.set(from.id, ctx.locale);
    rememberChannel(from.id, channel);
    await next();
  };
}
