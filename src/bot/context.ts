import type { Conversation, ConversationFlavor } from "@grammyjs/conversations";
import type { Context } from "grammy";
import type { Config } from "../config";
import type { RoleGrant } from "../core/roles";
import type { Database } from "../db/client";
import type { UserRow } from "../db/schema";
import type { TFunction } from "../i18n";
import type { Locale } from "../locales";
import type { Logger } from "../logger";
import type { Feature } from "./feature";
import type { LocaleCache } from "./locale-cache";

/** Everything handlers need besides the update: passed in once when the bot is built. */
export interface BotDeps {
  db: Database;
  config: Config;
  logger: Logger;
  locales: LocaleCache;
  /** The bot's username on Telegram, for deep links; undefined when Telegram is off. */
  botUsername: string | undefined;
  /** Told when a person picks another language (the web chat re-labels its page). */
  onLocaleChanged?: (chatId: number, locale: Locale) => void;
  /**
   * Told when a person's data was deleted (/forgetme): whatever the app keeps in memory about
   * that chat (its language, its channel) goes too.
   */
  onForgotten?: (chatId: number) => void;
  /** Every feature of the app, in order (/help and the command menus read their lines). */
  features?: readonly Feature[];
}

/** What every handler sees about the person behind the update. */
export interface PersonFlavor {
  user: UserRow;
  roles: RoleGrant[];
  locale: Locale;
  t: TFunction;
  /** This update's logger: each line carries updateId, chatId and channel (see updateLogger). */
  log: Logger;
}

/** Context inside conversations: a fresh grammY context plus the person's language and logger. */
export type ConvContext = Context & { locale: Locale; t: TFunction; log: Logger };

export type AppContext = Context & PersonFlavor & ConversationFlavor<Context & PersonFlavor>;

export type AppConversation = Conversation<AppContext, ConvContext>;
