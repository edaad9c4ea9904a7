import type { MiddlewareFn } from "grammy";
import { isSyntheticChatId } from "../../channels/types";
import { findOrCreateTelegramPerson, findPersonByChatId } from "../../features/users/service";
import { resolveLocale, translator } from "../../i18n";
import type { AppContext, BotDeps } from "../context";

/**
 * Loads the person behind the update (creating Telegram users on first contact) with their
 * roles, and picks the language to answer in. Updates without a person (channel posts,
 * polls) stop here.
 */
export function personMiddleware(deps: BotDeps): MiddlewareFn<AppContext> {
  return async (ctx, next) => {
    const from = ctx.from;
    if (!from || from.is_bot) return;
    const person = isSyntheticChatId(from.id)
      ? await findPersonByChatId(deps.db, from.id)
      : await findOrCreateTelegramPerson(deps.db, from.id, from.first_name);
    if (!person) return;
    ctx.user = person.user;
    ctx.roles = person.roles;
    ctx.locale = resolveLocale(person.user.locale, from.language_code, deps.config.defaultLocale);
    ctx.t = translator(ctx.locale);
    deps.locales.set(from.id, ctx.locale);
    await next();
  };
}
