import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, TELEGRAM_WEBHOOK_PATH } from "../../src/app";
import { parseConfig } from "../../src/config";
import { users } from "../../src/db/schema";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { postOnce } from "../helpers/http";

const ky = translator("ky");

import { fakeTelegram, TEST_TOKEN } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/wait";

const WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789";

describe("HTTP: healthz, Telegram webhook, web chat", () => {
  let app: App;
  let base: string;
  const telegram = fakeTelegram();

  beforeAll(async () => {
    const config = parseConfig({
      LOG_LEVEL: "silent",
      PORT: "0",
      BOT_TOKEN: TEST_TOKEN,
      WEBHOOK_URL: "https://aimak.example/telegram/webhook",
      WEBHOOK_SECRET,
    });
    app = await createApp({
      config,
      logger: createLogger("silent"),
      fetch: telegram.fetch,
      database: await createTestDatabase(),
    });
    const { port } = await app.start();
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.stop());

  it("reports the database state on /healthz", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "ok",
      database: { status: "up" },
      telegram: "webhook",
    });
  });

  it("registered the webhook with its secret token", () => {
    const call = telegram.calls.find((c) => c.method === "setWebhook");
    expect(call?.payload).toMatchObject({ secret_token: WEBHOOK_SECRET });
  });

  it("answers 401 to webhook calls without the right secret and touches nothing", async () => {
    const update = {
      update_id: 1,
      message: {
        message_id: 1,
        date: 0,
        chat: { id: 777, type: "private" },
        from: { id: 777, is_bot: false, first_name: "X" },
        text: "/start",
      },
    };
    for (const headers of <Record<string, string>[]>[
      {},
      { "x-telegram-bot-api-secret-token": "wrong-secret-wrong-secret" },
    ]) {
      const res = await fetch(`${base}${TELEGRAM_WEBHOOK_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(update),
      });
      expect(res.status).toBe(401);
    }
    expect(await app.database.db.select().from(users).where(eq(users.chatId, 777))).toHaveLength(0);

    const ok = await fetch(`${base}${TELEGRAM_WEBHOOK_PATH}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-telegram-bot-api-secret-token": WEBHOOK_SECRET,
      },
      body: JSON.stringify(update),
    });
    expect(ok.status).toBe(200);
    expect(await app.database.db.select().from(users).where(eq(users.chatId, 777))).toHaveLength(1);
  });

  it("answers 400 to bodies that are not updates and 413 to huge ones, touching nothing", async () => {
    const post = (body: string) =>
      fetch(`${base}${TELEGRAM_WEBHOOK_PATH}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-telegram-bot-api-secret-token": WEBHOOK_SECRET,
        },
        body,
      });
    for (const body of ["", "null", "{not json", "[]", '"text"', "{}", '{"update_id":"x"}']) {
      const res = await post(body);
      expect(res.status, `body ${JSON.stringify(body)}`).toBe(400);
    }
    const huge = `{"update_id":1,"x":"${"a".repeat(2 * 1024 * 1024)}"}`;
    expect(
      await postOnce(`${base}${TELEGRAM_WEBHOOK_PATH}`, huge, {
        "x-telegram-bot-api-secret-token": WEBHOOK_SECRET,
      }),
    ).toBe(413);
    // A chat id in the range of web chat and WhatsApp ids is refused: no transcript is written to.
    const forged = 2 ** 52 + 5;
    const res = await post(
      JSON.stringify({
        update_id: 2,
        message: {
          message_id: 1,
          date: 0,
          chat: { id: forged, type: "private" },
          from: { id: forged, is_bot: false, first_name: "X" },
          text: "/start",
        },
      }),
    );
    expect(res.status).toBe(400);
    expect(await app.database.db.select().from(users).where(eq(users.chatId, forged))).toHaveLength(
      0,
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("sends security headers: own script and styles only, no framing, no sniffing", async () => {
    const page = await fetch(`${base}/`);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect((await fetch(`${base}/healthz`)).headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("refuses a web chat body over its limit with 413 before reading it, and stays healthy", async () => {
    const session = await fetch(`${base}/chat/session`, { method: "POST" });
    const cookie = session.headers.get("set-cookie")?.split(";")[0] ?? "";
    const { csrf } = (await session.json()) as { csrf: string };
    const huge = JSON.stringify({ text: "а".repeat(1024 * 1024) });
    for (const path of ["/chat/send", "/chat/press", "/chat/session"]) {
      const status = await postOnce(`${base}${path}`, huge, {
        cookie,
        "x-aimak-csrf": csrf,
        origin: base,
      });
      expect(status, path).toBe(413);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("serves the chat page and keeps a web session across requests", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);

    const session = await fetch(`${base}/chat/session`, { method: "POST" });
    const cookie = session.headers.get("set-cookie")?.split(";")[0] ?? "";
    const { userId, csrf } = (await session.json()) as { userId: number; csrf: string };
    const json = { cookie, "content-type": "application/json", "x-aimak-csrf": csrf };
    expect(cookie).toMatch(/^aimak_chat=/);
    const again = (await (
      await fetch(`${base}/chat/session`, { method: "POST", headers: { cookie } })
    ).json()) as {
      userId: number;
    };
    expect(again.userId).toBe(userId);

    const sent = await fetch(`${base}/chat/send`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ text: "/start" }),
    });
    expect(sent.status).toBe(202);
    type History = { messages: { fromBot: boolean; buttons?: { callbackData?: string }[][] }[] };
    const history = await waitFor(
      async () => {
        const h = (await (
          await fetch(`${base}/chat/history`, { headers: { cookie } })
        ).json()) as History;
        return h.messages.length >= 2 && h;
      },
      undefined,
      "the /start echo and the bot's greeting in the history",
    );
    expect(history.messages[1]?.fromBot).toBe(true);
    expect(history.messages[1]?.buttons?.flat().map((b) => b.callbackData)).toEqual([
      "lang:ky",
      "lang:ru",
      "lang:en",
    ]);

    // A button inside the conversation: each bot message reaches the page once, not per replay.
    const welcome = history.messages[1] as unknown as { id: number };
    await fetch(`${base}/chat/press`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ messageId: welcome.id, data: "lang:ky" }),
    });
    await fetch(`${base}/chat/send`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ text: "Сокулук" }),
    });
    const texts = await waitFor(
      async () => {
        const h = (await (await fetch(`${base}/chat/history`, { headers: { cookie } })).json()) as {
          messages: { text: string }[];
        };
        const all = h.messages.map((m) => m.text);
        return all.includes(ky("onboarding.municipality_found")) && all;
      },
      undefined,
      "the municipality search results in the history",
    );
    expect(texts.filter((x) => x === ky("onboarding.municipality_ask"))).toHaveLength(1);
    expect(texts.filter((x) => x === ky("onboarding.municipality_found"))).toHaveLength(1);

    const tooLong = await fetch(`${base}/chat/send`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ text: "x".repeat(5000) }),
    });
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as { error: string }).error).toMatch(/5000/);
    const noSession = await fetch(`${base}/chat/history`);
    expect(noSession.status).toBe(401);
    const forged = await fetch(`${base}/chat/press`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ messageId: 999999, data: "lang:ky" }),
    });
    expect(forged.status).toBe(404);
  });

  it("answers 503 on /healthz when the database is gone", async () => {
    const broken = await createTestDatabase();
    const other = await createApp({
      config: parseConfig({ LOG_LEVEL: "silent", PORT: "0" }),
      logger: createLogger("silent"),
      database: broken,
    });
    await broken.close();
    const res = await other.http.request("/healthz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "error", database: { status: "down" } });
  });
});
