/**
 * A minimal app process for the delivery bench: the delivery engine and the scheduler on the
 * database in DATABASE_URL, sending through the Bot API at TELEGRAM_API_ROOT (BOT_TOKEN), or with
 * BENCH_CHANNEL=whatsapp through the Graph API at WHATSAPP_API_ROOT (WHATSAPP_ACCESS_TOKEN,
 * WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TEMPLATES, WHATSAPP_RATE). Prints a JSON status line every
 * second; SIGTERM stops gracefully (in-flight sends finish).
 */
import { type Database, openDatabase } from "../../src/db/client";
import {
  type ChannelSettings,
  createTelegramApi,
  DeliveryEngine,
  telegramSender,
} from "../../src/delivery";
import { Scheduler } from "../../src/scheduler";
import { whatsappDelivery } from "./whatsapp";

const env = process.env;
const url = env.DATABASE_URL;
if (!url) throw new Error("worker needs DATABASE_URL");

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`worker needs ${name}`);
  return value;
}

function channelSettings(db: Database): ChannelSettings {
  if (env.BENCH_CHANNEL === "whatsapp") {
    return whatsappDelivery(db, {
      apiRoot: required("WHATSAPP_API_ROOT"),
      accessToken: required("WHATSAPP_ACCESS_TOKEN"),
      phoneNumberId: required("WHATSAPP_PHONE_NUMBER_ID"),
      templatesPath: required("WHATSAPP_TEMPLATES"),
      rate: Number(env.WHATSAPP_RATE ?? 80),
    });
  }
  const api = createTelegramApi({
    token: required("BOT_TOKEN"),
    apiRoot: env.TELEGRAM_API_ROOT,
    timeoutSeconds: 10,
  });
  return { channel: "telegram", sender: telegramSender(api) };
}

const handle = await openDatabase({ url, maxConnections: 5 });
const engine = new DeliveryEngine(handle.db, {
  channels: [channelSettings(handle.db)],
  leaseSeconds: Number(process.env.DELIVERY_LEASE_SECONDS ?? 15),
  // As in the app: woken at once by deliveries enqueued or started in other processes.
  listen: handle.listen,
  logger: {
    info: () => {},
    debug: () => {},
    warn: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
    error: (o, m) => process.stderr.write(`${m} ${String((o as { err?: unknown }).err)}\n`),
  },
});
const scheduler = new Scheduler({
  db: handle.db,
  timezone: process.env.TIMEZONE ?? "Asia/Bishkek",
});
engine.start();
scheduler.start();

const report = setInterval(() => {
  const rssMb = Math.round(process.memoryUsage().rss / 1_048_576);
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, rss_mb: rssMb, ...engine.counters })}\n`,
  );
}, 1_000);

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  clearInterval(report);
  void (async () => {
    await scheduler.stop();
    await engine.stop();
    await handle.close();
    process.exit(0);
  })();
});
