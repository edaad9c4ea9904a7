import type { Conversation, ConversationFlavor } from "@grammyjs/conversations";
import type { Context } from "grammy";
import type { Config, Locale } from "../config";
import type { Database } from "../db/client";
import type { Role, UserRow } from "../db/schema";
import type { FaqService } from "../features/faq/service";
import type { TFunction } from "../i18n";
import type { Logger } from "../logger";
import type { LocaleCache } from "./locale-cache";

/** A role the person holds, with the municipality it applies to (none for lawyers/admins). */
export interface RoleGrant {
  role: Role;
  municipalityId: number | null;
}

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
  /** The FAQ search index, shared by the bot and the app; built on first use when absent. */
  faq?: FaqService;
}

/** What every handler sees about the person behind the update. */
export interface PersonFlavor {
  user: UserRow;
  roles: RoleGrant[];
  locale: Locale;
  t: TFunction;
}

/** Context inside conversations: a fresh grammY context plus the person's language. */
export type ConvContext = Context & { locale: Locale; t: TFunction };

export type AppContext = Context & PersonFlavor & ConversationFlavor<Context & PersonFlavor>;

export type AppConversation = Conversation<AppContext, ConvContext>;
