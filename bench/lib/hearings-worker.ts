/**
 * A minimal app process for the hearings bench: the delivery engine and the scheduler on the
 * database in DATABASE_URL, sending through the Bot API at TELEGRAM_API_ROOT at DELIVERY_LIMIT
 * messages/s (claiming DELIVERY_BATCH_SIZE rows at a time when set), with the hearings feature's audiences registered (a reminder's audience is
 * resolved by whichever instance's scheduler starts it). Prints a JSON status line every second;
 * SIGTERM stops gracefully (in-flight sends finish).
 */
import { openDatabase } from "../../src/db/client";
import {
  createTelegramApi,
  DeliveryEngine,
  registerAudience,
  telegramSender,
} from "../../src/delivery";
import { hearingAudiences } from "../../src/features/hearings/audiences";
import { Scheduler } from "../../src/scheduler";

const url = process.env.DATABASE_URL;
const token = process.env.BOT_TOKEN;
if (!url || !token) throw new Error("worker needs DATABASE_URL and BOT_TOKEN");

for (const [kind, resolve] of Object.entries(hearingAudiences)) registerAudience(kind, resolve);

const handle = await openDatabase({ url, maxConnections: 5 });
const api = createTelegramApi({
  token,
  apiRoot: process.env.TELEGRAM_API_ROOT,
  timeoutSeconds: 10,
});
const engine = new DeliveryEngine(handle.db, {
  channels: [
    {
      channel: "telegram",
      sender: telegramSender(api),
      limitPerSecond: Number(process.env.DELIVERY_LIMIT ?? 30),
      // Unset: the engine's default (5 rows per claim).
      ...(process.env.DELIVERY_BATCH_SIZE
        ? { batchSize: Number(process.env.DELIVERY_BATCH_SIZE) }
        : {}),
    },
  ],
  leaseSeconds: Number(process.env.DELIVERY_LEASE_SECONDS ?? 15),
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

/** CPU time this process has used (user + system), ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1000);
};

const report = setInterval(() => {
  const rssMb = Math.round(process.memoryUsage().rss / 1_048_576);
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, rss_mb: rssMb, cpu_ms: cpuMs(), ...engine.counters })}\n`,
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
