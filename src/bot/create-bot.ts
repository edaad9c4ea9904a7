import { autoRetry } from "@grammyjs/auto-retry";
import { conversations } from "@grammyjs/conversations";
import { sequentialize } from "@grammyjs/runner";
import { Bot, type Transformer } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { ChannelDirectory } from "../channels/directory";
import { channelFetch, channelUploadsTransformer } from "../channels/router";
import { appFilesTransformer } from "../delivery";
import { resolveLocale, translator } from "../i18n";
import { chatKey } from "./chat-key";
import { commandMenuMiddleware } from "./command-menu";
import type { AppContext, BotDeps, ConvContext } from "./context";
import { drizzleConversationStorage } from "./conversation-storage";
import { fallbackHandlers } from "./fallback";
import { type Feature, freeTextFeature } from "./feature";
import { commandsEndFlows } from "./flows";
import { chatMemberMiddleware } from "./middleware/chat-member";
import { personMiddleware } from "./middleware/person";
import { conversationLogger } from "./middleware/update-log";

export interface CreateBotOptions {
  deps: BotDeps;
  /** The app's features, in order (src/features/index.ts). */
  features: readonly Feature[];
  /** The Telegram token; without one the bot serves only the other channels. */
  token: string | undefined;
  /** Known bot identity; skips getMe (required without a token). */
  botInfo?: UserFromGetMe;
  apiRoot?: string | undefined;
  /** Replaces the HTTP client, e.g. a fake Bot API in tests and benchmarks. */
  fetch?: typeof fetch;
  directory: ChannelDirectory;
}

/** The identity the bot has when no Telegram token is configured. */
export const OFFLINE_BOT_INFO: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: "Aimak",
  username: "aimak_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
};

export function createBot(options: CreateBotOptions): Bot<AppContext> {
  const { deps, directory } = options;
  const bot = new Bot<AppContext>(options.token ?? "0:offline", {
    ...(options.botInfo || !options.token ? { botInfo: options.botInfo ?? OFFLINE_BOT_INFO } : {}),
    client: {
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      // Calls for web chat and WhatsApp chats are answered by their adapters here.
      fetch: channelFetch((chatId) => directory.adapterFor(chatId), options.fetch),
    },
  });

  // Retry Telegram's 429/5xx on interactive replies (the delivery engine paces itself instead).
  // App paths as photos and documents (a poll's chart) become uploads on Telegram chats.
  // Uploads for WhatsApp chats go to its adapter as bytes (multipart never reaches the router).
  const transformers: Transformer[] = [
    autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }),
    appFilesTransformer,
    channelUploadsTransformer((chatId) => directory.adapterFor(chatId)),
  ];
  for (const t of transformers) bot.api.config.use(t);

  bot.catch((err) => {
    const log = err.ctx.log ?? deps.logger.child({ updateId: err.ctx.update.update_id });
    log.error({ err: err.error }, "update failed");
    const ctx = err.ctx;
    if (ctx.chatId !== undefined && ctx.t) ctx.reply(ctx.t("errors.generic")).catch(() => {});
  });

  // The bot talks to people one-to-one; group chats are not part of the product.
  const pm = bot.chatType("private");
  pm.use(sequentialize(chatKey));
  // Blocked / unblocked: recorded before anything else looks at the person (and answers nothing).
  pm.use(chatMemberMiddleware(deps.db));
  pm.use(personMiddleware(deps));
  // The person's Telegram command menu follows their roles.
  pm.use(commandMenuMiddleware(deps));
  pm.use(
    conversations<AppContext, ConvContext>({
      storage: {
        type: "context",
        adapter: drizzleConversationStorage(deps.db),
      },
      // Conversations build their own Api objects (same client, so the same channel routing):
      // give them the same transformers, and the
      // person's current language (kept fresh by personMiddleware).
      plugins: [
        async (ctx, next) => {
          for (const t of transformers) ctx.api.config.use(t);
          ctx.locale =
            deps.locales.get(ctx.chatId ?? 0) ??
            resolveLocale(undefined, ctx.from?.language_code, deps.config.defaultLocale);
          ctx.t = translator(ctx.locale);
          await next();
        },
        conversationLogger(deps.logger),
      ],
    }),
  );
  // Every conversation first: a flow that waits gets the person's next message before any
  // handler (invite codes included: the flow redeems them itself). Then the handlers in the
  // order of the feature list, then the one feature that takes leftover free text.
  pm.use(commandsEndFlows());
  const { features } = options;
  deps.features = features;
  for (const feature of features) if (feature.conversations) pm.use(feature.conversations(deps));
  for (const feature of features) if (feature.handlers) pm.use(feature.handlers(deps));
  const freeText = freeTextFeature(features);
  if (freeText?.freeText) pm.use(freeText.freeText(deps));
  pm.use(fallbackHandlers());
  return bot;
}
