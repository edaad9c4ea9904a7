import { eq } from "drizzle-orm";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, TELEGRAM_WEBHOOK_PATH } from "../../src/app";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import { telegramUpdates } from "../../src/db/schema/instances";
import { fakeTelegram, person, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { startWebhookApp } from "../helpers/webhook-app";

const SECRET = "webhook-secret-for-redelivery-0123456789";

/** The fake Bot API, able to fail the next sendMessage calls with a given status. */
function flakyTelegram() {
  const telegram = fakeTelegram();
  let failStatus = 0;
  let failuresLeft = 0;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (failuresLeft > 0 && url.endsWith("/sendMessage")) {
      failuresLeft--;
      const status = failStatus;
      return new Response(
        JSON.stringify({ ok: false, error_code: status, description: "injected failure" }),
        { status, headers: { "content-type": "application/json" } },
      );
    }
    return telegram.fetch(input, init);
  }) as typeof globalThis.fetch;
  return {
    fetch,
    /** Fails the next `times` sendMessage calls. */
    failSends: (status: number, times = 1) => {
      failStatus = status;
      failuresLeft = times;
    },
    /** Messages sent to a chat (failed attempts are not recorded). */
    sentTo: (chatId: number) =>
      telegram.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chatId)
        .length,
  };
}

async function webhookApp(database: DatabaseHandle, fetch: typeof globalThis.fetch) {
  const { app, base } = await startWebhookApp({ database, fetch, secret: SECRET });
  return { app, url: `${base}${TELEGRAM_WEBHOOK_PATH}` };
}

function post(url: string, update: Update): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
    body: JSON.stringify(update),
  });
}

describe("Telegram webhook: a redelivered update is handled once", () => {
  let app: App;
  let url: string;
  let database: DatabaseHandle & { url?: string };
  const telegram = flakyTelegram();

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ app, url } = await webhookApp(database, telegram.fetch));
  });
  afterAll(() => app.stop());

  const rowOf = async (updateId: number) =>
    (
      await database.db.select().from(telegramUpdates).where(eq(telegramUpdates.updateId, updateId))
    )[0];

  it("answers a second delivery of a handled update with 200 and does not handle it again", async () => {
    const update = textUpdate(person(810_001), "/start");
    expect((await post(url, update)).status).toBe(200);
    const once = telegram.sentTo(810_001);
    expect(once).toBeGreaterThan(0);
    expect((await rowOf(update.update_id))?.processedAt).toBeInstanceOf(Date);

    expect((await post(url, update)).status).toBe(200);
    expect(telegram.sentTo(810_001)).toBe(once);
  });

  it("handles two simultaneous deliveries of one update once", async () => {
    const baseline = textUpdate(person(810_002), "/start");
    expect((await post(url, baseline)).status).toBe(200);
    const perHandling = telegram.sentTo(810_002);

    const update = textUpdate(person(810_003), "/start");
    const answers = await Promise.all([post(url, update), post(url, update), post(url, update)]);
    // One handles it (200); the others find it handled (200) or being handled (503: later).
    expect(answers.map((r) => r.status).filter((s) => s === 200).length).toBeGreaterThan(0);
    for (const r of answers) expect([200, 503]).toContain(r.status);
    expect(telegram.sentTo(810_003)).toBe(perHandling);
  });

  it("answers 200 to an update whose handling failed for good, and tells the person", async () => {
    // A 400 fails the same way on every delivery: redelivering it would only hold up Telegram's
    // queue. It goes where polling sends it (logged, the person told) and counts as handled.
    const update = textUpdate(person(810_014), "/start");
    telegram.failSends(400);
    expect((await post(url, update)).status).toBe(200);
    expect((await rowOf(update.update_id))?.processedAt).toBeInstanceOf(Date);
    expect(telegram.sentTo(810_014)).toBe(1);
    expect((await post(url, update)).status).toBe(200);
    expect(telegram.sentTo(810_014)).toBe(1);
  });

  it("takes over a claim whose lease passed without the update being handled", async () => {
    const update = textUpdate(person(810_005), "/start");
    // An instance that claimed it and died: its lease is in the past.
    await database.db
      .insert(telegramUpdates)
      .values({ updateId: update.update_id, claimedUntil: new Date(Date.now() - 1000) });
    expect((await post(url, update)).status).toBe(200);
    expect(telegram.sentTo(810_005)).toBeGreaterThan(0);

    // A live claim of another instance: not handled here, Telegram is told to come back.
    const busy = textUpdate(person(810_006), "/start");
    await database.db
      .insert(telegramUpdates)
      .values({ updateId: busy.update_id, claimedUntil: new Date(Date.now() + 60_000) });
    expect((await post(url, busy)).status).toBe(503);
    expect(telegram.sentTo(810_006)).toBe(0);
  });
});

describe.runIf(process.env.DATABASE_URL)("Telegram webhook on two instances", () => {
  let database: DatabaseHandle & { url?: string };
  let second: DatabaseHandle;
  const apps: App[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    second = await openDatabase({ url: database.url, maxConnections: 5 });
  });
  afterAll(async () => {
    // Each app closes its own handle; the first one's drops the test database, so it goes last.
    for (const app of apps.reverse()) await app.stop();
    if (apps.length === 0) await Promise.all([second?.close(), database?.close()]);
  });

  it("handles an update delivered to both instances at once only once", async () => {
    const a = flakyTelegram();
    const b = flakyTelegram();
    const appA = await webhookApp(database, a.fetch);
    apps.push(appA.app);
    const appB = await webhookApp(second, b.fetch);
    apps.push(appB.app);

    const baseline = textUpdate(person(820_001), "/start");
    expect((await post(appA.url, baseline)).status).toBe(200);
    const perHandling = a.sentTo(820_001);
    expect(perHandling).toBeGreaterThan(0);

    for (let i = 0; i < 10; i++) {
      const chat = 820_100 + i;
      const update = textUpdate(person(chat), "/start");
      const answers = await Promise.all([post(appA.url, update), post(appB.url, update)]);
      for (const r of answers) expect([200, 503]).toContain(r.status);
      expect(a.sentTo(chat) + b.sentTo(chat), `chat ${chat}`).toBe(perHandling);
    }
  });
});
