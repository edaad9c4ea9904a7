import { randomUUID } from "node:crypto";
import { type RunnerHandle, run } from "@grammyjs/runner";
import { Api, type Bot, BotError } from "grammy";
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
import { WebchatRelay } from "./channels/webchat/relay";
import { webchatRoutes } from "./channels/webchat/routes";
import { readWhatsAppTemplates, type WhatsAppChannel, whatsappChannel } from "./channels/whatsapp";
import { cliEndpointRoutes } from "./cli/admin-endpoint";
import { cliCommands, runCli } from "./cli/run";
import type { Config } from "./config";
import { type DatabaseHandle, openDatabase, type Unlisten } from "./db/client";
import { lockDataDirForApp } from "./db/data-dir-lock";
import { retryWhileUnavailable } from "./db/errors";
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
import { FAQ_CHANGED_CHANNEL, faqServiceOf } from "./features/faq/service";
import { announceFirstAdmin } from "./features/roles/bootstrap";
import { httpErrorHandler } from "./http/errors";
import { securityHeaders } from "./http/security-headers";
import { healthRoutes, type RunningServer, startHttpServer } from "./http/server";
import { telegramUpdateHandler, telegramWebhookGuard } from "./http/telegram-webhook";
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
  /** The delivery engine (a test of several instances stops one instance's). */
  delivery: DeliveryEngine;
  /** Starts HTTP and Telegram; resolves once both accept traffic. */
  start(): Promise<{ port: number }>;
  /** Stops taking updates, lets in-flight work finish, closes the database. */
  stop(): Promise<void>;
}

export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";
export const FLOW_CLEANUP_JOB = "conversation-cleanup";
/** How long a web chat or polled update that met an unreachable database is tried again. */
const UPDATE_RETRY_MS = 90_000;

/**
 * A notice for the person running the app (the first-admin invite): as written on a terminal;
 * one JSON log line when stdout is not one (a supervisor's log, where every line is JSON).
 */
const stdoutNotices = (logger: Logger) => (text: string) => {
  if (process.stdout.isTTY) process.stdout.write(text);
  else logger.info({ notice: text.trim() }, "notice for the person running the app");
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
  // Where the start goes, phase by phase (ms): logged as `start-up timings` once HTTP listens
  // (npm run bench:startup prints it). `modules` is the process's time before createApp: node,
  // the TypeScript loader and every import.
  const startup: Record<string, number> = { modules: Math.round(performance.now()) };
  let phaseStarted = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    startup[name] = Math.round(now - phaseStarted);
    phaseStarted = now;
  };
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
  phase("lock");
  const database =
    options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  phase("database");
  await migrate(database.db);
  phase("migrate");
  const features = options.features ?? allFeatures;
  registerFeatureAudiences(features);

  const directory = new ChannelDirectory(database.db);
  const hub = new WebchatHub();
  // Several app instances may share one PostgreSQL (README, "Scaling out"): web chat pages and
  // replies meet across them (relay.ts), and periodic jobs run once (job-claims.ts). PGlite is
  // one process: its hub alone is the whole story.
  const instanceId = randomUUID();
  const relay =
    database.kind === "postgres"
      ? new WebchatRelay(database.db, hub, { instanceId, logger })
      : undefined;
  let unlistenFaq: Unlisten | undefined;
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
      void hub.deliver(chatId - SYNTHETIC_CHAT_ID_BASE, {
        type: "locale",
        data: { locale, strings },
      });
    },
    onForgotten: (chatId) => {
      locales.delete(chatId);
      directory.forget(chatId);
    },
  };
  for (const feature of features) {
    await feature.prepare?.(deps);
    phase(`prepare_${feature.name}`);
  }
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
  phase("bot");

  // A web chat message is stored before the bot sees it: should the database go away in between,
  // the update is handled again once it answers (the person still gets the answer), and any other
  // failure goes where Telegram's polling sends it (bot.catch: logged, the person told) instead
  // of becoming an unhandled rejection.
  const adapter = new WebchatAdapter(database.db, hub, bot.botInfo, (update) =>
    retryWhileUnavailable(() => bot.handleUpdate(update), UPDATE_RETRY_MS).catch(
      async (err: unknown) => {
        if (err instanceof BotError) await bot.errorHandler(err);
        else logger.error({ err }, "web chat update failed");
      },
    ),
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
  // A request that throws: one JSON log line, and 503 while the database is unreachable.
  http.onError(httpErrorHandler(logger, config.defaultLocale));
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
    // Each update is claimed by its update_id first: a redelivery is handled once, on any instance.
    http.post(
      TELEGRAM_WEBHOOK_PATH,
      telegramUpdateHandler({
        db: database.db,
        logger,
        handle: (update) => bot.handleUpdate(update),
        onFailed: async (err) => {
          if (err instanceof BotError) await bot.errorHandler(err);
          else logger.error({ err }, "telegram update failed");
        },
      }),
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
      trustProxy: config.trustProxy,
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
    instanceId,
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
    delivery: engine,
    async start() {
      phase("wiring");
      await relay?.start(database.listen);
      // An FAQ entry published on any instance (or the command line) is found here at once.
      unlistenFaq = await database.listen(FAQ_CHANGED_CHANNEL, () =>
        faqServiceOf(database.db).changed(),
      );
      server = await startHttpServer(http, config.host, config.port, logger);
      phase("listen");
      startup.total = Math.round(performance.now());
      const cpu = process.cpuUsage();
      startup.cpu = Math.round((cpu.user + cpu.system) / 1000);
      logger.info({ startup }, "start-up timings");
      if (config.port === 0 && config.publicUrl === `http://${config.host}:0`) {
        // PORT=0 (tests): links in messages name the port the server actually got.
        // (Changed in place: features read it from the one config object when they link.)
        config.publicUrl = `http://${config.host}:${server.port}`;
      }
      lock?.update({ http: { host: config.host, port: server.port } });
      engine.start();
      scheduler.start();
      if (config.botToken) {
        // The command menus per language, in the background: nobody waits on a round trip to
        // Telegram for them; a failure (an old Bot API server) is logged, not fatal.
        void publishDefaultMenus(bot.api, features, config.defaultLocale).catch((err: unknown) =>
          logger.warn({ err }, "telegram: command menus not published"),
        );
        if (config.webhook) {
          await bot.api.setWebhook(config.webhook.url, { secret_token: config.webhook.secret });
          logger.info("telegram: webhook mode");
        } else {
          await bot.api.deleteWebhook();
          // The runner moves its offset past an update once fetched: one that meets an
          // unreachable database is held and handled again once it answers (as web chat
          // updates are), instead of going with the outage.
          runner = run({
            init: () => bot.init(),
            api: bot.api,
            handleUpdate: (update) =>
              retryWhileUnavailable(() => bot.handleUpdate(update), UPDATE_RETRY_MS),
            errorHandler: (err: BotError<AppContext>) => bot.errorHandler(err),
          });
          logger.info({ username: bot.botInfo.username }, "telegram: long polling");
        }
      } else {
        logger.info(
          whatsapp
            ? "telegram: off (no BOT_TOKEN); the web chat and WhatsApp serve people"
            : "telegram: off (no BOT_TOKEN); the web chat is the only channel",
        );
      }
      const notices = options.notices ?? (options.database ? undefined : stdoutNotices(logger));
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
      await relay?.stop();
      await unlistenFaq?.().catch(() => {});
      await database.close();
      lock?.release();
    },
  };
}
