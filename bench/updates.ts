/**
 * npm run bench:updates — 20,000 synthetic updates through the full stack (user lookup, i18n,
 * conversations in the database, onboarding and settings flows) with the Bot API faked through
 * grammY's client.fetch, on PGlite and on the PostgreSQL in DATABASE_URL, next to a bare grammY
 * bot measured in the same run.
 */
import { randomBytes } from "node:crypto";
import { Bot } from "grammy";
import type { Update } from "grammy/types";
import postgres from "postgres";
import { createBot } from "../src/bot/create-bot";
import { ChannelDirectory } from "../src/channels/directory";
import { type DatabaseHandle, openDatabase } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { municipalities } from "../src/db/schema";
import { features } from "../src/features";
import { seedDemoDirectoryIfEmpty } from "../src/features/municipalities/service";
import {
  fakeTelegram,
  person,
  pressUpdate,
  TEST_BOT_INFO,
  TEST_TOKEN,
  testDeps,
  textUpdate,
} from "../tests/helpers/bot";
import { machineLine, percentile } from "./lib/machine";

const TOTAL = Number(process.env.BENCH_UPDATES ?? 20_000);
const USERS = 400;
const IN_FLIGHT = 64;

/** A person's session: onboarding, a settings change, free text, stray buttons. */
function script(user: ReturnType<typeof person>, municipalityId: number): Update[] {
  return [
    textUpdate(user, "/start"),
    pressUpdate(user, "lang:ru"),
    textUpdate(user, "сокулук"),
    pressUpdate(user, `mun:${municipalityId}`),
    pressUpdate(user, "topic:polls"),
    pressUpdate(user, "topics:done"),
    pressUpdate(user, "consent:yes"),
    textUpdate(user, "сколько депутатов в айылном кенеше"),
    textUpdate(user, "/settings"),
    pressUpdate(user, "settings:topics"),
    pressUpdate(user, "topic:polls"),
    pressUpdate(user, "topics:done"),
    pressUpdate(user, "settings:close"),
    textUpdate(user, "/help"),
    pressUpdate(user, "stale:button"),
  ];
}

function workload(municipalityId: number): Update[] {
  const perUser = Array.from({ length: USERS }, (_, i) =>
    script(person(10_000 + i, "ru"), municipalityId),
  );
  const updates: Update[] = [];
  // Interleave users like real traffic; each user's own updates stay in order.
  for (let step = 0; updates.length < TOTAL; step++) {
    for (const s of perUser) {
      if (updates.length >= TOTAL) break;
      const u = s[step % s.length]!;
      updates.push({ ...u, update_id: updates.length + 1 });
    }
  }
  return updates;
}

async function drive(handle: (u: Update) => Promise<void>, updates: Update[]) {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  async function lane() {
    while (next < updates.length) {
      const u = updates[next++]!;
      const t0 = performance.now();
      await handle(u);
      latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  return {
    updates: updates.length,
    perSecond: Math.round(updates.length / seconds),
    p50: Number(percentile(latencies, 50).toFixed(2)),
    p99: Number(percentile(latencies, 99).toFixed(2)),
    // The bot's own CPU time per update (user + system), which load from other processes on
    // the machine does not inflate the way it inflates wall-clock figures.
    cpuMsPerUpdate: Number(((cpu.user + cpu.system) / 1000 / updates.length).toFixed(3)),
  };
}

async function fullStack(label: string, handle: DatabaseHandle) {
  await migrate(handle.db);
  await seedDemoDirectoryIfEmpty(handle.db);
  const [m] = await handle.db.select().from(municipalities).orderBy(municipalities.id).limit(1);
  const telegram = fakeTelegram();
  const bot = createBot({
    deps: testDeps(handle.db),
    features,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: telegram.fetch,
    directory: new ChannelDirectory(handle.db),
  });
  await bot.init();
  const updates = workload(m!.id);
  // Errors would make the numbers meaningless: count them.
  let errors = 0;
  const result = await drive((u) => bot.handleUpdate(u).catch(() => void errors++), updates);
  return { label, ...result, errors, apiCalls: telegram.calls.length };
}

async function bare() {
  const telegram = fakeTelegram();
  const bot = new Bot(TEST_TOKEN, { botInfo: TEST_BOT_INFO, client: { fetch: telegram.fetch } });
  bot.on("callback_query", (ctx) => ctx.answerCallbackQuery());
  bot.on("message", (ctx) => ctx.reply("ok"));
  await bot.init();
  return {
    label: "bare grammY (no db)",
    ...(await drive((u) => bot.handleUpdate(u), workload(1))),
    errors: 0,
  };
}

async function main() {
  console.log(machineLine());
  console.log(`workload: ${TOTAL} updates from ${USERS} people, ${IN_FLIGHT} in flight`);
  const results = [await bare()];
  // BENCH_SKIP_PGLITE=1 measures only the server (quicker when profiling).
  if (!process.env.BENCH_SKIP_PGLITE) {
    const pglite = await openDatabase({});
    results.push(await fullStack("aimak on PGlite", pglite));
    await pglite.close();
  }
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `aimak_bench_${randomBytes(4).toString("hex")}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const pg = await openDatabase({
      url: url.toString(),
      maxConnections: Number(process.env.BENCH_POOL ?? 20),
    });
    try {
      results.push(await fullStack("aimak on PostgreSQL", pg));
    } finally {
      await pg.close();
      await admin.unsafe(`drop database ${name} with (force)`);
      await admin.end();
    }
  } else {
    console.log("PostgreSQL: skipped (set DATABASE_URL to measure it)");
  }
  console.table(results); // p50 and p99 are milliseconds per update
  console.log(JSON.stringify(results));
}

await main();
