import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app";
import { parseConfig } from "../../src/config";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { auditLog, municipalities, outgoingMessages, users } from "../../src/db/schema";
import { createOutgoingMessage } from "../../src/delivery";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { fakeTelegram, person, pressUpdate, TEST_TOKEN, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { drainDeliveries, waitFor } from "../helpers/wait";

/**
 * One announcement end to end: a staff member composes it in the real bot (conversations in the
 * database), the real scheduler and delivery engine send it, and each resident receives it once,
 * in their language, through the Bot API (faked at grammY's HTTP client).
 */
describe("announcement from composition to delivery", () => {
  let app: App;
  const telegram = fakeTelegram();
  const staff = person(7001, "ru");
  const residents = [person(7101, "ky"), person(7102, "ru"), person(7103, "ru")];
  const outsider = person(7201, "ru");
  let m1: typeof municipalities.$inferSelect | undefined;
  let m2: typeof municipalities.$inferSelect | undefined;

  beforeAll(async () => {
    app = await createApp({
      config: parseConfig({ LOG_LEVEL: "silent", PORT: "0", BOT_TOKEN: TEST_TOKEN }),
      logger: createLogger("silent"),
      fetch: telegram.fetch,
      database: await createTestDatabase(),
    });
    await app.start();
    // The people of both tests (each test relies on this, not on the other test having run): a
    // staff member and three residents of the first municipality, an outsider in the second.
    const db = app.database.db;
    [m1, m2] = await db.select().from(municipalities).orderBy(municipalities.id).limit(2);
    for (const p of [staff, ...residents, outsider]) await send(textUpdate(p, "/help"));
    for (const p of [staff, ...residents]) {
      await db
        .update(users)
        .set({ municipalityId: m1!.id, locale: p.language_code as "ru" })
        .where(eq(users.chatId, p.id));
    }
    await db.update(users).set({ municipalityId: m2!.id }).where(eq(users.chatId, outsider.id));
    const [staffRow] = await db.select().from(users).where(eq(users.chatId, staff.id));
    const invite = await createInvite(db, { role: "staff", municipalityId: m1!.id });
    expect(await redeemInvite(db, invite.code, staffRow!.id)).toMatchObject({ ok: true });
  });
  afterAll(() => app.stop());

  const send = (u: Parameters<typeof app.bot.handleUpdate>[0]) => app.bot.handleUpdate(u);

  it("reaches every subscribed resident of the municipality once, in their language", async () => {
    const db = app.database.db;
    const [staffRow] = await db.select().from(users).where(eq(users.chatId, staff.id));

    const lastButtons = () => {
      const call = [...telegram.calls]
        .reverse()
        .find((c) => c.payload.chat_id === staff.id && c.payload.reply_markup);
      const kb = (
        call?.payload.reply_markup as { inline_keyboard?: { callback_data?: string }[][] }
      )?.inline_keyboard;
      return (kb ?? []).flat().map((b) => b.callback_data ?? "");
    };
    await send(textUpdate(staff, "/broadcast"));
    await send(textUpdate(staff, "Бюджеттик угуу 1-декабрда саат 10:00до болот."));
    await send(textUpdate(staff, "Бюджетные слушания пройдут 1 декабря в 10:00."));
    await send(pressUpdate(staff, "ann:skip")); // no photo or document
    expect(lastButtons()).toContain("ann:aud:sub");
    await send(pressUpdate(staff, "ann:aud:sub"));
    expect(lastButtons()).toContain("ann:now");
    await send(pressUpdate(staff, "ann:now"));
    await send(pressUpdate(staff, "ann:confirm"));

    const received = (chatId: number) =>
      telegram.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chatId);
    await waitFor(
      () =>
        residents.every((r) =>
          received(r.id).some((c) => String(c.payload.text).includes("10:00")),
        ),
      undefined,
      "the announcement at every resident",
    );
    // Each once: every delivery finished, so no second copy is still on its way.
    await drainDeliveries(db);
    const texts = (chatId: number) =>
      received(chatId)
        .map((c) => String(c.payload.text))
        .filter((t) => t.includes("10:00"));
    // Each in their language, under the line saying which body sends it.
    const [ky, ru] = [translator("ky"), translator("ru")];
    const body =
      m1!.kind === "city" ? "announcements.sender_city" : "announcements.sender_aiyl_aimak";
    const kyHeader = `📢 <b>${ky(body, { name: m1!.nameKy })}</b>`;
    const ruHeader = `📢 <b>${ru(body, { name: m1!.nameRu })}</b>`;
    expect(texts(residents[0]!.id)).toEqual([
      `${kyHeader}\n\nБюджеттик угуу 1-декабрда саат 10:00до болот.`,
    ]);
    expect(texts(residents[1]!.id)).toEqual([
      `${ruHeader}\n\nБюджетные слушания пройдут 1 декабря в 10:00.`,
    ]);
    expect(texts(residents[2]!.id)).toHaveLength(1);
    expect(texts(outsider.id)).toHaveLength(0);
    const audit = await db.select().from(auditLog).where(eq(auditLog.actorUserId, staffRow!.id));
    expect(audit.some((a) => a.action.startsWith("announcement."))).toBe(true);
  });

  it("reports a scheduled broadcast to its sender when it starts and when it ends", async () => {
    const db = app.database.db;
    const [staffRow] = await db.select().from(users).where(eq(users.chatId, staff.id));
    const before = telegram.calls.filter((c) => c.payload.chat_id === staff.id).length;
    const message = await createOutgoingMessage(db, {
      kind: "announcement",
      municipalityId: staffRow!.municipalityId,
      createdByUserId: staffRow!.id,
      content: { text: { ru: "Плановое объявление", ky: "Пландалган кулактандыруу" } },
      audience: { municipalityId: staffRow!.municipalityId, topic: "announcements" },
      scheduledAt: new Date(Date.now() + 1500),
    });
    const report = () =>
      telegram.calls
        .filter((c) => c.payload.chat_id === staff.id)
        .slice(before)
        .map((c) => `${c.method}:${String(c.payload.text)}`);
    // A status message of its own reaches the sender (a small audience may finish before the
    // first progress tick, so it can arrive as the final report straight away), ending in "done".
    const done = () => {
      const r = report();
      return r.some((x) => x.startsWith("sendMessage:")) && (r.at(-1) ?? "").includes("✅");
    };
    await waitFor(done, undefined, "the sender's report to end in done");
    const [row] = await db
      .select({ status: outgoingMessages.status, startedAt: outgoingMessages.startedAt })
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, message.id));
    expect(row).toMatchObject({ status: "done", startedAt: expect.any(Date) });
    // Started at its time, not when it was created.
    expect(row!.startedAt!.getTime()).toBeGreaterThanOrEqual(message.scheduledAt!.getTime() - 5);
  });
});
