import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { parseConfig } from "../../src/config";
import type { DatabaseHandle } from "../../src/db/client";
import { auditLog, municipalities, outgoingMessages, roleGrants, users } from "../../src/db/schema";
import { faqEscalations, faqPendingQuestions } from "../../src/db/schema/faq";
import {
  answer,
  answerContent,
  escalate,
  escalatePending,
  take,
} from "../../src/features/faq/escalation";
import {
  allowQuestion,
  PENDING_TTL_MS,
  purgeExpiredPending,
  QUESTION_RATE,
  savePending,
} from "../../src/features/faq/intake";
import {
  FAQ_PENDING_CLEANUP_JOB,
  FAQ_REMINDER_JOB,
  registerFaqJobs,
} from "../../src/features/faq/jobs";
import { remindLawyers } from "../../src/features/faq/reminders";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import {
  getMunicipality,
  placeLabel,
  seedDemoDirectoryIfEmpty,
} from "../../src/features/municipalities/service";
import { escapeHtml, translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { Scheduler } from "../../src/scheduler";
import { createTestBot, fakeTelegram, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { startTestEngine } from "../helpers/engine";

const ru = translator("ru");
const OFF_TOPIC = "Какая погода завтра в Бишкеке?";
const OFF_TOPIC_2 = "Где купить билеты на футбол?";
const HOUR = 3_600_000;
const TZ = "Asia/Bishkek";

let handle: DatabaseHandle;
let delivery: ReturnType<typeof startTestEngine>;
let m1: number;
let nextChat = 8_000;

beforeAll(async () => {
  handle = await createTestDatabase();
  await seedDemoDirectoryIfEmpty(handle.db);
  await seedFaqIfEmpty(handle.db);
  const [m] = await handle.db.select().from(municipalities).orderBy(municipalities.id).limit(1);
  m1 = m!.id;
  delivery = startTestEngine(handle.db);
});

afterAll(async () => {
  await delivery.stop();
  await handle.close();
});

async function userIdOf(chatId: number): Promise<number> {
  const [row] = await handle.db.select().from(users).where(eq(users.chatId, chatId));
  return row!.id;
}

/** A person who talked to the bot once, with a role (deputies in m1) and a saved language. */
async function withRole(role: "deputy" | "lawyer" | null, locale: "ky" | "ru" | "en" = "ru") {
  const p = person(nextChat++, locale);
  await createTestBot(handle.db).send(textUpdate(p, "/help"));
  const id = await userIdOf(p.id);
  await handle.db.update(users).set({ locale }).where(eq(users.id, id));
  if (role) {
    const municipalityId = role === "deputy" ? m1 : null;
    await handle.db.insert(roleGrants).values({ userId: id, role, municipalityId });
    if (municipalityId)
      await handle.db.update(users).set({ municipalityId }).where(eq(users.id, id));
  }
  return { ...p, userId: id };
}

function escalateButton(t: ReturnType<typeof createTestBot>): string {
  const data = t.lastButtons().find((b) => b.data.startsWith("faq:esc:"))?.data;
  if (!data) throw new Error("no escalation offered");
  return data;
}

async function questionsOf(askerUserId: number) {
  return handle.db.select().from(faqEscalations).where(eq(faqEscalations.askerUserId, askerUserId));
}

async function auditOf(action: string) {
  return handle.db.select().from(auditLog).where(eq(auditLog.action, action));
}

describe("the question waiting for 'send to the lawyers' lives in the database", () => {
  it("survives a restart: a new bot instance escalates it and the lawyers get it", async () => {
    const deputy = await withRole("deputy");
    const lawyer = await withRole("lawyer");
    const before = createTestBot(handle.db);
    await before.send(textUpdate(deputy, OFF_TOPIC));
    const button = escalateButton(before);

    // "Restart": a brand-new bot (no shared memory) on the same database takes the press.
    const after = createTestBot(handle.db);
    await after.send(pressUpdate(deputy, button));
    const [q] = await questionsOf(deputy.userId);
    expect(q).toMatchObject({ status: "open", text: OFF_TOPIC, municipalityId: m1 });
    expect(after.texts().at(-1)).toBe(ru("faq.escalated", { id: q!.id }));
    expect(await handle.db.select().from(faqPendingQuestions)).not.toContainEqual(
      expect.objectContaining({ userId: deputy.userId }),
    );
    await delivery.drain();
    expect(delivery.sentTo(lawyer.id).some((m) => String(m.text).includes(OFF_TOPIC))).toBe(true);

    // Pressed again on a third instance: already consumed.
    const third = createTestBot(handle.db);
    await third.send(pressUpdate(deputy, button));
    expect(third.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    expect(await questionsOf(deputy.userId)).toHaveLength(1);
  });

  it("each button sends its own question, once, even when pressed on two instances at once", async () => {
    const deputy = await withRole("deputy");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(deputy, OFF_TOPIC));
    const first = escalateButton(t);
    await t.send(textUpdate(deputy, OFF_TOPIC_2));
    const second = escalateButton(t);
    expect(first).not.toBe(second);

    await Promise.all([
      createTestBot(handle.db).send(pressUpdate(deputy, first)),
      createTestBot(handle.db).send(pressUpdate(deputy, first)),
    ]);
    expect((await questionsOf(deputy.userId)).map((q) => q.text)).toEqual([OFF_TOPIC]);
    await t.send(pressUpdate(deputy, second));
    expect((await questionsOf(deputy.userId)).map((q) => q.text).sort()).toEqual(
      [OFF_TOPIC, OFF_TOPIC_2].sort(),
    );
    expect(await auditOf("faq.escalate")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actorUserId: deputy.userId, municipalityId: m1 }),
      ]),
    );
  });

  it("another person's, an expired or a made-up pending id escalates nothing", async () => {
    const deputy = await withRole("deputy");
    const other = await withRole("deputy");
    const citizen = await withRole(null);
    const t = createTestBot(handle.db);
    await t.send(textUpdate(deputy, OFF_TOPIC));
    const button = escalateButton(t);

    await t.send(pressUpdate(other, button));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    await t.send(pressUpdate(citizen, button));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    await t.send(pressUpdate(other, "faq:esc:999999999"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    expect(await questionsOf(other.userId)).toHaveLength(0);
    expect(await questionsOf(citizen.userId)).toHaveLength(0);
    expect(await questionsOf(deputy.userId)).toHaveLength(0);

    // Past its time it is refused, and the cleanup job removes it.
    const pendingId = Number(button.split(":")[2]);
    const later = new Date(Date.now() + PENDING_TTL_MS + 1000);
    expect(
      await escalatePending(
        handle.db,
        { pendingId, askerUserId: deputy.userId, municipalityId: m1 },
        later,
      ),
    ).toBeUndefined();
    const fresh = await savePending(
      handle.db,
      { userId: deputy.userId, text: "x", lang: "ru", searchSnapshot: {} },
      later,
    );
    expect(await purgeExpiredPending(handle.db, later)).toBeGreaterThanOrEqual(1);
    const left = (await handle.db.select().from(faqPendingQuestions)).map((p) => p.id);
    expect(left).toContain(fresh);
    expect(left).not.toContain(pendingId);
  });

  it("citizens are never offered escalation and nothing is stored for them", async () => {
    const citizen = await withRole(null);
    const t = createTestBot(handle.db);
    await t.send(textUpdate(citizen, OFF_TOPIC));
    expect(t.lastButtons().some((b) => b.data.startsWith("faq:esc"))).toBe(false);
    const rows = await handle.db
      .select()
      .from(faqPendingQuestions)
      .where(eq(faqPendingQuestions.userId, citizen.userId));
    expect(rows).toHaveLength(0);
  });
});

describe("question rate limit in the database", () => {
  it("is shared by bot instances (a restart does not reset it)", async () => {
    const p = await withRole(null);
    const question = "на каком языке можно подать обращение";
    const bots = [createTestBot(handle.db), createTestBot(handle.db)];
    for (let i = 0; i < QUESTION_RATE.max; i++) await bots[i % 2]!.send(textUpdate(p, question));
    for (const b of bots) expect(b.texts()).not.toContain(ru("faq.rate_limited"));
    const third = createTestBot(handle.db);
    await third.send(textUpdate(p, question));
    expect(third.texts().at(-1)).toBe(ru("faq.rate_limited"));
  });

  it("opens again when the window has passed, and counts concurrent questions exactly", async () => {
    const p = await withRole(null);
    const t0 = new Date();
    const results = await Promise.all(
      Array.from({ length: QUESTION_RATE.max + 5 }, () => allowQuestion(handle.db, p.userId, t0)),
    );
    expect(results.filter(Boolean)).toHaveLength(QUESTION_RATE.max);
    const almost = new Date(t0.getTime() + QUESTION_RATE.windowMs - 1000);
    expect(await allowQuestion(handle.db, p.userId, almost)).toBe(false);
    const after = new Date(t0.getTime() + QUESTION_RATE.windowMs + 1);
    expect(await allowQuestion(handle.db, p.userId, after)).toBe(true);
    expect(await allowQuestion(handle.db, p.userId, after)).toBe(true);
  });
});

describe("lawyer rights are checked on the server", () => {
  async function openQuestion(text = "Вопрос для проверки прав") {
    const deputy = await withRole("deputy");
    return escalate(handle.db, {
      askerUserId: deputy.userId,
      municipalityId: m1,
      text,
      lang: "ru",
      searchSnapshot: {},
    });
  }

  it("refuses forged take and publish presses from citizens and deputies", async () => {
    const q = await openQuestion();
    const citizen = await withRole(null);
    const deputy = await withRole("deputy");
    const t = createTestBot(handle.db);
    for (const who of [citizen, deputy]) {
      for (const data of [`faq:take:${q.id}`, `faq:pub:${q.id}`]) {
        await t.send(pressUpdate(who, data));
        expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
      }
      await t.send(textUpdate(who, "/queue"));
      expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
    }
    const [row] = await handle.db.select().from(faqEscalations).where(eq(faqEscalations.id, q.id));
    expect(row).toMatchObject({ status: "open", takenByUserId: null });
    // The service refuses on its own too, whatever the caller checked.
    expect(await take(handle.db, q.id, citizen.userId)).toBeUndefined();
  });

  it("a lawyer cannot publish an unanswered question; a revoked lawyer cannot answer", async () => {
    const q = await openQuestion();
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(lawyer, `faq:pub:${q.id}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));

    await t.send(pressUpdate(lawyer, `faq:take:${q.id}`));
    expect(t.texts().at(-1)).toBe(ru("faq.type_answer"));
    // The role is revoked while the lawyer is typing.
    await handle.db.delete(roleGrants).where(eq(roleGrants.userId, lawyer.userId));
    await t.send(textUpdate(lawyer, "Ответ после отзыва роли"));
    await t.send(pressUpdate(lawyer, "faq:ans:send:1"));
    expect(t.texts().at(-1)).toBe(ru("faq.answer_failed"));
    const [row] = await handle.db.select().from(faqEscalations).where(eq(faqEscalations.id, q.id));
    expect(row).toMatchObject({ status: "taken", answerText: null });
    expect(await answer(handle.db, q.id, lawyer.userId, "ещё раз")).toBeUndefined();

    // The next reminder run gives the question back to the queue (audit-logged).
    const r = await remindLawyers(handle.db, { afterHours: 24, timezone: TZ });
    expect(r.released).toContain(q.id);
    const [back] = await handle.db.select().from(faqEscalations).where(eq(faqEscalations.id, q.id));
    expect(back).toMatchObject({ status: "open", takenByUserId: null });
    expect((await auditOf("faq.question.release")).map((a) => a.details)).toContainEqual(
      expect.objectContaining({ questionId: q.id }),
    );
  });

  it("publishing checks the lawyer role again at the moment of publishing", async () => {
    const q = await openQuestion("Вопрос для публикации без роли");
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(lawyer, `faq:take:${q.id}`));
    await t.send(textUpdate(lawyer, "Ответ, который не будет опубликован"));
    await t.send(pressUpdate(lawyer, "faq:ans:send:1"));
    expect(t.texts().at(-1)).toBe(ru("faq.answer_sent", { id: q.id }));
    await t.send(pressUpdate(lawyer, `faq:pub:${q.id}`));
    await t.send(pressUpdate(lawyer, "faq:p:keep"));
    await t.send(pressUpdate(lawyer, "faq:p:keep"));
    await t.send(pressUpdate(lawyer, "faq:p:skip"));
    await t.send(pressUpdate(lawyer, "faq:p:skip"));
    await t.send(textUpdate(lawyer, "Источник"));
    await t.send(pressUpdate(lawyer, "faq:p:aud:everyone"));
    expect(t.lastButtons().map((b) => b.data)).toEqual(["faq:p:ok", "faq:p:no"]);
    await handle.db.delete(roleGrants).where(eq(roleGrants.userId, lawyer.userId));
    await t.send(pressUpdate(lawyer, "faq:p:ok"));
    expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
    expect(await new FaqService(handle.db).getEntry(`lawyer-q${q.id}`)).toBeUndefined();
    const published = await auditOf("faq.publish");
    expect(published.some((a) => a.actorUserId === lawyer.userId)).toBe(false);
  });

  it("every lawyer action is audit-logged with the lawyer as actor", async () => {
    const q = await openQuestion("Вопрос для аудита");
    const lawyer = await withRole("lawyer");
    expect(await take(handle.db, q.id, lawyer.userId)).toMatchObject({
      id: q.id,
      status: "taken",
      takenByUserId: lawyer.userId,
    });
    const result = await answer(handle.db, q.id, lawyer.userId, "Ответ для аудита");
    expect(result).toMatchObject({ queued: true });
    const mine = (
      await handle.db.select().from(auditLog).where(eq(auditLog.actorUserId, lawyer.userId))
    ).map((a) => [a.action, a.actorLabel, a.municipalityId, a.details.questionId]);
    expect(mine).toEqual([
      ["faq.question.take", "lawyer", m1, q.id],
      ["faq.question.answer", "lawyer", m1, q.id],
    ]);
    // The answer went to the engine in the same transaction.
    const [message] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, result!.messageId));
    expect(message).toMatchObject({ kind: "faq_answer", createdByUserId: lawyer.userId });
    // What a WhatsApp template is filled with outside the 24-hour window, in the asker's language.
    expect(message?.content.templateParams).toEqual({
      question: { ru: "Вопрос для аудита" },
      answer: { ru: "Ответ для аудита" },
    });
    // A long question is cut to 200 characters, never inside an emoji (jsonb refuses half of one).
    const long = `${"ы".repeat(198)}😀${"ж".repeat(100)}`;
    const cut = answerContent({ text: long, lang: "ky" }, "Жооп", null).templateParams?.question
      ?.ky;
    expect(cut).toBe(`${"ы".repeat(198)}…`);
  });
});

describe("reminders", () => {
  beforeEach(async () => {
    // Each test starts with an empty queue (earlier tests leave questions open).
    await handle.db
      .update(faqEscalations)
      .set({ status: "answered", answeredAt: new Date() })
      .where(sql`${faqEscalations.status} <> 'answered'`);
  });

  async function ask(text: string) {
    const deputy = await withRole("deputy");
    return escalate(handle.db, {
      askerUserId: deputy.userId,
      municipalityId: m1,
      text,
      lang: "ru",
      searchSnapshot: {},
    });
  }

  /** Reminders (not "new question" notices) that reached a chat and mention `marker`. */
  const reminders = (chatId: number, marker: string) =>
    delivery
      .sentTo(chatId)
      .filter((m) => String(m.text).startsWith("⏰") && String(m.text).includes(marker));

  it("remind every lawyer, in their language, of open questions older than the setting, then again only after as long", async () => {
    const lawyers = [
      await withRole("lawyer", "ky"),
      await withRole("lawyer", "ru"),
      await withRole("lawyer", "en"),
    ];
    const old = await ask("Старый вопрос <без ответа>");
    const fresh = await ask("Свежий вопрос");
    await handle.db
      .update(faqEscalations)
      .set({ createdAt: new Date(Date.now() - 25 * HOUR) })
      .where(eq(faqEscalations.id, old.id));
    const answered = await ask("Отвеченный старый вопрос");
    await handle.db
      .update(faqEscalations)
      .set({ status: "answered", createdAt: new Date(Date.now() - 50 * HOUR) })
      .where(eq(faqEscalations.id, answered.id));

    const now = new Date();
    const r = await remindLawyers(handle.db, { afterHours: 24, timezone: TZ, now });
    expect(r).toMatchObject({ open: [old.id], taken: [], released: [] });
    expect(r.messages).toHaveLength(1);
    const [row] = await handle.db
      .select()
      .from(faqEscalations)
      .where(eq(faqEscalations.id, old.id));
    expect(row!.remindedAt?.getTime()).toBe(now.getTime());

    await delivery.drain();
    const marker = "&lt;без ответа&gt;";
    for (const l of lawyers) {
      const got = reminders(l.id, marker);
      expect(got).toHaveLength(1);
      const t = translator(l.language_code as "ky" | "ru" | "en");
      expect(String(got[0]!.text)).toContain(t("faq.remind_open", { count: 24 }));
      expect(String(got[0]!.text)).not.toContain("Свежий вопрос");
      const buttons = (
        got[0]!.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }
      ).inline_keyboard.flat();
      expect(buttons).toEqual([
        { text: t("faq.take_button", { id: old.id }), callback_data: `faq:take:${old.id}` },
      ]);
    }
    expect((await auditOf("faq.question.remind")).map((a) => a.details)).toContainEqual(
      expect.objectContaining({ questionId: old.id, to: "lawyers", messageId: r.messages[0] }),
    );

    // Not again before another 24 hours have passed; then again (the fresh one is due too).
    const again = await remindLawyers(handle.db, {
      afterHours: 24,
      timezone: TZ,
      now: new Date(now.getTime() + 23 * HOUR),
    });
    expect(again.open).toEqual([]);
    expect(again.messages).toEqual([]);
    const dayLater = await remindLawyers(handle.db, {
      afterHours: 24,
      timezone: TZ,
      now: new Date(now.getTime() + 24 * HOUR + 1000),
    });
    expect(dayLater.open).toEqual([old.id, fresh.id]);
    await delivery.drain();
    for (const l of lawyers) expect(reminders(l.id, marker)).toHaveLength(2);
  });

  it("remind only the lawyer who took a question and has not answered it", async () => {
    const holder = await withRole("lawyer");
    const other = await withRole("lawyer");
    const q = await ask("Взятый вопрос без ответа");
    expect(await take(handle.db, q.id, holder.userId)).toMatchObject({
      id: q.id,
      status: "taken",
      takenByUserId: holder.userId,
    });
    // Just taken: not due yet with 24 hours, even though it was asked long ago.
    await handle.db
      .update(faqEscalations)
      .set({ createdAt: new Date(Date.now() - 30 * HOUR) })
      .where(eq(faqEscalations.id, q.id));
    expect((await remindLawyers(handle.db, { afterHours: 24, timezone: TZ })).taken).toEqual([]);

    const r = await remindLawyers(handle.db, {
      afterHours: 24,
      timezone: TZ,
      now: new Date(Date.now() + 25 * HOUR),
    });
    expect(r).toMatchObject({ open: [], taken: [q.id] });
    await delivery.drain();
    const got = reminders(holder.id, "Взятый вопрос без ответа");
    expect(got).toHaveLength(1);
    expect(String(got[0]!.text)).toContain(ru("faq.remind_taken", { count: 24 }));
    expect(JSON.stringify(got[0]!.reply_markup)).toContain(`faq:take:${q.id}`);
    expect(reminders(other.id, "Взятый вопрос без ответа")).toHaveLength(0);
    expect((await auditOf("faq.question.remind")).map((a) => a.details)).toContainEqual(
      expect.objectContaining({ questionId: q.id, to: `user:${holder.userId}` }),
    );

    // The button resumes answering: the holder takes it again and answers.
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(holder, `faq:take:${q.id}`));
    expect(t.texts().at(-1)).toBe(ru("faq.type_answer"));
  });

  it("two instances running the job at once remind of each question once", async () => {
    const lawyer = await withRole("lawyer");
    const qs = [await ask("Параллельный вопрос 1"), await ask("Параллельный вопрос 2")];
    const now = new Date(Date.now() + 25 * HOUR);
    const runs = await Promise.all(
      [0, 1, 2].map(() => remindLawyers(handle.db, { afterHours: 24, timezone: TZ, now })),
    );
    const reminded = runs.flatMap((r) => r.open).sort((a, b) => a - b);
    expect(reminded).toEqual(qs.map((q) => q.id).sort((a, b) => a - b));
    expect(runs.flatMap((r) => r.messages)).toHaveLength(1);
    await delivery.drain();
    expect(reminders(lawyer.id, "Параллельный вопрос 1")).toHaveLength(1);
  });

  it("keep long lists within Telegram's limits", async () => {
    const lawyer = await withRole("lawyer");
    const deputy = await withRole("deputy");
    // Stored directly (no "new question" notices to wait for).
    await handle.db.insert(faqEscalations).values(
      Array.from({ length: 14 }, (_, i) => ({
        askerUserId: deputy.userId,
        municipalityId: m1,
        text: `Длинный вопрос ${i} ${"&".repeat(900)}`,
        lang: "ru" as const,
      })),
    );
    const r = await remindLawyers(handle.db, {
      afterHours: 1,
      timezone: TZ,
      now: new Date(Date.now() + 2 * HOUR),
    });
    expect(r.open).toHaveLength(14);
    await delivery.drain();
    const [got] = reminders(lawyer.id, "Длинный вопрос 0");
    expect(String(got!.text).length).toBeLessThanOrEqual(4096);
    expect(String(got!.text)).toContain(ru("faq.remind_open_hint"));
    const listed = (String(got!.text).match(/<b>№\d+<\/b>/g) ?? []).length;
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(14);
    expect(String(got!.text)).toContain(ru("faq.remind_more", { count: 14 - listed }));
    const buttons = (got!.reply_markup as { inline_keyboard: unknown[][] }).inline_keyboard.flat();
    expect(buttons).toHaveLength(listed);
  });
});

describe("the reminder job on the scheduler", () => {
  it("is registered by the app with FAQ_REMIND_AFTER_HOURS, and left out when it is 0", async () => {
    const app = await createApp({
      config: parseConfig({ LOG_LEVEL: "silent", PORT: "0", FAQ_REMIND_AFTER_HOURS: "6" }),
      logger: createLogger("silent"),
      fetch: fakeTelegram().fetch,
      database: await createTestDatabase(),
    });
    try {
      expect(app.scheduler.jobNames).toEqual(
        expect.arrayContaining([FAQ_REMINDER_JOB, FAQ_PENDING_CLEANUP_JOB]),
      );
    } finally {
      await app.stop();
    }
    const off = new Scheduler({ db: handle.db, timezone: TZ });
    registerFaqJobs(off, {
      db: handle.db,
      config: parseConfig({ FAQ_REMIND_AFTER_HOURS: "0" }),
    });
    expect(off.jobNames).toEqual([FAQ_PENDING_CLEANUP_JOB]);
    expect(parseConfig({}).faqRemindAfterHours).toBe(24);
  });
});

describe("lawyers see which municipality a question comes from", () => {
  beforeEach(async () => {
    // /queue shows the oldest open questions first: start from an empty queue.
    await handle.db
      .update(faqEscalations)
      .set({ status: "answered", answeredAt: new Date() })
      .where(sql`${faqEscalations.status} <> 'answered'`);
  });

  it("in the new-question notice, in /queue, when taking it and in reminders", async () => {
    const deputy = await withRole("deputy");
    const lawyer = await withRole("lawyer", "ky");
    const m = await getMunicipality(handle.db, m1);
    const [placeRu, placeKy] = [placeLabel(m!, "ru"), placeLabel(m!, "ky")];
    expect(placeRu).toContain(m!.nameRu);
    const t = createTestBot(handle.db);
    const question = "Кто утверждает план посадки деревьев у дома? (вопрос с адресом)";
    await t.send(textUpdate(deputy, question));
    await t.send(pressUpdate(deputy, escalateButton(t)));
    const [q] = await questionsOf(deputy.userId);

    await delivery.drain();
    const notice = delivery.sentTo(lawyer.id).find((n) => String(n.text).includes(question));
    expect(String(notice?.text)).toContain(`🏘 ${escapeHtml(placeKy)}`);

    const lawyerRu = await withRole("lawyer", "ru");
    await t.send(textUpdate(lawyerRu, "/queue"));
    const queue = String(t.lastCall("sendMessage")?.payload.text);
    const item = queue.split("\n\n").find((i) => i.includes(question));
    expect(item).toContain(`🏘 ${escapeHtml(placeRu)}`);

    // Reminded a day later: the reminder's list says it too.
    const r = await remindLawyers(handle.db, {
      afterHours: 24,
      timezone: TZ,
      now: new Date(Date.now() + 25 * HOUR),
    });
    expect(r.open).toContain(q!.id);
    await delivery.drain();
    const reminder = delivery
      .sentTo(lawyerRu.id)
      .find((n) => String(n.text).startsWith("⏰") && String(n.text).includes(question));
    const listed = String(reminder?.text)
      .split("\n\n")
      .find((i) => i.includes(question));
    expect(listed).toContain(`🏘 ${escapeHtml(placeRu)}`);

    await t.send(pressUpdate(lawyerRu, `faq:take:${q!.id}`));
    expect(t.texts().at(-2)).toBe(
      ru("faq.taken", { id: q!.id, municipality: escapeHtml(placeRu), text: question }),
    );
  });

  it("says so when the asker gave no municipality", async () => {
    const lawyer = await withRole("lawyer", "en");
    const asker = await withRole(null);
    const q = await escalate(handle.db, {
      askerUserId: asker.userId,
      municipalityId: null,
      text: "A question from nowhere in particular",
      lang: "en",
      searchSnapshot: {},
    });
    await delivery.drain();
    const notice = delivery.sentTo(lawyer.id).find((n) => String(n.text).includes("nowhere"));
    expect(String(notice?.text)).toContain(`🏘 ${translator("en")("faq.municipality_unknown")}`);
    expect(q.municipalityId).toBeNull();
  });
});

describe("the lawyer confirms an answer before it is sent", () => {
  async function openQuestion(text: string) {
    const deputy = await withRole("deputy");
    const q = await escalate(handle.db, {
      askerUserId: deputy.userId,
      municipalityId: m1,
      text,
      lang: "ru",
      searchSnapshot: {},
    });
    return { deputy, q };
  }

  const answersTo = (chatId: number) =>
    delivery.sentTo(chatId).filter((m) => String(m.text).startsWith("📬"));

  it("shows the answer back; Edit and typing again replace it; only Send delivers, once", async () => {
    const { deputy, q } = await openQuestion("Вопрос для подтверждения ответа");
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(lawyer, `faq:take:${q.id}`));
    expect(t.texts().at(-1)).toBe(ru("faq.type_answer"));

    await t.send(textUpdate(lawyer, "Первый вариант <с ошибкой>"));
    expect(t.lastCall("sendMessage")?.payload).toMatchObject({
      text: ru("faq.answer_preview", { id: q.id, answer: "Первый вариант &lt;с ошибкой&gt;" }),
      parse_mode: "HTML",
    });
    expect(t.lastButtons().map((b) => b.data)).toEqual([
      "faq:ans:send:1",
      "faq:ans:edit:1",
      "faq:ans:cancel:1",
    ]);
    // Nothing is stored or sent while the lawyer looks at it.
    const stillTaken = async () =>
      (await handle.db.select().from(faqEscalations).where(eq(faqEscalations.id, q.id)))[0];
    expect(await stillTaken()).toMatchObject({ status: "taken", answerText: null });

    await t.send(pressUpdate(lawyer, "faq:ans:edit:1"));
    expect(t.texts().at(-1)).toBe(ru("faq.answer_retype"));
    await t.send(textUpdate(lawyer, "Второй вариант"));
    // The first draft's buttons are stale now: pressing "Send" there sends nothing.
    await t.send(pressUpdate(lawyer, "faq:ans:send:1"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    // Typing once more replaces the draft too.
    await t.send(textUpdate(lawyer, "Окончательный ответ: да, можно."));
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:ans:send:3");
    expect(await stillTaken()).toMatchObject({ status: "taken", answerText: null });

    await t.send(pressUpdate(lawyer, "faq:ans:send:3"));
    expect(t.texts().at(-1)).toBe(ru("faq.answer_sent", { id: q.id }));
    await t.send(pressUpdate(lawyer, "faq:ans:send:3"));
    await delivery.drain();
    const got = answersTo(deputy.id);
    expect(got).toHaveLength(1);
    expect(String(got[0]!.text)).toContain("Окончательный ответ: да, можно.");
    expect(await stillTaken()).toMatchObject({
      status: "answered",
      answerText: "Окончательный ответ: да, можно.",
    });
  });

  it("Cancel sends nothing and leaves the question with the lawyer, with a button to go on", async () => {
    const { deputy, q } = await openQuestion("Вопрос, ответ на который отменят");
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(lawyer, `faq:take:${q.id}`));
    await t.send(textUpdate(lawyer, "Черновик"));
    await t.send(pressUpdate(lawyer, "faq:ans:cancel:1"));
    expect(t.texts().at(-1)).toBe(ru("faq.answer_cancelled", { id: q.id }));
    expect(t.lastButtons().map((b) => b.data)).toEqual([`faq:take:${q.id}`]);
    await delivery.drain();
    expect(answersTo(deputy.id)).toHaveLength(0);
    const [row] = await handle.db.select().from(faqEscalations).where(eq(faqEscalations.id, q.id));
    expect(row).toMatchObject({ status: "taken", takenByUserId: lawyer.userId, answerText: null });
    // The flow is over: the next text is a FAQ question, not an answer.
    await t.send(textUpdate(lawyer, "на каком языке можно подать обращение"));
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:fb:appeal-language:1");
    // The button takes it up again.
    await t.send(pressUpdate(lawyer, `faq:take:${q.id}`));
    expect(t.texts().at(-1)).toBe(ru("faq.type_answer"));
  });
});
