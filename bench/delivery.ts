/**
 * npm run bench:delivery [-- --channel telegram|whatsapp] [--recipients 10000] [--crash]
 *   [--instances 2] [--enqueue-only] [--blocked-share 0.03] [--latency 20] [--jitter 5]
 *   [--lease 15] [--keep] [--fake-throughput 80]
 *
 * Sends one announcement to N recipients through a fake platform in its own process (real HTTP):
 * - telegram (default): the fake Bot API, 30 msg/s overall and 1/s per chat enforced with 429
 *   retry_after, 403 for a share of chats (--blocked-share).
 * - whatsapp: the fake Graph API, 80 accepted messages in any second (130429 above), the 24-hour
 *   window enforced (131047); a third of the people last wrote two days ago and must get the
 *   announcement as the template of config/whatsapp-templates.example.json (bench/delivery/
 *   whatsapp.ts). Its last line adds channel, templates (rows sent as a template),
 *   templates_missing (people outside the window the fake saw no template for),
 *   outside_window_skipped, refused_130429 and max_in_one_second; lost counts people with no
 *   accepted message and duplicates people with more than one. --fake-throughput raises the
 *   fake's limit above the engine's 80/s to see how far the engine's own pace overshoots.
 * On PostgreSQL (DATABASE_URL; a fresh database is created and dropped) the engine runs in
 * child app processes (bench/delivery/worker.ts), which --crash SIGKILLs half way and restarts;
 * on PGlite (DATABASE_URL unset) it runs in this process, one instance, no crash.
 * The last line printed is one JSON object with the results. With --channel whatsapp it exits 1
 * when a target is missed (rate_ratio < 0.95, anyone lost or sent twice, anyone outside the
 * window without a template), each printed as `target missed: …` just before that line.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { type DatabaseHandle, openDatabase, rowsOf } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import {
  createOutgoingMessage,
  DeliveryEngine,
  enqueueAudience,
  getMessageProgress,
  startMessage,
} from "../src/delivery";
import { Scheduler } from "../src/scheduler";
import { createServerDatabase } from "../tests/helpers/db";
import { type ChannelBench, NODE_ARGS, ROOT } from "./delivery/channel";
import { telegramBench } from "./delivery/telegram";
import { whatsappBench } from "./delivery/whatsapp";

const { values: args } = parseArgs({
  options: {
    channel: { type: "string", default: "telegram" },
    "fake-throughput": { type: "string" },
    recipients: { type: "string", default: "10000" },
    instances: { type: "string", default: "1" },
    crash: { type: "boolean", default: false },
    "enqueue-only": { type: "boolean", default: false },
    "blocked-share": { type: "string", default: "0.03" },
    latency: { type: "string", default: "20" },
    jitter: { type: "string", default: "5" },
    lease: { type: "string", default: "15" },
    keep: { type: "boolean", default: false },
  },
});

const RECIPIENTS = Number(args.recipients);
const INSTANCES = Number(args.instances);
const OTHERS = 500;
if (args.channel !== "telegram" && args.channel !== "whatsapp") {
  throw new Error(`--channel must be telegram or whatsapp, got ${args.channel}`);
}
const bench: ChannelBench =
  args.channel === "whatsapp"
    ? whatsappBench({
        latency: String(args.latency),
        ...(args["fake-throughput"] ? { fakeThroughput: Number(args["fake-throughput"]) } : {}),
      })
    : telegramBench({
        latency: String(args.latency),
        jitter: String(args.jitter),
        blockedShare: String(args["blocked-share"]),
      });
const LIMIT = bench.limit;

const log = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Database: a fresh one on the server, or in-memory PGlite.

const serverUrl = process.env.DATABASE_URL;
let dbUrl: string | undefined;
let server: { url: string; drop: () => Promise<void> } | undefined;
if (serverUrl) {
  server = await createServerDatabase(serverUrl, "aimak_bench");
  dbUrl = server.url;
} else if (args.crash || INSTANCES > 1) {
  throw new Error("--crash and --instances need DATABASE_URL (several processes share one DB)");
}
const handle: DatabaseHandle = await openDatabase({ url: dbUrl, maxConnections: 4 });
const { db } = handle;
process.on("uncaughtException", (err) => {
  process.stderr.write(`${err.stack ?? String(err)}\n`);
  void dropDatabase().finally(() => process.exit(1));
});
await migrate(db);

async function dropDatabase(): Promise<void> {
  await handle.close();
  if (!args.keep) await server?.drop();
}

// Seed: one municipality with N subscribed residents, plus residents elsewhere and
// unsubscribed ones that the audience must not reach.
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
await bench.seed(db, {
  audienceMunicipalityId: muniA,
  otherMunicipalityId: muniB,
  recipients: RECIPIENTS,
  others: OTHERS,
});
log(
  `seeded ${RECIPIENTS} recipients (+${OTHERS} outside the audience) in ${Date.now() - seedStart} ms`,
);

const message = await createOutgoingMessage(db, {
  kind: "announcement",
  municipalityId: muniA,
  createdByUserId: null,
  content: {
    text: {
      ky: "Урматтуу тургундар! Бюджет боюнча коомдук угуу 12-декабрда саат 10:00до болот.",
      ru: "Уважаемые жители! Публичные слушания по бюджету пройдут 12 декабря в 10:00.",
    },
  },
});
const enqueueStart = performance.now();
const enqueued = await enqueueAudience(db, message.id, {
  municipalityId: muniA,
  topic: "announcements",
});
const enqueueMs = Math.round(performance.now() - enqueueStart);
log(`enqueued ${enqueued} deliveries with one INSERT … SELECT in ${enqueueMs} ms (${handle.kind})`);
if (enqueued !== RECIPIENTS) throw new Error(`enqueued ${enqueued}, expected ${RECIPIENTS}`);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${handle.kind}`;

if (args["enqueue-only"]) {
  log(`machine: ${machine}`);
  await dropDatabase();
  log(
    JSON.stringify({
      recipients: RECIPIENTS,
      enqueue_ms: enqueueMs,
      db: handle.kind,
      rss_mb: Math.round(process.memoryUsage().rss / 1_048_576),
    }),
  );
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The fake platform in its own process.

const fake = await bench.startFake();
await bench.prepare(db, fake);
log(`${bench.fakeName} at ${fake.apiRoot}`);

// ---------------------------------------------------------------------------------------------
// The app: child processes on PostgreSQL, in-process on PGlite.

let maxRssMb = 0;
const workers = new Set<ChildProcess>();
/** Each app process's last status line (its engine's counters), printed at the end. */
const lastStatus = new Map<number, Record<string, number>>();

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, "bench/delivery/worker.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      ...bench.workerEnv(fake),
      DELIVERY_LEASE_SECONDS: String(args.lease),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      const status = JSON.parse(line) as { pid: number; rss_mb: number };
      maxRssMb = Math.max(maxRssMb, status.rss_mb);
      lastStatus.set(status.pid, status);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  });
  workers.add(child);
  child.once("exit", () => workers.delete(child));
  return child;
}

let inProcess: { engine: DeliveryEngine; scheduler: Scheduler } | undefined;
if (handle.kind === "postgres") {
  for (let i = 0; i < INSTANCES; i++) startWorker();
} else {
  const engine = new DeliveryEngine(db, {
    channels: [await bench.settings(db, fake)],
    leaseSeconds: Number(args.lease),
  });
  const scheduler = new Scheduler({ db, timezone: "Asia/Bishkek" });
  engine.start();
  scheduler.start();
  inProcess = { engine, scheduler };
}

// Give the app processes a moment to connect, then start the clock.
await new Promise((r) => setTimeout(r, handle.kind === "postgres" ? 2_500 : 200));
const t0 = Date.now();
await startMessage(db, message.id);
log(`started message ${message.id} to ${RECIPIENTS} recipients with ${INSTANCES} instance(s)`);

let inFlightAtKill = 0;
let crashed = false;
let lastLine = 0;
for (;;) {
  await new Promise((r) => setTimeout(r, crashed || !args.crash ? 1_000 : 250));
  const p = await getMessageProgress(db, message.id);
  const done = p.sent + p.failed + p.skipped;
  if (args.crash && !crashed && done >= RECIPIENTS / 2) {
    const victim = [...workers][0];
    if (victim) {
      victim.kill("SIGKILL");
      await new Promise((r) => victim.once("exit", r));
      const after = await getMessageProgress(db, message.id);
      inFlightAtKill = after.sending;
      crashed = true;
      log(`SIGKILL app process at ${done}/${RECIPIENTS}: ${inFlightAtKill} rows in flight`);
      startWorker();
      log("restarted the app process");
    }
  }
  if (Date.now() - lastLine > 10_000) {
    lastLine = Date.now();
    const s = (Date.now() - t0) / 1000;
    log(
      `${s.toFixed(0)} s: ${bench.progress(p)}, left ${p.pending + p.sending}, ${(done / s).toFixed(1)}/s`,
    );
  }
  if (p.pending + p.sending === 0 && p.total === RECIPIENTS) break;
}
const finished = Date.now();

const outcome = await bench.collect(db, message.id, fake);
const { sent, skippedBlocked, failed } = outcome;
const [{ n: rowCount } = { n: 0 }] = rowsOf<{ n: number }>(
  await db.execute(sql`select count(*)::int as n from deliveries where message_id = ${message.id}`),
);
const lost = outcome.lost + RECIPIENTS - Number(rowCount);
const seconds = (finished - t0) / 1000;
// Every call that counts against the limit: delivered, and answered 403 (blocked).
const rate = (sent + skippedBlocked) / seconds;

if (inProcess) {
  await inProcess.scheduler.stop();
  await inProcess.engine.stop();
  maxRssMb = Math.round(process.memoryUsage().rss / 1_048_576);
}
for (const w of workers) w.kill("SIGTERM");
await Promise.all([...workers].map((w) => new Promise((r) => w.once("exit", r))));
fake.process.kill("SIGTERM");
await dropDatabase();

log("");
for (const [pid, status] of lastStatus) {
  const { pid: _pid, rss_mb: _rss, ...counters } = status;
  log(`app process ${pid}: ${JSON.stringify(counters)}`);
}
if (inProcess) log(`engine: ${JSON.stringify(inProcess.engine.counters)}`);
log(`machine: ${machine}`);
log(
  `mode: ${INSTANCES} instance(s)${args.crash ? ", SIGKILL half way + restart" : ""}; ${bench.mode()}`,
);
log(
  `delivered ${sent}, blocked ${skippedBlocked}, failed ${failed}, lost ${lost}, duplicates ${outcome.duplicates} (in flight at kill: ${inFlightAtKill})`,
);
log(
  `${seconds.toFixed(1)} s wall, ${rate.toFixed(2)} calls/s against a limit of ${LIMIT}/s (ratio ${(rate / LIMIT).toFixed(3)}); server saw at most ${outcome.maxInOneSecond} in one rolling second; ${bench.refusalName}: ${outcome.rateRefusals}`,
);
const missed = bench.missedTargets?.({ rateRatio: rate / LIMIT, lost, outcome }) ?? [];
for (const line of missed) log(`target missed: ${line}`);
log(
  JSON.stringify({
    recipients: RECIPIENTS,
    sent,
    skipped_blocked: skippedBlocked,
    failed,
    duplicates: outcome.duplicates,
    lost,
    in_flight_at_kill: inFlightAtKill,
    seconds: Number(seconds.toFixed(1)),
    rate: Number(rate.toFixed(2)),
    limit: LIMIT,
    rate_ratio: Number((rate / LIMIT).toFixed(3)),
    http_429: outcome.rateRefusals,
    enqueue_ms: enqueueMs,
    rss_mb: maxRssMb,
    ...outcome.json,
  }),
);
process.exit(missed.length > 0 ? 1 : 0);
