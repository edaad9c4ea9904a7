import { type RunnerHandle, run } from "@grammyjs/runner";
import { Api, type Bot, webhookCallback } from "grammy";
import { Hono } from "hono";
import { publishDefaultMenus } from "./bot/command-menu";
import type { AppContext, BotDeps } from "./bot/context";
import { createBot } from "./bot/create-bot";
import { type DeliveryHooks, type Feature, registerFeatureAudiences } from "./bot/feature";
import { deleteExpiredFlows } from "./bot/flows";
import { LocaleCache } from "./bot/locale-cache";
import { ChannelDirectory } from "./channels/directory";
import { isSyntheticChatId, SYNTHETIC_CHAT_ID_BASE } from "./channels/types";
import { WebchatAdapter } from "./channels/webchat/adapter";
import { WebchatHub } from "./channels/webchat/hub";
import { webchatRoutes } from "./channels/webchat/routes";
import { readWhatsAppTemplates, type WhatsAppChannel, whatsappChannel } from "./channels/whatsapp";
import { cliEndpointRoutes } from "./cli/admin-endpoint";
import { cliCommands, runCli } from "./cli/run";
import type { Config } from "./config";
import { type DatabaseHandle, openDatabase } from "./db/client";
import { lockDataDirForApp } from "./db/data-dir-lock";
import { migrate } from "./db/migrate";
import type { MessageKind } from "./db/schema";
import {
  adapterSender,
  type ChannelSettings,
  DeliveryEngine,
  setAppFileSource,
  telegramSender,
} from "./delivery";
import { features as allFeatures } from "./features";
import { announceFirstAdmin } from "./features/roles/bootstrap";
import { securityHeaders } from "./http/security-headers";
import { healthRoutes, type RunningServer, startHttpServer } from "./http/server";
import { telegramWebhookGuard } from "./http/telegram-webhook";
import { getI18n } from "./i18n";
import type { Logger } from "./logger";
import { Scheduler } from "./scheduler";

export interface AppOptions {
  config: Config;
  logger: Logger;
  /** Replaces the Bot API HTTP client (tests and benchmarks). */
  fetch?: typeof fetch;
  /** An already open database (tests); otherwise one is opened from the config. */
  database?: DatabaseHandle;
  /** Cron expressions replacing the defaults of named periodic jobs (tests run them often). */
  jobSchedules?: Record<string, string>;
  /** The features to run (default: all of src/features/index.ts). */
  features?: readonly Feature[];
  /** Replaces the HTTP client of the WhatsApp Graph API (tests). */
  whatsappFetch?: typeof fetch;
  /** Web chat event-stream ping interval (tests shorten it to reach "after a keep-alive"). */
  webchatPingMs?: number;
  /**
   * Where notices for the person running the app go (the first-admin invite). Unset: stdout when
   * the app opened its database itself, none when one was passed in (tests, benchmarks).
   */
  notices?: (text: string) => void;
}

export interface App {
  bot: Bot<AppContext>;
  database: DatabaseHandle;
  http: Hono;
  webchat: { adapter: WebchatAdapter; hub: WebchatHub };
  /** The WhatsApp channel, when WHATSAPP_* is configured. */
  whatsapp: WhatsAppChannel | undefined;
  /** The periodic jobs (delivery tick, FAQ reminders, …); started by start(). */
  scheduler: Scheduler;
  /** Starts HTTP and Telegram; resolves once both accept traffic. */
  start(): Promise<{ port: number }>;
  /** Stops taking updates, lets in-flight work finish, closes the database. */
  stop(): Promise<void>;
}

export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";
export const FLOW_CLEANUP_JOB = "conversation-cleanup";

const stdoutNotices = (text: string) => {
  process.stdout.write(text);
};

/** Every feature's scheduler hooks, by kind of outgoing message. */
function deliveryHooksOf(
  features: readonly Feature[],
  deps: BotDeps,
  api: Api,
): Partial<Record<MessageKind, DeliveryHooks>> {
  const hooks: Partial<Record<MessageKind, DeliveryHooks>> = {};
  for (const feature of features) Object.assign(hooks, feature.deliveryHooks?.(deps, api));
  return hooks;
}

/** Builds the whole application from its configuration; nothing starts until start(). */
export async function createApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  // Checked before the database opens: a bad template file stops the start at once.
  const whatsappTemplates = config.whatsapp
    ? await readWhatsAppTemplates(config.whatsapp)
    : undefined;
  // One process at a time on an embedded data folder; throws DataDirBusyError if it is taken.
  const lock = options.database
    ? undefined
    : await lockDataDirForApp(config, (other) =>
        logger.warn({ pid: other.pid }, "waiting for a command-line run on the data folder"),
      );
  const database =
    options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  await migrate(database.db);
  const features = options.features ?? allFeatures;
  registerFeatureAudiences(features);

  const directory = new ChannelDirectory(database.db);
  const hub = new WebchatHub();
  const locales = new LocaleCache();
  const deps: BotDeps = {
    db: database.db,
    config,
    logger,
    locales,
    botUsername: undefined,
    onLocaleChanged: (chatId, locale) => {
      if (!isSyntheticChatId(chatId)) return;
      const strings = getI18n().getResourceBundle(locale, "translation")?.webchat ?? {};
      hub.publish(chatId - SYNTHETIC_CHAT_ID_BASE, { type: "locale", data: { locale, strings } });
    },
    onForgotten: (chatId) => {
      locales.delete(chatId);
      directory.forget(chatId);
    },
  };
  for (const feature of features) await feature.prepare?.(deps);
  const bot = createBot({
    deps,
    features,
    token: config.botToken,
    apiRoot: config.telegramApiRoot,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    directory,
  });
  await bot.init();
  if (config.botToken) deps.botUsername = bot.botInfo.username;

  const adapter = new WebchatAdapter(database.db, hub, bot.botInfo, (update) =>
    bot.handleUpdate(update),
  );
  directory.register(adapter);
  const whatsapp =
    config.whatsapp && whatsappTemplates
      ? await whatsappChannel({
          config: config.whatsapp,
          templates: whatsappTemplates,
          db: database.db,
          logger,
          bot,
          defaultLocale: config.defaultLocale,
          ...(config.botToken
            ? {
                telegramFileRoot: `${config.telegramApiRoot ?? "https://api.telegram.org"}/file/bot${config.botToken}`,
              }
            : {}),
          ...(options.whatsappFetch ? { fetch: options.whatsappFetch } : {}),
        })
      : undefined;
  if (whatsapp) directory.register(whatsapp.adapter);

  const http = new Hono();
  http.use("*", securityHeaders(config.webchatEmbedOrigins));
  http.route(
    "/",
    healthRoutes({
      database: database.ping,
      details: () => ({
        databaseKind: database.kind,
        telegram: config.botToken ? (config.webhook ? "webhook" : "polling") : "off",
        webchatConnections: hub.connections,
        whatsapp: whatsapp ? "on" : "off",
      }),
    }),
  );
  if (config.botToken && config.webhook) {
    // The secret, a body limit and a well-formed update are checked first (telegram-webhook.ts).
    for (const guard of telegramWebhookGuard(config.webhook.secret, logger)) {
      http.use(TELEGRAM_WEBHOOK_PATH, guard);
    }
    http.post(
      TELEGRAM_WEBHOOK_PATH,
      webhookCallback(bot, "hono", { secretToken: config.webhook.secret }),
    );
  }
  http.route(
    "/",
    webchatRoutes({
      db: database.db,
      adapter,
      hub,
      directory,
      defaultLocale: config.defaultLocale,
      ...(options.webchatPingMs ? { pingEveryMs: options.webchatPingMs } : {}),
    }),
  );
  if (whatsapp) http.route("/", whatsapp.routes);
  for (const feature of features) {
    const routes = feature.routes?.(deps);
    if (routes) http.route("/", routes);
  }
  // A message's photo may be a path of these routes (a poll's chart): uploaded from here.
  setAppFileSource((path) => http.request(path));
  if (lock?.info.token) {
    // `npm run cli` beside the app runs its commands here, on this process's open database.
    const cliDatabase = async () => database;
    http.route(
      "/",
      cliEndpointRoutes({
        token: lock.info.token,
        logger,
        run: (argv, io) =>
          runCli(cliCommands(features), argv, { config, logger, database: cliDatabase, ...io }),
      }),
    );
  }

  // Every proactive message goes through the durable delivery engine; the scheduler wakes it.
  const channels: ChannelSettings[] = [{ channel: "web", sender: adapterSender(adapter) }];
  if (config.botToken) {
    // Its own Api without auto-retry: the engine paces itself and handles 429 for all processes.
    const api = new Api(config.botToken, {
      ...(config.telegramApiRoot ? { apiRoot: config.telegramApiRoot } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      timeoutSeconds: 20,
    });
    channels.push({ channel: "telegram", sender: telegramSender(api) });
  }
  if (whatsapp) channels.push(whatsapp.delivery);
  const engine = new DeliveryEngine(database.db, { channels, logger, listen: database.listen });
  const scheduler = new Scheduler({
    db: database.db,
    timezone: config.timezone,
    logger,
    hooks: deliveryHooksOf(features, deps, bot.api),
    retentionDays: config.retentionDays,
  });
  const runtime = { deps, scheduler, jobSchedules: options.jobSchedules ?? {} };
  for (const feature of features) feature.jobs?.(runtime);
  // Flows nobody answered for FLOW_TTL_MS are over; their stored state goes once an hour.
  scheduler.addJob(
    FLOW_CLEANUP_JOB,
    options.jobSchedules?.[FLOW_CLEANUP_JOB] ?? "0 23 * * * *",
    async () => {
      await deleteExpiredFlows(database.db);
    },
  );

  whatsapp?.addJobs(scheduler, options.jobSchedules ?? {});

  let server: RunningServer | undefined;
  let runner: RunnerHandle | undefined;

  return {
    bot,
    database,
    http,
    webchat: { adapter, hub },
    whatsapp,
    scheduler,
    async start() {
      server = await startHttpServer(http, config.host, config.port, logger);
      if (config.port === 0 && config.publicUrl === `http://${config.host}:0`) {
        // PORT=0 (tests): links in messages name the port the server actually got.
        // (Changed in place: features read it from the one config object when they link.)
        config.publicUrl = `http://${config.host}:${server.port}`;
      }
      lock?.update({ http: { host: config.host, port: server.port } });
      engine.start();
      scheduler.start();
      if (config.botToken) {
        // The command menus per language; a failure (an old Bot API server) is not fatal.
        await publishDefaultMenus(bot.api, features, config.defaultLocale).catch((err: unknown) =>
          logger.warn({ err }, "telegram: command menus not published"),
        );
        if (config.webhook) {
          await bot.api.setWebhook(config.webhook.url, { secret_token: config.webhook.secret });
          logger.info("telegram: webhook mode");
        } else {
          await bot.api.deleteWebhook();
          runner = run(bot);
          logger.info({ username: bot.botInfo.username }, "telegram: long polling");
        }
      } else {
        logger.info(
          whatsapp
            ? "telegram: off (no BOT_TOKEN); the web chat and WhatsApp serve people"
            : "telegram: off (no BOT_TOKEN); the web chat is the only channel",
        );
      }
      const notices = options.notices ?? (options.database ? undefined : stdoutNotices);
      if (notices) {
        await announceFirstAdmin(database.db, {
          host: config.host,
          port: server.port,
          botUsername: deps.botUsername,
          timezone: config.timezone,
          logger,
          print: notices,
        });
      }
      return { port: server.port };
    },
    async stop() {
      // Stop taking new work first, then let what was already taken finish.
      // Open web chat streams end (their pages reconnect later); nothing holds the server open.
      hub.closeAll();
      await server?.close();
      if (runner?.isRunning()) await runner.stop();
      await adapter.drain();
      await whatsapp?.inbound.drain();
      // In-flight deliveries finish; rows not yet claimed stay pending for the next start.
      await scheduler.stop();
      await engine.stop();
      await database.close();
      lock?.release();
    },
  };
}
