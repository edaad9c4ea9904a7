/**
 * A minimal app process for the delivery bench: the delivery engine and the scheduler on the
 * database in DATABASE_URL, sending through the Bot API at TELEGRAM_API_ROOT. Prints a JSON
 * status line every second; SIGTERM stops gracefully (in-flight sends finish).
 */
import { openDatabase } from "../../src/db/client";
import { createTelegramApi, DeliveryEngine, telegramSender } from "../../src/delivery";
import { Scheduler } from "../../src/scheduler";

const url = process.env.DATABASE_URL;
const token = process.env.BOT_TOKEN;
if (!url || !token) throw new Error("worker needs DATABASE_URL and BOT_TOKEN");

const handle = await openDatabase({ url, maxConnections: 5 });
const api = createTelegramApi({
  token,
  apiRoot: process.env.TELEGRAM_API_ROOT,
  timeoutSeconds: 10,
});
const engine = new DeliveryEngine(handle.db, {
  channels: [{ channel: "telegram", sender: telegramSender(api) }],
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
