/**
 * npm run bench:hearings [-- --recipients 10000] [--rate 300] [--gap-min 1] [--answer-share 0.3]
 *   [--change-share 0.25] [--going-share 0.6] [--outsiders-going 100] [--instances 1]
 *   [--blocked-share 0] [--latency 20] [--jitter 5] [--lease 15] [--max-wait-min 40] [--batch N] [--keep]
 *
 * One budget hearing published (HearingsService.publish) to N residents of one municipality
 * subscribed to "hearings", with three reminders due gap, 2·gap and 3·gap minutes after
 * publishing (start at 4·gap, offsets 3·gap, 2·gap, gap). The delivery bench's fake Bot API
 * (own process, real HTTP) and the engine are both raised to --rate messages/s (default 300;
 * Telegram's 30 would make this an hour). While it runs, a share of the residents answer going
 * / not going (HearingsService.answer, open loop, spread over the run; some change their
 * answer later), and a few unsubscribed residents answer going, which puts them in the
 * reminders' audience. Each answer's latency is measured.
 *
 * Counted from what the fake API received, per chat and outgoing message (a send is placed by
 * the channel message id the engine stored on its row, else by its text):
 *   announced / reminded: chats that got the notice / each reminder;
 *   duplicates: extra copies of one message to one chat (and sends no row accounts for);
 *   lost: chats that should have got a message and did not. The notice's audience is the
 *     subscribers; a reminder's is who was in its audience when it started: subscribers and
 *     anyone who answered going, less who answered not going. An answer whose call overlaps the
 *     moment a reminder's audience was read may count either way ("ambiguous", printed);
 *   wrong (in the JSON only when not 0): sends to someone outside the audience, e.g. a
 *     reminder to a resident who had answered not going;
 *   rate_ratio: calls counted against the limit (delivered + 403) per second of sending, over
 *     the union of each message's window [its start, its last send], against --rate (as
 *     bench/delivery.ts, whose window is [start, all done]);
 *   rsvp_p95_ms: 95th percentile of the answer calls.
 *
 * On PostgreSQL (DATABASE_URL; a fresh database is created and dropped) the engine and
 * scheduler run in --instances child app processes (bench/lib/hearings-worker.ts) and the
 * answers come from this process, as from a bot process; on PGlite (DATABASE_URL unset) all
 * of it runs in this process on the one embedded database. The last line printed is one JSON
 * object with the results.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { type DatabaseHandle, openDatabase, rowsOf } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { type OutgoingMessageRow, outgoingMessages } from "../src/db/schema";
import {
  createTelegramApi,
  DeliveryEngine,
  getProgressMany,
  renderForRecipient,
  telegramSender,
} from "../src/delivery";
import type { RsvpAnswer } from "../src/features/hearings/schema";
import { HearingsService } from "../src/features/hearings/service";
import { CLI_ACTOR, HearingError } from "../src/features/hearings/types";
import { Scheduler } from "../src/scheduler";
import { chatHash } from "../tests/fixtures/fake-bot-api/server";
import { machineLine, percentile } from "./lib/machine";
import { rng } from "./lib/random";
import type { SentMessage } from "./lib/recording-bot-api";

const { values: args } = parseArgs({
  options: {
    recipients: { type: "string", default: "10000" },
    rate: { type: "string", default: "300" },
    "gap-min": { type: "string", default: "1" },
    "answer-share": { type: "string", default: "0.3" },
    "change-share": { type: "string", default: "0.25" },
    "going-share": { type: "string", default: "0.6" },
    "outsiders-going": { type: "string", default: "100" },
    instances: { type: "string", default: "1" },
    "blocked-share": { type: "string", default: "0" },
    latency: { type: "string", default: "20" },
    jitter: { type: "string", default: "5" },
    lease: { type: "string", default: "15" },
    "max-wait-min": { type: "string", default: "40" },
    /** Rows the engine claims at a time; unset: its default (5). */
    batch: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});

const RECIPIENTS = Number(args.recipients);
const RATE = Number(args.rate);
const GAP_MIN = Math.max(1, Math.round(Number(args["gap-min"])));
const INSTANCES = Number(args.instances);
const BLOCKED_SHARE = Number(args["blocked-share"]);
const OUTSIDERS = 300;
const OUTSIDERS_GOING = Math.min(OUTSIDERS, Number(args["outsiders-going"]));
const OTHER_MUNICIPALITY = 200;
const TOKEN = `123456789:${"A".repeat(35)}`;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE_ARGS = ["--import", "tsx"];
const CHAT_BASE = 1_000_000;
/** Slack around the moment a reminder's audience is read (clocks, timestamp rounding). */
const SNAPSHOT_SLACK_MS = 50;

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// ---------------------------------------------------------------------------------------------
// Database: a fresh one on the server, or in-memory PGlite.

const serverUrl = process.env.DATABASE_URL;
let dbUrl: string | undefined;
let dbName: string | undefined;
if (serverUrl) {
  dbName = `aimak_bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName} template template0 encoding 'UTF8'`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  dbUrl = u.toString();
} else if (INSTANCES > 1) {
  throw new Error("--instances needs DATABASE_URL (several processes share one database)");
}
const handle: DatabaseHandle = await openDatabase({ url: dbUrl, maxConnections: 8 });
const { db } = handle;

async function dropDatabase(): Promise<void> {
  await handle.close();
  if (serverUrl && dbName && !args.keep) {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

const children = new Set<ChildProcess>();
/** Ends the app processes and the fake API and drops the bench database: on errors and ^C. */
function abort(why: string): void {
  process.stderr.write(`${why}\n`);
  for (const c of children) c.kill("SIGKILL");
  void dropDatabase().finally(() => process.exit(1));
}
process.on("uncaughtException", (err) => abort(err.stack ?? String(err)));
process.on("SIGINT", () => abort("interrupted"));
process.on("SIGTERM", () => abort("terminated"));
await migrate(db);

// ---------------------------------------------------------------------------------------------
// Seed: N subscribed residents of municipality A; unsubscribed residents of A (some answer going
// and so join the reminders' audience); subscribers of municipality B, who must get nothing.

const seedStart = Date.now();
const region = rowsOf<{ id: number }>(
  await db.execute(sql`insert into regions (code, kind, name_ky, name_ru)
    values ('bench', 'oblast', 'Бенч облусу', 'Бенч область') returning id`),
)[0];
const munis = rowsOf<{ id: number }>(
  await db.execute(sql`insert into municipalities (code, kind, region_id, name_ky, name_ru)
    values ('bench-a', 'aiyl_aimak', ${region?.id}, 'Бенч А', 'Бенч А'),
           ('bench-b', 'aiyl_aimak', ${region?.id}, 'Бенч Б', 'Бенч Б') returning id`),
);
const muniA = Number(munis[0]?.id);
const muniB = Number(munis[1]?.id);
await db.execute(sql`insert into users (channel, channel_user_id, chat_id, locale, municipality_id, topics)
  select 'telegram', (${CHAT_BASE} + g)::text, ${CHAT_BASE} + g,
    (array['ky','ru','en'])[1 + g % 3], ${muniA}::int, array['hearings','announcements']
  from generate_series(1, ${RECIPIENTS}) g`);
await db.execute(sql`insert into users (channel, channel_user_id, chat_id, locale, municipality_id, topics)
  select 'telegram', (g)::text, g, (array['ky','ru','en'])[1 + g % 3],
    case when g <= ${OUTSIDERS} then ${muniA}::int else ${muniB}::int end,
    case when g <= ${OUTSIDERS} then array['announcements'] else array['hearings'] end
  from generate_series(1, ${OUTSIDERS + OTHER_MUNICIPALITY}) g`);

interface Person {
  id: number;
  chatId: number;
  locale: string;
  subscribedInA: boolean;
  inA: boolean;
  blocked: boolean;
}
const people = new Map<number, Person>();
for (const r of rowsOf<Record<string, unknown>>(
  await db.execute(sql`select id, chat_id, locale, municipality_id, topics from users`),
)) {
  const chatId = Number(r.chat_id);
  const inA = Number(r.municipality_id) === muniA;
  const topics = Array.isArray(r.topics) ? (r.topics as string[]) : String(r.topics);
  people.set(Number(r.id), {
    id: Number(r.id),
    chatId,
    locale: String(r.locale),
    inA,
    subscribedInA: inA && topics.includes("hearings"),
    blocked: chatHash(chatId) < BLOCKED_SHARE,
  });
}
const byChat = new Map([...people.values()].map((p) => [p.chatId, p]));
log(
  `seeded ${RECIPIENTS} subscribed residents (+${OUTSIDERS} unsubscribed, +${OTHER_MUNICIPALITY} in another municipality) in ${Date.now() - seedStart} ms (${handle.kind})`,
);

// ---------------------------------------------------------------------------------------------
// Fake Bot API in its own process, at RATE/s.

const fake = spawn(
  process.execPath,
  [
    ...NODE_ARGS,
    "bench/lib/recording-bot-api.ts",
    "--blocked-share",
    String(BLOCKED_SHARE),
    "--latency",
    String(args.latency),
    "--jitter",
    String(args.jitter),
    "--global",
    String(RATE),
  ],
  { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
);
children.add(fake);
try {
  if (fake.pid) os.setPriority(fake.pid, -10);
} catch {}
const { apiRoot, inspect } = await new Promise<{ apiRoot: string; inspect: string }>(
  (resolve, reject) => {
    const rl = createInterface({ input: fake.stdout! });
    rl.once("line", (line) => resolve(JSON.parse(line) as { apiRoot: string; inspect: string }));
    fake.once("exit", () => reject(new Error("fake Bot API exited")));
  },
);
log(`fake Bot API at ${apiRoot} (${RATE}/s, 1/s per chat)`);

// ---------------------------------------------------------------------------------------------
// The app: child processes on PostgreSQL, in-process on PGlite. Both at RATE/s.

let maxRssMb = 0;
/** CPU time (user + system) of each app process, as last reported. */
const workerCpuMs = new Map<number, number>();
const workers = new Set<ChildProcess>();
const workersUp = new Set<number>();

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, "bench/lib/hearings-worker.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      DELIVERY_LIMIT: String(RATE),
      DELIVERY_LEASE_SECONDS: String(args.lease),
      ...(args.batch ? { DELIVERY_BATCH_SIZE: args.batch } : {}),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      const status = JSON.parse(line) as { pid: number; rss_mb: number; cpu_ms: number };
      workersUp.add(status.pid);
      maxRssMb = Math.max(maxRssMb, status.rss_mb);
      workerCpuMs.set(status.pid, status.cpu_ms);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  });
  workers.add(child);
  children.add(child);
  child.once("exit", () => {
    workers.delete(child);
    children.delete(child);
  });
  return child;
}

let inProcess: { engine: DeliveryEngine; scheduler: Scheduler } | undefined;
if (handle.kind === "postgres") {
  for (let i = 0; i < INSTANCES; i++) startWorker();
  const waitedFrom = Date.now();
  while (workersUp.size < INSTANCES) {
    if (Date.now() - waitedFrom > 120_000) throw new Error("app processes did not start");
    await sleep(100);
  }
} else {
  const api = createTelegramApi({ token: TOKEN, apiRoot, timeoutSeconds: 10 });
  const engine = new DeliveryEngine(db, {
    channels: [
      {
        channel: "telegram",
        sender: telegramSender(api),
        limitPerSecond: RATE,
        ...(args.batch ? { batchSize: Number(args.batch) } : {}),
      },
    ],
    leaseSeconds: Number(args.lease),
  });
  const scheduler = new Scheduler({ db, timezone: "Asia/Bishkek" });
  engine.start();
  scheduler.start();
  inProcess = { engine, scheduler };
}

// ---------------------------------------------------------------------------------------------
// The hearing: start at 4·gap, reminders at 3·gap, 2·gap, gap minutes before it.

const service = new HearingsService(db, {
  timezone: "Asia/Bishkek",
  publicUrl: "https://aimak.example.kg",
  defaultReminders: [10_080, 1_440, 120],
});
// A few seconds of slack for publishing itself (it enqueues the whole audience).
const startsAt = new Date(Date.now() + 4 * GAP_MIN * 60_000 + 5_000);
const hearing = await service.create(CLI_ACTOR, {
  municipalityId: muniA,
  kind: "draft_budget",
  title: {
    ky: "2027-жылдын жергиликтүү бюджетинин долбоору боюнча коомдук угуу",
    ru: "Публичные слушания по проекту местного бюджета на 2027 год",
  },
  agenda: {
    ky: "1. Бюджеттин кирешелери. 2. Чыгашалар. 3. Тургундардын сунуштары.",
    ru: "1. Доходы бюджета. 2. Расходы. 3. Предложения жителей.",
  },
  startsAt,
  durationMin: 120,
  place: { ky: "Айыл өкмөтүнүн чоң залы", ru: "Большой зал айыл окмоту" },
  onlineUrl: "https://meet.example.kg/budget-2027",
  documents: [{ kind: "link", url: "https://budget.minfin.kg/", title: "Жарандык бюджет" }],
  reminderOffsets: [3 * GAP_MIN, 2 * GAP_MIN, GAP_MIN],
});

const t0 = Date.now();
const cpuAtT0 = process.cpuUsage();
await service.publish(CLI_ACTOR, hearing.id);
const publishMs = Date.now() - t0;
log(
  `published hearing ${hearing.id} in ${publishMs} ms; reminders due ${GAP_MIN}, ${2 * GAP_MIN}, ${3 * GAP_MIN} min after, start at ${4 * GAP_MIN} min (${INSTANCES} instance(s), ${RATE}/s)`,
);

// ---------------------------------------------------------------------------------------------
// Residents answer while it runs: open loop (each at its own time, not waiting for the others).

const random = rng(20261201);
const subscribed = [...people.values()].filter((p) => p.subscribedInA && !p.blocked);
for (let i = subscribed.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [subscribed[i], subscribed[j]] = [subscribed[j]!, subscribed[i]!];
}
const answerers = subscribed.slice(0, Math.round(RECIPIENTS * Number(args["answer-share"])));
const outsidersGoing = [...people.values()]
  .filter((p) => p.inA && !p.subscribedInA && !p.blocked)
  .slice(0, OUTSIDERS_GOING);
/** Answers end well before the start (answers are refused once it has started). */
const windowMs = Math.min(3 * GAP_MIN * 60_000 + 30_000, 4 * GAP_MIN * 60_000 - 15_000);

interface AnswerEvent {
  value: RsvpAnswer;
  /** Wall clock around the call: its commit lies in between. */
  begin: number;
  end: number;
  ok: boolean;
}
const answerLog = new Map<number, AnswerEvent[]>();
const latencies: number[] = [];
const refusals = new Map<string, number>();

async function answerAt(person: Person, at: number, value: RsvpAnswer): Promise<void> {
  await sleep(t0 + at - Date.now());
  const begin = Date.now();
  const started = performance.now();
  let ok = true;
  try {
    await service.answer(person.id, hearing.id, value);
  } catch (err) {
    ok = false;
    const code = err instanceof HearingError ? err.code : String(err);
    refusals.set(code, (refusals.get(code) ?? 0) + 1);
  }
  latencies.push(performance.now() - started);
  const events = answerLog.get(person.id) ?? [];
  events.push({ value, begin, end: Date.now(), ok });
  answerLog.set(person.id, events);
}

let changes = 0;
const answering = Promise.all([
  ...answerers.map(async (p) => {
    const first: RsvpAnswer = random() < Number(args["going-share"]) ? "going" : "not_going";
    const at = 1_000 + random() * (windowMs - 1_000);
    const change = random() < Number(args["change-share"]);
    const later = at + random() * (windowMs - at);
    if (change) changes++;
    await answerAt(p, at, first);
    if (change) await answerAt(p, later, first === "going" ? "not_going" : "going");
  }),
  ...outsidersGoing.map((p) => answerAt(p, 1_000 + random() * (windowMs - 1_000), "going")),
]);
let answersDone = false;
void answering.then(() => {
  answersDone = true;
});
log(
  `${answerers.length} residents answer (${changes} change their answer later), ${outsidersGoing.length} unsubscribed residents answer going, over ${(windowMs / 1000).toFixed(0)} s`,
);

// ---------------------------------------------------------------------------------------------
// Wait until the notice and the three reminders have ended (or the hearing has started).

async function hearingMessages(): Promise<OutgoingMessageRow[]> {
  return db
    .select()
    .from(outgoingMessages)
    .where(eq(outgoingMessages.municipalityId, muniA))
    .orderBy(outgoingMessages.id);
}

let lastLine = 0;
let messages: OutgoingMessageRow[] = [];
/** When this loop first saw a message started: its audience had been read (committed) by then. */
const seenStarted = new Map<number, number>();
for (;;) {
  await sleep(1_000);
  messages = await hearingMessages();
  for (const m of messages) {
    if (m.status !== "scheduled" && !seenStarted.has(m.id)) seenStarted.set(m.id, Date.now());
  }
  const reminders = messages.filter((m) => m.kind === "hearing_reminder");
  const ended = messages.every((m) => m.status === "done" || m.status === "cancelled");
  if (Date.now() - lastLine > 10_000) {
    lastLine = Date.now();
    const progress = await getProgressMany(
      db,
      messages.map((m) => m.id),
    );
    const parts = messages.map((m) => {
      const p = progress.get(m.id);
      return `${m.kind === "hearing_notice" ? "notice" : "reminder"} ${m.status} ${p?.sent ?? 0}/${p?.total ?? 0}`;
    });
    log(
      `${((Date.now() - t0) / 1000).toFixed(0)} s: ${parts.join(", ")}; answers ${latencies.length}`,
    );
  }
  if (reminders.length >= 3 && ended && answersDone) break;
  if (Date.now() > startsAt.getTime() + Number(args["max-wait-min"]) * 60_000) {
    log(
      `not every message ended ${args["max-wait-min"]} min after the start: counting what there is`,
    );
    break;
  }
}
await answering;
const runSeconds = (Date.now() - t0) / 1000;
// The app's CPU time: the app processes' own (PostgreSQL), or all of this process (PGlite: the
// engine, the scheduler, the answers and the embedded database share it).
const appCpuSeconds = inProcess
  ? (() => {
      const { user, system } = process.cpuUsage(cpuAtT0);
      return (user + system) / 1e6;
    })()
  : [...workerCpuMs.values()].reduce((a, b) => a + b, 0) / 1000;

// ---------------------------------------------------------------------------------------------
// Count: every send the fake API accepted, placed on (outgoing message, chat).

const sent = (await (await fetch(`${inspect}/sent`)).json()) as SentMessage[];
const serverStats = (await (await fetch(`${apiRoot}/__stats`)).json()) as {
  http403: number;
  http429: number;
  maxInOneSecond: number;
};

const rows = rowsOf<Record<string, unknown>>(
  await db.execute(sql`select d.message_id, d.user_id, d.status, d.channel_message_id
    from deliveries d join outgoing_messages m on m.id = d.message_id
    where m.municipality_id = ${muniA}`),
);
/** "chat:channelMessageId" → outgoing message id, for rows the engine recorded as sent. */
const rowBySend = new Map<string, number>();
/** Outgoing messages that have a row for a chat, for sends no recorded row names. */
const rowsOfChat = new Map<number, number[]>();
const rowCount = new Map<number, number>();
for (const r of rows) {
  const person = people.get(Number(r.user_id));
  if (!person) continue;
  const messageId = Number(r.message_id);
  rowCount.set(messageId, (rowCount.get(messageId) ?? 0) + 1);
  rowsOfChat.set(person.chatId, [...(rowsOfChat.get(person.chatId) ?? []), messageId]);
  if (r.channel_message_id !== null && r.channel_message_id !== undefined) {
    rowBySend.set(`${person.chatId}:${String(r.channel_message_id)}`, messageId);
  }
}
const byId = new Map(messages.map((m) => [m.id, m]));
const textOf = (messageId: number, locale: string) => {
  const m = byId.get(messageId);
  return m ? renderForRecipient(m.content, locale).text : undefined;
};

/** "messageId:chatId" → copies received. */
const received = new Map<string, number>();
const firstSend = new Map<number, number>();
const lastSend = new Map<number, number>();
let unplaced = 0;
for (const s of sent) {
  let messageId = rowBySend.get(`${s.chatId}:${s.messageId}`);
  if (messageId === undefined) {
    // A send whose row was not recorded as sent (a lost lease, a crash): its text tells which
    // message it was; of several with that text, the one this chat has fewest copies of.
    const person = byChat.get(s.chatId);
    const candidates = (rowsOfChat.get(s.chatId) ?? []).filter(
      (id) => person && textOf(id, person.locale) === s.text,
    );
    candidates.sort(
      (a, b) => (received.get(`${a}:${s.chatId}`) ?? 0) - (received.get(`${b}:${s.chatId}`) ?? 0),
    );
    messageId = candidates[0];
  }
  if (messageId === undefined) {
    unplaced++;
    continue;
  }
  const key = `${messageId}:${s.chatId}`;
  received.set(key, (received.get(key) ?? 0) + 1);
  firstSend.set(messageId, Math.min(firstSend.get(messageId) ?? s.at, s.at));
  lastSend.set(messageId, Math.max(lastSend.get(messageId) ?? s.at, s.at));
}

/** The answers a reminder's audience may have seen: committed before its read, or maybe. */
function possibleAnswers(personId: number, from: number, to: number): (RsvpAnswer | undefined)[] {
  const events = (answerLog.get(personId) ?? []).filter((e) => e.ok);
  let before: RsvpAnswer | undefined;
  const during: RsvpAnswer[] = [];
  for (const e of events) {
    if (e.end < from) before = e.value;
    else if (e.begin <= to) during.push(e.value);
  }
  return [before, ...during];
}

function inReminderAudience(p: Person, answer: RsvpAnswer | undefined): boolean {
  return !p.blocked && (p.subscribedInA || answer === "going") && answer !== "not_going";
}

let announced = 0;
let reminded = 0;
let duplicates = unplaced;
let lost = 0;
let wrong = 0;
let ambiguous = 0;
const perMessage: string[] = [];
const windows: [number, number][] = [];
for (const m of messages) {
  const isReminder = m.kind === "hearing_reminder";
  const startedAt = m.startedAt?.getTime();
  // The audience was read inside the start's transaction: after started_at, and committed before
  // its first send or before this bench's loop saw it started, whichever came first.
  const from = (startedAt ?? 0) - SNAPSHOT_SLACK_MS;
  const to =
    Math.min(
      firstSend.get(m.id) ?? Number.POSITIVE_INFINITY,
      seenStarted.get(m.id) ?? Number.POSITIVE_INFINITY,
    ) + SNAPSHOT_SLACK_MS;
  let got = 0;
  let mLost = 0;
  let mWrong = 0;
  for (const p of people.values()) {
    const n = received.get(`${m.id}:${p.chatId}`) ?? 0;
    if (n > 1) duplicates += n - 1;
    if (n > 0) got++;
    const verdicts = isReminder
      ? new Set(possibleAnswers(p.id, from, to).map((a) => inReminderAudience(p, a)))
      : new Set([p.subscribedInA && !p.blocked]);
    if (verdicts.size > 1) {
      ambiguous++;
      continue;
    }
    const expected = verdicts.has(true);
    // A message that never started (cancelled, e.g. expired) owed its whole audience.
    if (expected && n === 0) mLost++;
    if (!expected && n > 0) mWrong++;
  }
  lost += mLost;
  wrong += mWrong;
  if (isReminder) reminded += got;
  else announced += got;
  const last = lastSend.get(m.id);
  if (startedAt !== undefined && last !== undefined) windows.push([startedAt, last]);
  const seconds = startedAt !== undefined && last !== undefined ? (last - startedAt) / 1000 : 0;
  const due = m.scheduledAt ? `due +${((m.scheduledAt.getTime() - t0) / 1000).toFixed(0)} s, ` : "";
  const began =
    startedAt !== undefined ? `started +${((startedAt - t0) / 1000).toFixed(1)} s, ` : "";
  perMessage.push(
    `${isReminder ? "reminder" : "notice"} ${m.id} (${m.status}): ${due}${began}${rowCount.get(m.id) ?? 0} rows, ${got} received in ${seconds.toFixed(1)} s, lost ${mLost}, wrong ${mWrong}`,
  );
}

// Sending time: the union of the messages' windows (the minutes between reminders are idle).
windows.sort((a, b) => a[0] - b[0]);
let sendingMs = 0;
let coveredTo = 0;
for (const [from, to] of windows) {
  const start = Math.max(from, coveredTo);
  if (to > start) sendingMs += to - start;
  coveredTo = Math.max(coveredTo, to);
}
const calls = sent.length + serverStats.http403;
const rate = sendingMs > 0 ? calls / (sendingMs / 1000) : 0;
const rateRatio = rate / RATE;
latencies.sort((a, b) => a - b);
const p95 = percentile(latencies, 95);

if (inProcess) {
  await inProcess.scheduler.stop();
  await inProcess.engine.stop();
  maxRssMb = Math.round(process.memoryUsage().rss / 1_048_576);
}
for (const w of workers) w.kill("SIGTERM");
await Promise.all([...workers].map((w) => new Promise((r) => w.once("exit", r))));
fake.kill("SIGTERM");
await dropDatabase();

log("");
log(
  `${machineLine()}, ${handle.kind}, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
log(
  `mode: ${handle.kind === "postgres" ? `${INSTANCES} app process(es)` : "in-process"}; engine and fake Bot API at ${RATE}/s, ${args.batch ?? "the default number of"} rows per claim; latency ${args.latency}±${args.jitter} ms, ${BLOCKED_SHARE * 100} % blocked`,
);
for (const line of perMessage) log(line);
log(
  `announced ${announced}, reminded ${reminded}, duplicates ${duplicates} (unplaced sends ${unplaced}), lost ${lost}, wrong ${wrong}, ambiguous ${ambiguous} (answers overlapping the moment an audience was read)`,
);
log(
  `${calls} calls in ${(sendingMs / 1000).toFixed(1)} s of sending: ${rate.toFixed(1)}/s against ${RATE}/s (ratio ${rateRatio.toFixed(3)}); server saw at most ${serverStats.maxInOneSecond} in one rolling second; 429s: ${serverStats.http429}`,
);
log(
  `answers: ${latencies.length} calls, p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${(latencies.at(-1) ?? 0).toFixed(1)} ms; refused ${[...refusals].map(([c, n]) => `${c} ${n}`).join(", ") || "none"}; rss ${maxRssMb} MB`,
);
log(
  `app CPU: ${appCpuSeconds.toFixed(1)} s in ${runSeconds.toFixed(0)} s (${((100 * appCpuSeconds) / runSeconds).toFixed(0)} % of one core), ${((1000 * appCpuSeconds) / Math.max(1, calls)).toFixed(2)} ms per send${inProcess ? " (with the embedded database and the answers)" : " (without PostgreSQL's own)"}`,
);
log(
  JSON.stringify({
    recipients: RECIPIENTS,
    announced,
    reminded,
    duplicates,
    lost,
    rate_ratio: Number(rateRatio.toFixed(3)),
    rsvp_p95_ms: Number(p95.toFixed(1)),
    ...(wrong > 0 ? { wrong } : {}),
  }),
);
process.exit(0);
