import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app";
import { parseConfig } from "../../src/config";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { municipalities, users } from "../../src/db/schema";
import { faqEscalations } from "../../src/db/schema/faq";
import { FAQ_REMINDER_JOB } from "../../src/features/faq/jobs";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { fakeTelegram, person, pressUpdate, TEST_TOKEN, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { drainDeliveries, waitFor } from "../helpers/wait";

/**
 * A legal question the FAQ cannot answer, end to end through the real app: the bot and its
 * conversations in the database, the delivery engine for everything sent proactively, and the
 * real scheduler (its reminder job on a one-second schedule) reminding the lawyer.
 */
describe("an unanswered question from the deputy to the lawyer and back", () => {
  let app: App;
  const telegram = fakeTelegram();
  const deputy = person(7601, "ru");
  const lawyer = person(7602, "ru");

  beforeAll(async () => {
    app = await createApp({
      config: parseConfig({
        LOG_LEVEL: "silent",
        PORT: "0",
        BOT_TOKEN: TEST_TOKEN,
        FAQ_REMIND_AFTER_HOURS: "24",
      }),
      logger: createLogger("silent"),
      fetch: telegram.fetch,
      database: await createTestDatabase(),
      jobSchedules: { [FAQ_REMINDER_JOB]: "* * * * * *" },
    });
    await app.start();
  });
  afterAll(() => app.stop());

  const sentTo = (chatId: number) =>
    telegram.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chatId);
  const buttonsOf = (call: { payload: Record<string, unknown> } | undefined) =>
    (
      (call?.payload.reply_markup as { inline_keyboard?: { callback_data?: string }[][] })
        ?.inline_keyboard ?? []
    )
      .flat()
      .map((b) => b.callback_data ?? "");

  it("escalates, notifies, reminds through the scheduler, and delivers the answer once", async () => {
    const db = app.database.db;
    const send = (u: Parameters<typeof app.bot.handleUpdate>[0]) => app.bot.handleUpdate(u);
    const [m] = await db.select().from(municipalities).orderBy(municipalities.id).limit(1);
    for (const [p, role] of [
      [deputy, "deputy"],
      [lawyer, "lawyer"],
    ] as const) {
      await send(textUpdate(p, "/help"));
      await db
        .update(users)
        .set({ municipalityId: m!.id, locale: "ru" })
        .where(eq(users.chatId, p.id));
      const [row] = await db.select().from(users).where(eq(users.chatId, p.id));
      const invite = await createInvite(db, {
        role,
        municipalityId: role === "deputy" ? m!.id : null,
      });
      expect(await redeemInvite(db, invite.code, row!.id)).toMatchObject({ ok: true });
    }

    const question = "Можно ли депутату совмещать мандат с работой в школе?";
    await send(textUpdate(deputy, question));
    const escalate = buttonsOf(sentTo(deputy.id).at(-1)).find((d) => d.startsWith("faq:esc:"));
    expect(escalate, "the search should abstain and offer the lawyers").toBeDefined();
    await send(pressUpdate(deputy, escalate!));
    const [q] = await db.select().from(faqEscalations);
    expect(q).toMatchObject({ status: "open", text: question });

    // The engine tells the lawyer, with a button to take it.
    const notices = () =>
      sentTo(lawyer.id).filter((c) => String(c.payload.text).includes(question));
    await waitFor(() => notices().length >= 1, undefined, "the lawyer's notice");
    expect(buttonsOf(notices()[0])).toContain(`faq:take:${q!.id}`);

    // A day passes without an answer: the scheduler's job reminds the lawyer.
    await db
      .update(faqEscalations)
      .set({ createdAt: sql`now() - interval '25 hours'` })
      .where(eq(faqEscalations.id, q!.id));
    const remindHead = translator("ru")("faq.remind_open", { count: 24 });
    await waitFor(
      () => sentTo(lawyer.id).some((c) => String(c.payload.text).startsWith(remindHead)),
      undefined,
      "the reminder",
    );
    const reminder = sentTo(lawyer.id).find((c) => String(c.payload.text).startsWith(remindHead));
    expect(String(reminder!.payload.text)).toContain(question);
    expect(buttonsOf(reminder)).toContain(`faq:take:${q!.id}`);
    // Reminded once per interval, not on every run of the job. Time passing is the point: the
    // job runs every second, so 2.2 s is at least two more runs (a lower bound; a slow machine
    // only adds runs, it cannot make a second reminder appear or vanish).
    await new Promise((r) => setTimeout(r, 2_200));
    await drainDeliveries(db);
    expect(
      sentTo(lawyer.id).filter((c) => String(c.payload.text).startsWith(remindHead)),
    ).toHaveLength(1);

    // The lawyer takes it from the reminder and answers in the chat.
    await send(pressUpdate(lawyer, `faq:take:${q!.id}`));
    const answer = "Нет: статья 10 Закона о статусе депутатов местных кенешей это запрещает.";
    await send(textUpdate(lawyer, answer));
    // Shown back first; only "Send" delivers it.
    expect(buttonsOf(sentTo(lawyer.id).at(-1))).toContain("faq:ans:send:1");
    await send(pressUpdate(lawyer, "faq:ans:send:1"));
    await waitFor(
      () => sentTo(deputy.id).some((c) => String(c.payload.text).includes("статья 10")),
      undefined,
      "the answer at the deputy",
    );
    const [after] = await db.select().from(faqEscalations).where(eq(faqEscalations.id, q!.id));
    expect(after?.status).toBe("answered");
    // Once: every delivery finished, so nothing more is on its way to the deputy.
    await drainDeliveries(db);
    expect(
      sentTo(deputy.id).filter((c) => String(c.payload.text).includes("статья 10")),
    ).toHaveLength(1);
  });
});
