import { Writable } from "node:stream";
import { conversations, createConversation } from "@grammyjs/conversations";
import { Bot } from "grammy";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { AppContext, AppConversation, ConvContext } from "../../src/bot/context";
import { personMiddleware } from "../../src/bot/middleware/person";
import { conversationLogger } from "../../src/bot/middleware/update-log";
import { parseConfig } from "../../src/config";
import { createInvite } from "../../src/core/invites";
import { createSyntheticUser } from "../../src/core/people";
import type { DatabaseHandle } from "../../src/db/client";
import { municipalities } from "../../src/db/schema";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import {
  createTestBot,
  fakeTelegram,
  person,
  pressUpdate,
  TEST_BOT_INFO,
  TEST_TOKEN,
  testDeps,
  textUpdate,
} from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/wait";
import { WebchatClient } from "../helpers/webchat";

type Line = Record<string, unknown> & { msg?: string };

/** A pino logger like the app's, writing JSON lines to memory. */
function memoryLogger() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

describe("a child logger per update (ctx.log)", () => {
  let handle: DatabaseHandle;
  let municipalityId: number;
  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
    const [m] = await handle.db.select({ id: municipalities.id }).from(municipalities).limit(1);
    municipalityId = Number(m?.id);
  });
  afterAll(() => handle.close());

  it("a handler's line on Telegram carries the update id, chat id and channel", async () => {
    const t = createTestBot(handle.db);
    const { logger, lines } = memoryLogger();
    t.deps.logger = logger;
    const who = person(7101);
    const invite = await createInvite(handle.db, { role: "staff", municipalityId });
    const update = textUpdate(who, `/start ${invite.code}`);
    await t.send(update);
    const line = await waitFor(() => lines.find((l) => l.msg === "role granted by invite"));
    expect(line).toMatchObject({
      updateId: update.update_id,
      chatId: who.id,
      channel: "telegram",
      role: "staff",
    });
  });

  it("a line written for a conversation's step carries that step's update", async () => {
    const t = createTestBot(handle.db);
    const { logger, lines } = memoryLogger();
    t.deps.logger = logger;
    const who = person(7102);
    await t.send(textUpdate(who, "/start"));
    await t.send(pressUpdate(who, "lang:ru"));
    // An invite code typed at the municipality step is redeemed by the flow.
    const invite = await createInvite(handle.db, { role: "deputy", municipalityId });
    const update = textUpdate(who, invite.code);
    await t.send(update);
    const line = await waitFor(() => lines.find((l) => l.msg === "role granted by invite"));
    expect(line).toMatchObject({ updateId: update.update_id, chatId: who.id, channel: "telegram" });
  });

  it("on the web chat the channel comes from the person, not the chat id", async () => {
    const { logger, lines } = memoryLogger();
    const app = await createApp({
      config: parseConfig({ LOG_LEVEL: "info", PORT: "0" }),
      logger,
      database: await createTestDatabase(),
    });
    try {
      const base = `http://127.0.0.1:${(await app.start()).port}`;
      const [m] = await app.database.db
        .select({ id: municipalities.id })
        .from(municipalities)
        .limit(1);
      const browser = new WebchatClient(base);
      await browser.session();
      const invite = await createInvite(app.database.db, {
        role: "staff",
        municipalityId: Number(m?.id),
      });
      expect((await browser.send(invite.code)).ok).toBe(true);
      const line = await waitFor(() => lines.find((l) => l.msg === "role granted by invite"));
      expect(line).toMatchObject({ channel: "web", userId: browser.userId });
      expect(line.chatId).toBeGreaterThanOrEqual(2 ** 52);
      expect(line.updateId).toEqual(expect.any(Number));
    } finally {
      await app.stop();
    }
  });

  it("inside conversations ctx.log is bound to the step's update and the person's channel", async () => {
    // A person of another channel (their synthetic chat id says only "not Telegram").
    const user = await createSyntheticUser(handle.db, "whatsapp", "+996700000001", "ru");
    const { logger, lines } = memoryLogger();
    const deps = { ...testDeps(handle.db), logger };
    const telegram = fakeTelegram();
    const bot = new Bot<AppContext>(TEST_TOKEN, {
      botInfo: TEST_BOT_INFO,
      client: { fetch: telegram.fetch },
    });
    bot.use(personMiddleware(deps));
    bot.use(conversations<AppContext, ConvContext>({ plugins: [conversationLogger(deps.logger)] }));
    bot.use(
      createConversation(async (conversation: AppConversation, ctx: ConvContext) => {
        ctx.log.info("entered");
        const next = await conversation.wait();
        next.log.info("answered");
      }, "probe"),
    );
    bot.command("probe", (ctx) => ctx.conversation.enter("probe"));
    const who = { ...person(user.chatId), first_name: "Web" };
    const enter = textUpdate(who, "/probe");
    const answer = textUpdate(who, "hello");
    await bot.handleUpdate(enter);
    await bot.handleUpdate(answer);
    expect(lines.find((l) => l.msg === "entered")).toMatchObject({
      updateId: enter.update_id,
      chatId: user.chatId,
      channel: "whatsapp",
    });
    expect(lines.find((l) => l.msg === "answered")).toMatchObject({
      updateId: answer.update_id,
      chatId: user.chatId,
      channel: "whatsapp",
    });
  });
});
