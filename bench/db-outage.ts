/**
 * npm run bench:db-outage [-- --down-seconds 60] [--web 8] [--telegram 8] [--recipients 2400]
 *   [--warmup-seconds 10] [--app-log /tmp/outage-app]
 *
 * A database outage, for real: a throw-away PostgreSQL cluster (tests/helpers/pg-cluster.ts)
 * serves the app, run as its own process (`node --import tsx src/main.ts`, Telegram in webhook
 * mode against a fake Bot API in this process). Web chat sessions and Telegram senders write
 * (`/help`, each waiting for the bot's reply) while a broadcast runs; then the server is stopped
 * (pg_ctl -m fast) for --down-seconds and started again.
 *
 * The clients behave as real ones: the web chat page keeps the text and sends it again after a
 * 503 / 5xx / network error; Telegram delivers a webhook update again (same update_id) after a
 * 5xx. At the end it counts what was lost: a message or update never taken, or taken but never
 * answered. It also reads the app's output: every stdout line must be JSON, stderr must be empty,
 * and no line may hold a web chat cookie or its hash.
 *
 * Last line, one JSON object: {"down_s","sent","answered_503","answered_5xx","retried_ok","lost",
 * "recovered_after_s","writes_recovered_after_s","healthz_during","healthz_reason",
 * "healthz_max_ms","broadcast_delivered","broadcast_total","broadcast_duplicates",
 * "non_json_log_lines","stderr_lines","secrets_in_log"}.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { openDatabase, rowsOf } from "../src/db/client";
import {
  createOutgoingMessage,
  enqueueAudience,
  getMessageProgress,
  startMessage,
} from "../src/delivery";
import { FakeBotApi } from "../tests/fixtures/fake-bot-api/server";
import { startPgCluster } from "../tests/helpers/pg-cluster";
import { type AppProcess, startRunningApp } from "../tests/helpers/process";
import { machineLine } from "./lib/machine";

const { values: args } = parseArgs({
  options: {
    "down-seconds": { type: "string", default: "60" },
    web: { type: "string", default: "8" },
    telegram: { type: "string", default: "8" },
    recipients: { type: "string", default: "2400" },
    "warmup-seconds": { type: "string", default: "10" },
    /** Where to write the app's stdout and stderr (FILE.out, FILE.err) for a look afterwards. */
    "app-log": { type: "string" },
  },
});
const DOWN_S = Number(args["down-seconds"]);
const WEB = Number(args.web);
const TELEGRAM = Number(args.telegram);
const RECIPIENTS = Number(args.recipients);
const WARMUP_MS = Number(args["warmup-seconds"]) * 1000;
/** How long a client waits for the bot's reply before it counts the message as lost. */
const REPLY_DEADLINE_MS = 60_000;
const SECRET = "db-outage-bench-secret-0123456789";
const BROADCAST_FIRST_CHAT = 7_000_000_000;
const SENDER_FIRST_CHAT = 8_000_000_000;

const log = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// What the clients saw.

const counts = { sent: 0, answered503: 0, answered5xx: 0, networkErrors: 0, retriedOk: 0, lost: 0 };
const lostWhy: string[] = [];
let stopWriting = false;
let downAt = 0;
let upAt = 0;
let firstWriteAfterUp = 0;

function noteTaken(retried: boolean): void {
  if (retried) counts.retriedOk += 1;
  if (upAt && !firstWriteAfterUp) firstWriteAfterUp = Date.now();
}

/** One status the server answered a write with (undefined: no answer at all). */
function noteFailure(status: number | undefined): void {
  if (status === undefined) counts.networkErrors += 1;
  else if (status === 503) counts.answered503 += 1;
  else if (status >= 500) counts.answered5xx += 1;
}

// ---------------------------------------------------------------------------------------------
// The web chat, as the page does it.

interface WebSession {
  cookie: string;
  csrf: string;
}

async function webSession(base: string): Promise<WebSession> {
  for (;;) {
    const res = await fetch(`${base}chat/session`, { method: "POST" }).catch(() => undefined);
    if (res?.ok) {
      const cookie = /aimak_chat=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1] ?? "";
      const body = (await res.json()) as { csrf: string };
      return { cookie, csrf: body.csrf };
    }
    await sleep(1000);
  }
}

type View = { id: number; fromBot: boolean };

async function webHistory(base: string, s: WebSession): Promise<View[] | undefined> {
  const res = await fetch(`${base}chat/history`, {
    headers: { cookie: `aimak_chat=${s.cookie}` },
  }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { messages: View[] }).messages;
}

async function webWriter(base: string, s: WebSession, n: number): Promise<void> {
  let i = 0;
  while (!stopWriting) {
    i += 1;
    const text = i === 1 ? "/start" : "/help";
    counts.sent += 1;
    let retried = false;
    let myId: number | undefined;
    const started = Date.now();
    // The page: the text stays in the composer after a failed send, and is sent again.
    while (myId === undefined) {
      const res = await fetch(`${base}chat/send`, {
        method: "POST",
        headers: {
          cookie: `aimak_chat=${s.cookie}`,
          "content-type": "application/json",
          "x-aimak-csrf": s.csrf,
          "x-aimak-locale": "ru",
        },
        body: JSON.stringify({ text }),
      }).catch(() => undefined);
      if (res?.status === 202) {
        myId = ((await res.json()) as { message: { id: number } }).message.id;
        break;
      }
      noteFailure(res?.status);
      if (res && res.status < 500) {
        lostWhy.push(`web ${n}: ${res.status} ${await res.text()}`);
        break;
      }
      await res?.body?.cancel();
      retried = true;
      if (Date.now() - started > (DOWN_S + 120) * 1000) break;
      await sleep(1000);
    }
    if (myId === undefined) {
      counts.lost += 1;
      lostWhy.push(`web ${n}: message ${i} never taken`);
      continue;
    }
    noteTaken(retried);
    // The person waits for the answer (the page would get it over the event stream).
    const asked = Date.now();
    let answered = false;
    while (Date.now() - asked < REPLY_DEADLINE_MS + DOWN_S * 1000) {
      const history = await webHistory(base, s);
      if (history?.some((m) => m.fromBot && m.id > (myId as number))) {
        answered = true;
        break;
      }
      await sleep(500);
    }
    if (!answered) {
      counts.lost += 1;
      lostWhy.push(`web ${n}: message ${myId} (${text}) got no reply`);
    }
    await sleep(800);
  }
}

// ---------------------------------------------------------------------------------------------
// Telegram: webhook updates, delivered again after a 5xx as Telegram does.

let updateSerial = 1_000;

async function telegramWriter(base: string, fake: FakeBotApi, n: number): Promise<void> {
  const chatId = SENDER_FIRST_CHAT + n;
  let i = 0;
  while (!stopWriting) {
    i += 1;
    const update = {
      update_id: ++updateSerial,
      message: {
        message_id: i,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: "private", first_name: `Sender ${n}` },
        from: { id: chatId, is_bot: false, first_name: `Sender ${n}`, language_code: "ru" },
        text: i === 1 ? "/start" : "/help",
        ...(i >= 1
          ? { entities: [{ type: "bot_command", offset: 0, length: i === 1 ? 6 : 5 }] }
          : {}),
      },
    };
    counts.sent += 1;
    const before = fake.receivedBy(chatId);
    let retried = false;
    let taken = false;
    const started = Date.now();
    while (!taken) {
      const res = await fetch(`${base}telegram/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
        body: JSON.stringify(update),
      }).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.status === 200) {
        taken = true;
        break;
      }
      noteFailure(res?.status);
      if (res && res.status < 500) {
        lostWhy.push(`telegram ${n}: update ${update.update_id} refused with ${res.status}`);
        break;
      }
      retried = true;
      if (Date.now() - started > (DOWN_S + 120) * 1000) break;
      // Telegram waits a little longer each time; a second is on the eager side.
      await sleep(1000);
    }
    if (!taken) {
      counts.lost += 1;
      lostWhy.push(`telegram ${n}: update ${update.update_id} never taken`);
      continue;
    }
    noteTaken(retried);
    const asked = Date.now();
    while (fake.receivedBy(chatId) <= before && Date.now() - asked < REPLY_DEADLINE_MS) {
      await sleep(200);
    }
    if (fake.receivedBy(chatId) <= before) {
      counts.lost += 1;
      lostWhy.push(`telegram ${n}: update ${update.update_id} got no reply`);
    }
    await sleep(800);
  }
}

// ---------------------------------------------------------------------------------------------

const cluster = await startPgCluster();
/** The fake Bot API, plus the calls without a chat that the app makes at start in webhook mode. */
class WebhookFakeBotApi extends FakeBotApi {
  override answer(method: string, payload: Record<string, unknown>) {
    if (
      payload.chat_id === undefined &&
      /^(setWebhook|deleteWebhook|setMyCommands)$/.test(method)
    ) {
      return { status: 200, body: { ok: true, result: true } };
    }
    return super.answer(method, payload);
  }
}
const fake = new WebhookFakeBotApi({ globalPerSecond: 30, perChatMs: 0, keepMessages: false });
const apiRoot = await fake.listen();
let app: AppProcess | undefined;
let finished = false;
const cleanup = async () => {
  await app?.stop().catch(() => {});
  await fake.close().catch(() => {});
  await cluster.destroy();
};
process.on("SIGINT", () => void cleanup().finally(() => process.exit(130)));

try {
  log(`PostgreSQL (throw-away) at ${cluster.url}; fake Bot API at ${apiRoot}`);
  const appStart = Date.now();
  app = await startRunningApp({
    DATABASE_URL: cluster.url,
    DATA_DIR: "",
    BOT_TOKEN: "123456:outage-bench-0123456789abcdefghijklmn",
    TELEGRAM_API_ROOT: apiRoot,
    WEBHOOK_URL: "https://bench.example/telegram/webhook",
    WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: "info",
  });
  const base = app.url;
  log(`app up at ${base} in ${Date.now() - appStart} ms`);
  // The app must stay up through it all: if it exits, that is the result.
  const running = app;
  void running.exited.then((code) => {
    if (finished) return;
    log(`THE APP EXITED (code ${code}) during the run; its last output:`);
    log(running.log());
    process.exitCode = 1;
    stopWriting = true;
    void cleanup().finally(() => process.exit(1));
  });

  // The broadcast: RECIPIENTS Telegram residents of one municipality, at the engine's 30/s.
  const seed = await openDatabase({ url: cluster.url, maxConnections: 2 });
  const muni = rowsOf<{ id: number }>(
    await seed.db.execute(sql`select id from municipalities order by id limit 1`),
  )[0];
  if (!muni) throw new Error("no municipality seeded");
  await seed.db.execute(sql`insert into users (channel, channel_user_id, chat_id, locale, municipality_id, topics)
    select 'telegram', (${BROADCAST_FIRST_CHAT}::bigint + g)::text, ${BROADCAST_FIRST_CHAT}::bigint + g,
      'ru', ${muni.id}::int, '{announcements}'::text[]
    from generate_series(1, ${RECIPIENTS}::int) g`);
  const message = await createOutgoingMessage(seed.db, {
    kind: "announcement",
    municipalityId: muni.id,
    createdByUserId: null,
    content: { text: { ky: "Коомдук угуу 12-декабрда.", ru: "Публичные слушания 12 декабря." } },
  });
  const total = await enqueueAudience(seed.db, message.id, {
    municipalityId: muni.id,
    topic: "announcements",
  });
  await startMessage(seed.db, message.id);
  // The bench's own connection must not live through the outage.
  await seed.close();
  log(`broadcast ${message.id} to ${total} recipients started`);

  const sessions = await Promise.all(Array.from({ length: WEB }, () => webSession(base)));
  const writers = [
    ...sessions.map((s, n) => webWriter(base, s, n)),
    ...Array.from({ length: TELEGRAM }, (_, n) => telegramWriter(base, fake, n)),
  ];
  await sleep(WARMUP_MS);

  // The outage.
  const healthBefore = (await fetch(`${base}healthz`)).status;
  await cluster.stop();
  downAt = Date.now();
  log(`PostgreSQL stopped (healthz before: ${healthBefore}); down for ${DOWN_S} s`);
  const during: number[] = [];
  let reason = "";
  let healthMaxMs = 0;
  while (Date.now() - downAt < DOWN_S * 1000) {
    const asked = performance.now();
    const res = await fetch(`${base}healthz`).catch(() => undefined);
    healthMaxMs = Math.max(healthMaxMs, Math.round(performance.now() - asked));
    if (res) {
      during.push(res.status);
      const body = (await res.json().catch(() => ({}))) as { reason?: string };
      if (body.reason) reason = body.reason;
    } else during.push(0);
    await sleep(1000);
  }
  await cluster.start();
  upAt = Date.now();
  log(`PostgreSQL started again after ${Math.round((upAt - downAt) / 1000)} s`);
  let recoveredAt = 0;
  while (!recoveredAt) {
    if (Date.now() - upAt > 180_000) throw new Error("healthz not 200 within 180 s of the restart");
    const res = await fetch(`${base}healthz`).catch(() => undefined);
    if (res?.status === 200) recoveredAt = Date.now();
    else await sleep(100);
  }
  log(`healthz 200 again ${((recoveredAt - upAt) / 1000).toFixed(1)} s after the start`);

  // Write on for a while, then let every client finish its last message.
  await sleep(15_000);
  stopWriting = true;
  await Promise.all(writers);

  // The broadcast goes on to its end.
  const check = await openDatabase({ url: cluster.url, maxConnections: 2 });
  let progress = await getMessageProgress(check.db, message.id);
  const deadline = Date.now() + Math.max(120_000, (total / 25) * 1000);
  while (progress.sent + progress.failed + progress.skipped < total && Date.now() < deadline) {
    await sleep(1000);
    progress = await getMessageProgress(check.db, message.id);
  }
  await check.close();
  let duplicates = 0;
  for (let g = 1; g <= RECIPIENTS; g++) {
    duplicates += Math.max(0, fake.receivedBy(BROADCAST_FIRST_CHAT + g) - 1);
  }

  finished = true;
  await app.stop();
  const stdout = app.stdout();
  const stderr = app.stderr();
  if (args["app-log"]) {
    writeFileSync(`${args["app-log"]}.out`, stdout);
    writeFileSync(`${args["app-log"]}.err`, stderr);
  }
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const nonJson = lines.filter((l) => {
    try {
      return typeof JSON.parse(l) !== "object";
    } catch {
      return true;
    }
  });
  const secrets = sessions.flatMap((s) => [
    s.cookie,
    createHash("sha256").update(s.cookie).digest("hex"),
  ]);
  const leaks = `${stdout}\n${stderr}`
    .split("\n")
    .filter((l) => secrets.some((x) => l.includes(x)));
  for (const line of nonJson.slice(0, 5)) log(`non-JSON stdout: ${line.slice(0, 200)}`);
  for (const line of stderr.split("\n").slice(0, 5)) if (line) log(`stderr: ${line.slice(0, 200)}`);
  for (const why of lostWhy.slice(0, 10)) log(`lost: ${why}`);
  log(machineLine());
  process.stdout.write(
    `${JSON.stringify({
      down_s: DOWN_S,
      sent: counts.sent,
      answered_503: counts.answered503,
      answered_5xx: counts.answered5xx,
      network_errors: counts.networkErrors,
      retried_ok: counts.retriedOk,
      lost: counts.lost,
      recovered_after_s: Number(((recoveredAt - upAt) / 1000).toFixed(1)),
      writes_recovered_after_s: firstWriteAfterUp
        ? Number(((firstWriteAfterUp - upAt) / 1000).toFixed(1))
        : null,
      healthz_during: [...new Set(during)].length === 1 ? during[0] : [...new Set(during)],
      healthz_reason: reason,
      healthz_max_ms: healthMaxMs,
      broadcast_delivered: progress.sent,
      broadcast_failed: progress.failed,
      broadcast_total: total,
      broadcast_duplicates: duplicates,
      log_lines: lines.length,
      non_json_log_lines: nonJson.length,
      stderr_lines: stderr.split("\n").filter((l) => l.trim() !== "").length,
      secrets_in_log: leaks.length,
    })}\n`,
  );
} finally {
  await cleanup();
}
