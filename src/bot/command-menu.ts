import { eq } from "drizzle-orm";
import type { Api, MiddlewareFn } from "grammy";
import type { BotCommand } from "grammy/types";
import { isSyntheticChatId } from "../channels/types";
import type { Database } from "../db/client";
import { type Role, users } from "../db/schema";
import { translator } from "../i18n";
import { LOCALES, type Locale } from "../locales";
import type { Logger } from "../logger";
import type { AppContext } from "./context";
import type { Feature, FeatureCommand } from "./feature";

/**
 * Telegram's command menus, from the features' command lists. Everyone gets the citizen's
 * commands in their app's language (one menu per language); a person with roles gets, in their
 * chat, the menu of those roles too, set when their roles change and taken away when they go.
 */

/** The commands a person with `roles` may use, in the order of the feature list. */
export function commandsFor(
  features: readonly Feature[],
  roles: readonly Role[],
): FeatureCommand[] {
  return features
    .flatMap((f) => f.commands ?? [])
    .filter((c) => !c.roles || c.roles.some((r) => roles.includes(r)));
}

function botCommands(commands: readonly FeatureCommand[], locale: Locale): BotCommand[] {
  const t = translator(locale);
  return commands.map((c) => ({ command: c.command, description: t(c.description) }));
}

/** The default menus: the citizen's commands, per language, and for any other language. */
export async function publishDefaultMenus(
  api: Api,
  features: readonly Feature[],
  defaultLocale: Locale,
): Promise<void> {
  const commands = commandsFor(features, []);
  for (const locale of LOCALES) {
    await api.setMyCommands(botCommands(commands, locale), { language_code: locale });
  }
  await api.setMyCommands(botCommands(commands, defaultLocale));
}

/** What a person's menu is keyed by: their distinct roles ("" for none). */
export function menuKey(roles: readonly { role: Role }[]): string {
  return [...new Set(roles.map((r) => r.role))].sort().join(",");
}

/**
 * Keeps a Telegram person's own menu in line with their roles: on an update whose person's
 * roles differ from what their menu was last set for, sets it (or removes it, back to the
 * default) and remembers it. Runs after the update, so a grant or revoke is reflected at the
 * person's next message; failures are logged, never shown.
 */
export function commandMenuMiddleware(deps: {
  db: Database;
  logger: Logger;
  features?: readonly Feature[];
}): MiddlewareFn<AppContext> {
  return async (ctx, next) => {
    await next();
    const user = ctx.user;
    if (!user || isSyntheticChatId(user.chatId)) return;
    const roles = ctx.roles.map((r) => r.role);
    const key = menuKey(ctx.roles);
    if ((user.commandMenu ?? "") === key) return;
    const scope = { type: "chat" as const, chat_id: user.chatId };
    try {
      if (key === "") await ctx.api.deleteMyCommands({ scope });
      else
        await ctx.api.setMyCommands(
          botCommands(commandsFor(deps.features ?? [], roles), ctx.locale),
          {
            scope,
          },
        );
      await deps.db.update(users).set({ commandMenu: key }).where(eq(users.id, user.id));
    } catch (err) {
      deps.logger.warn({ err, chatId: user.chatId }, "command menu not updated");
    }
  };
}
