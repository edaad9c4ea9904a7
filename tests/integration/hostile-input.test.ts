import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, TELEGRAM_WEBHOOK_PATH } from "../../src/app";
import { users, webchatMessages } from "../../src/db/schema";
import { fakeTelegram } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { startWebhookApp } from "../helpers/webhook-app";

const SECRET = "webhook-secret-for-hostile-input-0123456";

/** Inputs the fuzzer (npm run fuzz) found answered with 500; each must now get a 4xx or work. */
describe("hostile input found by the fuzzer", () => {
  let app: App;
  let base: string;
  const telegram = fakeTelegram();

  beforeAll(async () => {
    ({ app, base } = await startWebhookApp({
      database: await createTestDatabase(),
      fetch: telegram.fetch,
      secret: SECRET,
    }));
  });
  afterAll(() => app.stop());

  let updateId = 9_000;
  const webhook = (update: Record<string, unknown>) =>
    fetch(`${base}${TELEGRAM_WEBHOOK_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify({ update_id: ++updateId, ...update }),
    });
  const message = (chatId: number, extra: Record<string, unknown> = {}) => ({
    message_id: 1,
    date: 1,
    chat: { id: chatId, type: "private", first_name: "A" },
    from: { id: chatId, is_bot: false, first_name: "A", language_code: "ru" },
    text: "/start",
    entities: [{ type: "bot_command", offset: 0, length: 6 }],
    ...extra,
  });
  const userOf = async (chatId: number) =>
    (await app.database.db.select().from(users).where(eq(users.chatId, chatId)))[0];

  it("refuses updates whose fields have the wrong types with 400, touching nothing", async () => {
    const cases: [string, Record<string, unknown>][] = [
      [
        "language_code a number",
        {
          message: message(830_001, {
            from: { id: 830_001, is_bot: false, first_name: "A", language_code: 42 },
          }),
        },
      ],
      ["entities an object", { message: message(830_002, { entities: { a: 1 } }) }],
      ["chat id true", { message: message(830_003, { chat: { id: true, type: "private" } }) }],
      ["text a number", { message: message(830_004, { text: 5, entities: [] }) }],
      ["callback data a number", { callback_query: { id: "c", from: message(1).from, data: 7 } }],
      ["message an array", { message: [] }],
    ];
    for (const [what, update] of cases) {
      const res = await webhook(update);
      expect(res.status, what).toBe(400);
    }
    for (const chatId of [830_001, 830_002, 830_004]) expect(await userOf(chatId)).toBeUndefined();
    // A real update still goes through.
    expect((await webhook({ message: message(830_005) })).status).toBe(200);
    expect(await userOf(830_005)).toBeDefined();
  });

  it("takes a person whose name holds NUL or a lone surrogate, storing a replacement", async () => {
    const res = await webhook({
      message: message(830_010, {
        from: { id: 830_010, is_bot: false, first_name: "Ai\u0000gul\ud800", language_code: "ky" },
        chat: { id: 830_010, type: "private", first_name: "Ai\u0000gul\ud800" },
      }),
    });
    expect(res.status).toBe(200);
    expect((await userOf(830_010))?.firstName).toBe("Ai\ufffdgul\ufffd");
  });

  it("takes a web chat message with NUL or a lone surrogate (was 500)", async () => {
    const session = await fetch(`${base}/chat/session`, { method: "POST" });
    const cookie = session.headers.get("set-cookie")?.split(";")[0] ?? "";
    const { csrf } = (await session.json()) as { csrf: string };
    const headers = { cookie, "content-type": "application/json", "x-aimak-csrf": csrf };
    for (const body of ['{"text":"\\ud800"}', '{"text":"a\\u0000b"}']) {
      const res = await fetch(`${base}/chat/send`, { method: "POST", headers, body });
      expect(res.status, body).toBe(202);
    }
    const texts = (
      await app.database.db
        .select({ payload: webchatMessages.payload })
        .from(webchatMessages)
        .where(eq(webchatMessages.fromBot, false))
    )
      .map((r) => (r.payload as { text?: string }).text)
      .filter((t) => t !== undefined);
    expect(texts).toEqual(expect.arrayContaining(["\ufffd", "a\ufffdb"]));
  });
});
