/**
 * A database outage on a real PostgreSQL server: a throw-away cluster of this test's own (never the
 * shared dev or CI server) is stopped while the app runs and started again. PostgreSQL only (a
 * PGlite database cannot go away), and only where the server binaries are installed.
 */
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import en from "../../locales/en.json";
import ru from "../../locales/ru.json";
import { type App, createApp, TELEGRAM_WEBHOOK_PATH } from "../../src/app";
import { parseConfig } from "../../src/config";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { createLogger } from "../../src/logger";
import { fakeTelegram, person, TEST_BALLOT_SECRET, TEST_TOKEN, textUpdate } from "../helpers/bot";
import { type PgCluster, postgresBin, startPgCluster } from "../helpers/pg-cluster";
import { waitFor } from "../helpers/wait";
import { WebchatClient } from "../helpers/webchat";

const SECRET = "webhook-secret-for-the-outage-test-0123";
/** After the server is back, postgres.js reconnects on its own schedule: give it room. */
const RECOVERY_MS = 60_000;

const runs = Boolean(process.env.DATABASE_URL) && postgresBin() !== undefined;

describe.skipIf(!runs)("a database outage (PostgreSQL stopped and started again)", () => {
  let cluster: PgCluster;
  let database: DatabaseHandle;
  let app: App;
  let base: string;
  const telegram = fakeTelegram();
  const logLines: string[] = [];

  beforeAll(async () => {
    cluster = await startPgCluster();
    database = await openDatabase({ url: cluster.url, maxConnections: 5 });
    await migrate(database.db);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    });
    app = await createApp({
      config: parseConfig({
        LOG_LEVEL: "info",
        PORT: "0",
        BOT_TOKEN: TEST_TOKEN,
        WEBHOOK_URL: "https://aimak.example/telegram/webhook",
        WEBHOOK_SECRET: SECRET,
        BALLOT_SECRET: TEST_BALLOT_SECRET,
      }),
      logger: createLogger("info", sink),
      fetch: telegram.fetch,
      database,
    });
    base = `http://127.0.0.1:${(await app.start()).port}`;
  }, 120_000);

  afterAll(async () => {
    await app?.stop().catch(() => {});
    await cluster?.destroy();
  }, 60_000);

  const webhook = (update: Update) =>
    fetch(`${base}${TELEGRAM_WEBHOOK_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify(update),
    });
  const repliesTo = (chatId: number) =>
    telegram.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chatId).length;

  it("answers 503 with reasons while the server is down, and takes the re-sent writes after", async () => {
    const visitor = new WebchatClient(base, "ru");
    await visitor.session();
    const first = await visitor.send("/start");
    expect(first.status).toBe(202);
    await visitor.waitFor((m) => m.fromBot);
    const resident = person(4_242_001, "ru");
    expect((await webhook(textUpdate(resident, "/start"))).status).toBe(200);
    const repliesBefore = repliesTo(resident.id);
    expect(repliesBefore).toBeGreaterThan(0);

    await cluster.stop();

    // /healthz: 503 with a reason, quickly (a load balancer's probe must not hang).
    const asked = Date.now();
    const health = await fetch(`${base}/healthz`);
    const healthMs = Date.now() - asked;
    expect(health.status).toBe(503);
    const healthBody = (await health.json()) as { status: string; reason: string };
    expect(healthBody.status).toBe("error");
    expect(healthBody.reason).toMatch(/database/);
    expect(healthMs).toBeLessThan(10_000);

    // The web chat: 503 and the localized "your message is kept" in the page's language.
    const refused = await visitor.send("/help", {
      ...visitor.pageHeaders(),
      "x-aimak-locale": "ru",
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.json()).toEqual({ error: ru.errors.unavailable });
    // No page locale: the browser's language.
    const english = await visitor.send("/help", {
      ...visitor.pageHeaders(),
      "accept-language": "en-US,en;q=0.9",
    });
    expect(english.status).toBe(503);
    expect(await english.json()).toEqual({ error: en.errors.unavailable });

    // Telegram: a 5xx, so that Telegram delivers the update again later.
    const update = textUpdate(resident, "/help");
    const during = await webhook(update);
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(repliesTo(resident.id)).toBe(repliesBefore);

    await cluster.start();

    // The page sends the kept text again until it is taken; then the bot answers it.
    const taken = await waitFor(
      async () => {
        const res = await visitor.send("/help");
        return res.status === 202 ? ((await res.json()) as { message: { id: number } }) : undefined;
      },
      RECOVERY_MS,
      "the re-sent web chat message to be taken",
    );
    await visitor.waitFor((m) => m.fromBot && m.id > taken.message.id, RECOVERY_MS);
    // Telegram delivers the same update again: handled now, and answered.
    await waitFor(
      async () => (await webhook(update)).status === 200,
      RECOVERY_MS,
      "the redelivered update to be taken",
    );
    await waitFor(() => repliesTo(resident.id) > repliesBefore, RECOVERY_MS, "a Telegram reply");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    // The log: JSON lines only, none holding the visitor's cookie or its hash (their channel id).
    const cookie = visitor.cookie.split("=")[1] ?? "";
    const hash = createHash("sha256").update(cookie).digest("hex");
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      expect(() => JSON.parse(line), line).not.toThrow();
      expect(line).not.toContain(cookie);
      expect(line).not.toContain(hash);
    }
    expect(logLines.some((l) => l.includes("database unreachable"))).toBe(true);
  }, 240_000);

  it("holds a long-polled update through the outage and handles it once the server is back", async () => {
    // Telegram with long polling: the runner fetches an update while the database is down. Its
    // offset has moved past it, so it must be handled once the database answers, not dropped.
    const polled = fakeTelegram();
    const queue: Update[] = [];
    let fetched = 0;
    const fetchWithUpdates = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith("/getUpdates") && queue.length > 0) {
        const result = queue.splice(0);
        fetched += result.length;
        return new Response(JSON.stringify({ ok: true, result }));
      }
      return polled.fetch(input, init);
    }) as typeof globalThis.fetch;
    const pollingApp = await createApp({
      config: parseConfig({
        LOG_LEVEL: "silent",
        PORT: "0",
        BOT_TOKEN: TEST_TOKEN,
        BALLOT_SECRET: TEST_BALLOT_SECRET,
      }),
      logger: createLogger("silent"),
      fetch: fetchWithUpdates,
      database,
    });
    await pollingApp.start();
    try {
      const resident = person(4_242_077, "ru");
      const replies = () =>
        polled.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === resident.id)
          .length;
      await cluster.stop();
      queue.push(textUpdate(resident, "/start"));
      await waitFor(() => fetched === 1, RECOVERY_MS, "the runner to fetch the update");
      await cluster.start();
      await waitFor(() => replies() > 0, RECOVERY_MS, "the reply to the held update");
    } finally {
      await pollingApp.stop();
    }
  }, 240_000);
});
