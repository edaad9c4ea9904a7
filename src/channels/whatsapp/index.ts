import type { Bot, Context } from "grammy";
import type { WhatsAppConfig } from "../../config";
import { ConfigError } from "../../config";
import type { Database } from "../../db/client";
import type { ChannelSettings } from "../../delivery";
import type { Locale } from "../../locales";
import type { Scheduler } from "../../scheduler";
import { WhatsAppAdapter } from "./adapter";
import { WhatsAppClient } from "./client";
import { WhatsAppInbound } from "./inbound";
import { type TelegramFileSource, WhatsAppMedia } from "./media";
import { whatsappRoutes } from "./routes";
import { whatsappSender } from "./sender";
import { loadTemplates, TemplateFileError, WhatsAppTemplates } from "./templates";

export { WHATSAPP_WEBHOOK_PATH } from "./routes";

/** Periodic jobs of the channel (names, for tests that run them often). */
export const WHATSAPP_RECOVER_JOB = "whatsapp-inbox-recover";
export const WHATSAPP_PRUNE_JOB = "whatsapp-inbox-prune";

interface ChannelLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WhatsAppChannel {
  adapter: WhatsAppAdapter;
  inbound: WhatsAppInbound;
  templates: WhatsAppTemplates;
  /** The webhook (GET handshake, POST notifications). */
  routes: ReturnType<typeof whatsappRoutes>;
  /** The delivery engine's settings for the channel (rate, sender). */
  delivery: ChannelSettings;
  addJobs(scheduler: Scheduler, schedules: Record<string, string>): void;
}

/** Fetches a Telegram file_id's bytes (a photo staff attached on Telegram) for re-upload. */
function telegramFiles<C extends Context>(bot: Bot<C>, fileRoot: string): TelegramFileSource {
  return async (fileId) => {
    const file = await bot.api.getFile(fileId);
    if (!file.file_path) throw new Error("Telegram gave no path for the file");
    const response = await fetch(`${fileRoot}/${file.file_path}`);
    if (!response.ok) throw new Error(`Telegram file download answered HTTP ${response.status}`);
    return {
      bytes: new Uint8Array(await response.arrayBuffer()),
      mimeType: response.headers.get("content-type") ?? "application/octet-stream",
      filename: file.file_path.split("/").pop() ?? "file",
    };
  };
}

/**
 * Reads and checks WHATSAPP_TEMPLATES (none: no templates). A bad file is a ConfigError, one
 * line per problem, found before anything else starts.
 */
export async function readWhatsAppTemplates(config: WhatsAppConfig): Promise<WhatsAppTemplates> {
  if (!config.templatesPath) return WhatsAppTemplates.none;
  try {
    return await loadTemplates(config.templatesPath);
  } catch (error) {
    if (error instanceof TemplateFileError) {
      throw new ConfigError(error.problems.map((p) => `Configuration error: ${p}`));
    }
    throw error;
  }
}

/**
 * Builds the WhatsApp Cloud API channel: the Graph API client, the adapter (the bot's calls out),
 * the inbound side (webhook in), the delivery sender (24-hour window and templates) and the
 * inbox jobs.
 */
export async function whatsappChannel<C extends Context>(options: {
  config: WhatsAppConfig;
  db: Database;
  logger: ChannelLogger;
  bot: Bot<C>;
  defaultLocale: Locale;
  /** `{TELEGRAM_API_ROOT}/file/bot{token}` when Telegram is on (to pass its photos on). */
  telegramFileRoot?: string;
  fetch?: typeof fetch;
  /** The checked template file (readWhatsAppTemplates). */
  templates: WhatsAppTemplates;
}): Promise<WhatsAppChannel> {
  const { config, db, logger, bot, templates } = options;
  const client = new WhatsAppClient({
    apiRoot: config.apiRoot,
    phoneNumberId: config.phoneNumberId,
    accessToken: config.accessToken,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const media = new WhatsAppMedia(
    client,
    options.telegramFileRoot ? telegramFiles(bot, options.telegramFileRoot) : undefined,
  );
  const adapter = new WhatsAppAdapter({
    db,
    client,
    media,
    botInfo: bot.botInfo,
    defaultLocale: options.defaultLocale,
    dispatch: (update) => bot.handleUpdate(update),
  });
  const inbound = new WhatsAppInbound({
    db,
    adapter,
    logger,
    hasTemplate: (kind) => templates.has(kind),
  });
  return {
    adapter,
    inbound,
    templates,
    routes: whatsappRoutes({
      appSecret: config.appSecret,
      verifyToken: config.verifyToken,
      inbound,
      logger,
    }),
    delivery: {
      channel: "whatsapp",
      sender: whatsappSender({ db, adapter, templates, logger }),
      limitPerSecond: config.rate,
    },
    addJobs(scheduler, schedules) {
      // Messages whose processing a crash cut short: taken up again within a minute.
      scheduler.addJob(
        WHATSAPP_RECOVER_JOB,
        schedules[WHATSAPP_RECOVER_JOB] ?? "*/30 * * * * *",
        async () => {
          const n = await inbound.recover();
          if (n > 0) logger.warn({ messages: n }, "whatsapp: took up messages left unprocessed");
        },
      );
      scheduler.addJob(
        WHATSAPP_PRUNE_JOB,
        schedules[WHATSAPP_PRUNE_JOB] ?? "0 40 3 * * *",
        async () => {
          const n = await inbound.prune();
          if (n > 0) logger.info({ messages: n }, "whatsapp: forgot message ids older than 7 days");
        },
      );
    },
  };
}
