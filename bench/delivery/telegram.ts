/**
 * The delivery bench on Telegram: the fake Bot API (its own process, real HTTP, 30 msg/s overall
 * and 1/s per chat enforced with 429 retry_after, 403 for a share of chats).
 */
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client";
import { createTelegramApi, telegramSender } from "../../src/delivery";
import { type ChannelBench, spawnFake } from "./channel";

export const TELEGRAM_BENCH_TOKEN = `123456789:${"A".repeat(35)}`;
const CHAT_BASE = 1_000_000;

export function telegramBench(options: {
  latency: string;
  jitter: string;
  blockedShare: string;
}): ChannelBench {
  const limit = 30;
  return {
    channel: "telegram",
    limit,
    fakeName: "fake Bot API",
    refusalName: "429s",

    async seed(db, t) {
      await db.execute(sql`insert into users (channel, channel_user_id, chat_id, locale, municipality_id)
        select 'telegram', (${CHAT_BASE} + g)::text, ${CHAT_BASE} + g,
          (array['ky','ru','en'])[1 + g % 3], ${t.audienceMunicipalityId}::int
        from generate_series(1, ${t.recipients}) g`);
      await db.execute(sql`insert into users (channel, channel_user_id, chat_id, locale, municipality_id, topics)
        select 'telegram', (g)::text, g, 'ru',
          case when g % 2 = 0 then ${t.otherMunicipalityId}::int else ${t.audienceMunicipalityId}::int end,
          case when g % 2 = 0 then array['announcements'] else array['polls'] end
        from generate_series(1, ${t.others}) g`);
    },

    startFake: () =>
      spawnFake({
        script: "tests/fixtures/fake-bot-api/main.ts",
        args: [
          "--blocked-share",
          options.blockedShare,
          "--latency",
          options.latency,
          "--jitter",
          options.jitter,
          "--global",
          String(limit),
        ],
        controlRoot: (line) => line.apiRoot,
      }),

    async prepare() {},

    workerEnv: (fake) => ({ BOT_TOKEN: TELEGRAM_BENCH_TOKEN, TELEGRAM_API_ROOT: fake.apiRoot }),

    async settings(_db, fake) {
      const api = createTelegramApi({
        token: TELEGRAM_BENCH_TOKEN,
        apiRoot: fake.apiRoot,
        timeoutSeconds: 10,
      });
      return { channel: "telegram", sender: telegramSender(api) };
    },

    progress: (p) => `sent ${p.sent}, blocked ${p.blocked}, failed ${p.failed}`,

    mode: () =>
      `fake Bot API latency ${options.latency}±${options.jitter} ms, ${Number(options.blockedShare) * 100} % blocked`,

    async collect(db, messageId, fake) {
      // Last send as the server saw it; the wall clock includes claiming the first batch.
      const stats = await fake.get<{
        http429: number;
        duplicates: number;
        maxInOneSecond: number;
      }>("/__stats");
      const received = await fake.get<Record<string, number>>("/__chats");
      const rows = rowsOf<{ chat_id: number; status: string; skip_reason: string | null }>(
        await db.execute(sql`select u.chat_id, d.status, d.skip_reason from deliveries d
          join users u on u.id = d.user_id where d.message_id = ${messageId}`),
      );
      let sent = 0;
      let skippedBlocked = 0;
      let failed = 0;
      let lost = 0;
      for (const r of rows) {
        const got = (received[String(r.chat_id)] ?? 0) > 0;
        const blocked = r.status === "skipped" && r.skip_reason === "blocked";
        if (r.status === "sent") sent++;
        if (blocked) skippedBlocked++;
        if (r.status === "failed") failed++;
        if (!got && !blocked && r.status !== "failed") lost++;
      }
      return {
        sent,
        skippedBlocked,
        failed,
        lost,
        duplicates: stats.duplicates,
        maxInOneSecond: stats.maxInOneSecond,
        rateRefusals: stats.http429,
        json: {},
      };
    },
  };
}
