/**
 * npm run bench:votes — a poll voted on through the whole bot stack (person lookup, the vote
 * buttons' handler, the service's transaction, the confirmation and the keyboard edit) with the
 * Bot API faked through grammY's client.fetch: BENCH_VOTERS (100,000) residents vote, 20,000 of
 * them change their vote, 5,000 presses are delivered a second time (as Telegram redelivers an
 * update it got no answer to), then the poll closes: the result message with its chart is
 * enqueued to every subscriber. On the PostgreSQL in DATABASE_URL (a fresh database), else
 * PGlite, with the app's default pool of 10 connections (BENCH_POOL). The last line is one JSON
 * object; the tally is checked against the expected count.
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import postgres from "postgres";
import { createBot } from "../src/bot/create-bot";
import { ChannelDirectory } from "../src/channels/directory";
import { type DatabaseHandle, openDatabase, rowsOf } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { features } from "../src/features";
import { seedDemoDirectoryIfEmpty } from "../src/features/municipalities/service";
import { POLL_CB } from "../src/features/polls/callbacks";
import { pollChart } from "../src/features/polls/chart";
import { PollsService, pollSettingsOf } from "../src/features/polls/service";
import { CLI_ACTOR } from "../src/features/polls/types";
import { TEST_BOT_INFO, TEST_TOKEN, testDeps } from "../tests/helpers/bot";
import { machineLine, percentile } from "./lib/machine";
import { rng } from "./lib/random";

const VOTERS = Number(process.env.BENCH_VOTERS ?? 100_000);
const CHANGES = Math.min(VOTERS, Number(process.env.BENCH_CHANGES ?? 20_000));
const DUPLICATES = Math.min(VOTERS - CHANGES, Number(process.env.BENCH_DUPLICATES ?? 5_000));
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const OPTIONS = 5;
const CHAT_BASE = 5_000_000_000;

/** A Bot API that answers every call at once and only counts them (no memory growth). */
function countingTelegram() {
  const counts = new Map<string, number>();
  let messageId = 1;
  const fetch = (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = url.slice(url.lastIndexOf("/") + 1);
    counts.set(method, (counts.get(method) ?? 0) + 1);
    const result = method.startsWith("send")
      ? { message_id: ++messageId, date: 0, chat: { id: 1, type: "private" } }
      : true;
    return new Response(JSON.stringify({ ok: true, result }), {
      headers: { "content-type": "application/json" },
    });
  }) as typeof globalThis.fetch;
  return { counts, fetch };
}

function press(updateId: number, chatId: number, data: string): Update {
  return {
    update_id: updateId,
    callback_query: {
      id: `cb${updateId}`,
      from: { id: chatId, is_bot: false, first_name: "Resident", language_code: "ru" },
      chat_instance: "1",
      data,
      message: {
        message_id: 1,
        date: 0,
        chat: { id: chatId, type: "private", first_name: "Resident" },
        text: "",
      },
    },
  };
}

/**
 * Feeds `count` updates, made one at a time as they are sent (a bot never holds a whole day's
 * updates in memory; holding 125,000 here would only make the garbage collector the bottleneck).
 */
async function drive(
  count: number,
  make: (k: number) => Update,
  handle: (u: Update) => Promise<void>,
) {
  const latencies = new Float64Array(count);
  let next = 0;
  const started = performance.now();
  async function lane() {
    while (next < count) {
      const k = next++;
      const t0 = performance.now();
      await handle(make(k));
      latencies[k] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { seconds: (performance.now() - started) / 1000, latencies: Array.from(latencies) };
}

async function run(handle: DatabaseHandle, label: string) {
  const db = handle.db;
  await migrate(db);
  await seedDemoDirectoryIfEmpty(db);
  const [m] = rowsOf<{ id: number }>(
    await db.execute(sql`select id from municipalities order by id limit 1`),
  );
  const municipalityId = Number(m?.id);
  // Residents who onboarded a month ago (not "new accounts": no burst warnings).
  await db.execute(sql`insert into users
      (channel, channel_user_id, chat_id, locale, municipality_id, consent_at, created_at)
    select 'telegram', (${CHAT_BASE}::bigint + g)::text, ${CHAT_BASE}::bigint + g,
      (array['ky','ru','en'])[1 + g % 3], ${municipalityId}::int, now(), now() - interval '30 days'
    from generate_series(1, ${VOTERS}) g`);

  const deps = testDeps(db);
  const settings = pollSettingsOf({
    ...deps.config,
    ballotSecret: "bench-ballot-secret-0123456789abcdef",
  });
  deps.config.ballotSecret = "bench-ballot-secret-0123456789abcdef";
  const service = new PollsService(db, settings);
  const poll = await service.create(CLI_ACTOR, {
    municipalityId,
    question: {
      ky: "Кайсы долбоорду биринчи каржылайлы?",
      ru: "Какой проект профинансировать первым?",
    },
    options: Array.from({ length: OPTIONS }, (_, i) => ({
      ky: `Долбоор ${i + 1}`,
      ru: `Проект ${i + 1}`,
    })),
    audience: "subscribers",
    closesAt: new Date(Date.now() + 86_400_000),
  });

  const telegram = countingTelegram();
  const bot = createBot({
    deps,
    features,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: telegram.fetch,
    directory: new ChannelDirectory(db),
  });
  await bot.init();

  const random = rng(7);
  const firstChoice = new Uint8Array(VOTERS);
  for (let i = 0; i < VOTERS; i++) firstChoice[i] = Math.floor(random() * OPTIONS);
  const vote = (updateId: number, i: number, option: number) =>
    press(updateId, CHAT_BASE + i + 1, POLL_CB.vote.pack({ pollId: poll.id, option }));
  /** Voter i's first press: update i + 1. */
  const firstPress = (i: number) => vote(i + 1, i, firstChoice[i] as number);
  // Then changes (the first CHANGES voters pick the next option) mixed with redelivered
  // updates of other voters' first presses (the very same update, same update_id): entry
  // i >= 0 is voter i's change, -1 - j a second delivery of voter j's first press.
  const second = new Int32Array(CHANGES + DUPLICATES);
  for (let i = 0; i < CHANGES; i++) second[i] = i;
  for (let i = 0; i < DUPLICATES; i++) second[CHANGES + i] = -1 - (CHANGES + i);
  for (let i = second.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [second[i], second[j]] = [second[j] as number, second[i] as number];
  }
  const secondPress = (k: number) => {
    const e = second[k] as number;
    if (e < 0) return firstPress(-1 - e);
    return vote(VOTERS + e + 1, e, ((firstChoice[e] as number) + 1) % OPTIONS);
  };
  const expected = new Array<number>(OPTIONS).fill(0);
  for (let i = 0; i < VOTERS; i++) {
    const final =
      i < CHANGES ? ((firstChoice[i] as number) + 1) % OPTIONS : (firstChoice[i] as number);
    expected[final] = (expected[final] ?? 0) + 1;
  }

  let errors = 0;
  const handleUpdate = (u: Update) => bot.handleUpdate(u).catch(() => void errors++);
  const a = await drive(VOTERS, firstPress, handleUpdate);
  const sendsBefore = telegram.counts.get("editMessageText") ?? 0;
  const b = await drive(second.length, secondPress, handleUpdate);
  // A change edits the poll message into its confirmation; a redelivered press only answers
  // "already counted".
  const confirmations = (telegram.counts.get("editMessageText") ?? 0) - sendsBefore;

  const tally = await service.tally(poll);
  const [voterRows] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from poll_voters where poll_id = ${poll.id}`),
  );

  const closeStarted = performance.now();
  const closed = await service.close(CLI_ACTOR, poll.id);
  for (const locale of ["ky", "ru", "en"] as const) {
    pollChart(closed.poll, closed.tally, locale, deps.config.timezone);
  }
  const closeMs = performance.now() - closeStarted;
  const [enqueued] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from deliveries d
      join outgoing_messages o on o.id = d.message_id where o.dedupe_key = ${`poll:${poll.id}:result`}`),
  );

  const all = [...a.latencies, ...b.latencies].sort((x, y) => x - y);
  const votes = VOTERS + second.length;
  const result = {
    voters: VOTERS,
    ballots: tally.voters,
    changes: confirmations,
    duplicates_ignored: second.length - confirmations,
    tally_matches:
      JSON.stringify(tally.counts) === JSON.stringify(expected) && tally.voters === VOTERS,
    double_counted:
      Math.max(0, Number(voterRows?.n ?? 0) - VOTERS) + Math.max(0, tally.voters - VOTERS),
    votes_per_s: Math.round(votes / (a.seconds + b.seconds)),
    p99_ms: Number(percentile(all, 99).toFixed(1)),
    close_ms: Math.round(closeMs),
  };
  console.log(
    `${label}: ${votes} presses (${errors} errors), p50 ${percentile(all, 50).toFixed(1)} ms; ` +
      `result enqueued to ${enqueued?.n} people; expected ${JSON.stringify(expected)}, ` +
      `counted ${JSON.stringify(tally.counts)}`,
  );
  return result;
}

async function main() {
  console.log(machineLine());
  console.log(
    `workload: ${VOTERS} voters, ${CHANGES} changed votes, ${DUPLICATES} redelivered updates, ${IN_FLIGHT} in flight`,
  );
  const serverUrl = process.env.DATABASE_URL;
  let result: Awaited<ReturnType<typeof run>>;
  if (serverUrl) {
    const name = `aimak_bench_${randomBytes(4).toString("hex")}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name} template template0 encoding 'UTF8'`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const pg = await openDatabase({
      url: url.toString(),
      maxConnections: Number(process.env.BENCH_POOL ?? 10),
    });
    try {
      result = await run(pg, "PostgreSQL");
    } finally {
      await pg.close();
      await admin.unsafe(`drop database ${name} with (force)`);
      await admin.end();
    }
  } else {
    const pglite = await openDatabase({});
    result = await run(pglite, "PGlite");
    await pglite.close();
  }
  console.log(JSON.stringify(result));
}

await main();
