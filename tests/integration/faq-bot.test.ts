import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { auditLog, municipalities, roleGrants, users } from "../../src/db/schema";
import { faqEscalations, faqFeedback } from "../../src/db/schema/faq";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { formatDate, translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { startTestEngine } from "../helpers/engine";

const ru = translator("ru");

const ANSWERABLE = "на каком языке можно подать обращение";
const OFF_TOPIC = "Какая погода завтра в Бишкеке?";
const DEPUTIES_ONLY = "closed-session-minutes";
const DEPUTIES_QUERY = "протокол закрытого заседания кенеша";

describe("FAQ in the bot", () => {
  let handle: DatabaseHandle;
  let m1: number;
  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
    const faq = new FaqService(handle.db);
    await seedFaqIfEmpty(handle.db, faq);
    await faq.publish({
      id: DEPUTIES_ONLY,
      topic: "deputies",
      question: {
        ru: "Как оформить протокол закрытого заседания айылного кенеша?",
        ky: "Айылдык кеңештин жабык жыйынынын протоколу кантип түзүлөт?",
      },
      answer: {
        ru: "Протокол закрытого заседания подписывают председатель и секретарь.",
        ky: "Жабык жыйындын протоколуна төрага жана катчы кол коёт.",
      },
      source: "Регламент кенеша (тест)",
      lastChecked: "2026-03-31",
      audience: "deputies_staff",
      status: "published",
      tags: ["протокол", "закрытое заседание"],
      phrasings: {},
    });
    const [m] = await handle.db.select().from(municipalities).orderBy(municipalities.id).limit(1);
    m1 = m!.id;
  });
  afterAll(() => handle.close());

  async function userIdOf(chatId: number): Promise<number> {
    const [row] = await handle.db.select().from(users).where(eq(users.chatId, chatId));
    return row!.id;
  }

  /** Creates the person (via /help) and grants a role directly. */
  async function withRole(
    t: ReturnType<typeof createTestBot>,
    chatId: number,
    role: "deputy" | "lawyer",
  ) {
    const p = person(chatId);
    await t.send(textUpdate(p, "/help"));
    const id = await userIdOf(chatId);
    const municipalityId = role === "deputy" ? m1 : null;
    await handle.db.insert(roleGrants).values({ userId: id, role, municipalityId });
    if (municipalityId)
      await handle.db.update(users).set({ municipalityId }).where(eq(users.id, id));
    return p;
  }

  const lastSent = (t: ReturnType<typeof createTestBot>) => t.lastCall("sendMessage")!.payload;

  it("answers with source, date, feedback and related buttons", async () => {
    const t = createTestBot(handle.db);
    const citizen = person(7001);
    await t.send(textUpdate(citizen, ANSWERABLE));
    const sent = lastSent(t);
    expect(sent.parse_mode).toBe("HTML");
    const entry = await new FaqService(handle.db).getEntry("appeal-language");
    const text = String(sent.text);
    expect(text).toContain(entry!.question.ru!);
    expect(text).toContain(ru("faq.source", { source: entry!.source }));
    const date = formatDate(
      new Date(`${entry!.lastChecked}T12:00:00Z`),
      "ru",
      t.deps.config.timezone,
    );
    expect(text).toContain(date);
    const buttons = t.lastButtons().map((b) => b.data);
    expect(buttons.slice(0, 2)).toEqual(["faq:fb:appeal-language:1", "faq:fb:appeal-language:0"]);
    const related = buttons.filter((d) => d.startsWith("faq:show:"));
    expect(related.length).toBeGreaterThan(0);
    expect(related.length).toBeLessThanOrEqual(2);

    // One vote per person and entry: 👎 then 👍 leaves one row, 👍, and each answer says so.
    await t.send(pressUpdate(citizen, "faq:fb:appeal-language:0"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.feedback_saved_0"));
    await t.send(pressUpdate(citizen, "faq:fb:appeal-language:1"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.feedback_changed_1"));
    const votes = await handle.db
      .select()
      .from(faqFeedback)
      .where(eq(faqFeedback.userId, await userIdOf(citizen.id)));
    expect(votes.map((v) => [v.entryId, v.helpful])).toEqual([["appeal-language", true]]);
    await t.send(pressUpdate(citizen, "faq:fb:appeal-language:1"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.feedback_saved_1"));

    const relatedId = related[0]!.slice("faq:show:".length);
    await t.send(pressUpdate(citizen, related[0]!));
    const shown = await new FaqService(handle.db).getEntry(relatedId);
    expect(String(lastSent(t).text)).toContain(shown!.question.ru!);
  });

  it("never shows a deputies-only entry to a citizen, even on a forged press", async () => {
    const t = createTestBot(handle.db);
    const citizen = person(7101);
    await t.send(textUpdate(citizen, DEPUTIES_QUERY));
    expect(String(lastSent(t).text)).not.toContain("закрытого заседания айылного");
    expect(t.lastButtons().map((b) => b.data)).not.toContain(`faq:show:${DEPUTIES_ONLY}`);
    const before = t.texts().length;
    await t.send(pressUpdate(citizen, `faq:show:${DEPUTIES_ONLY}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    expect(t.texts().length).toBe(before);
    await t.send(pressUpdate(citizen, `faq:fb:${DEPUTIES_ONLY}:1`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));

    const deputy = await withRole(t, 7102, "deputy");
    await t.send(textUpdate(deputy, DEPUTIES_QUERY));
    expect(String(lastSent(t).text)).toContain("закрытого заседания айылного");
  });

  it("abstains on an off-topic question; only deputies are offered the lawyers", async () => {
    const t = createTestBot(handle.db);
    const citizen = person(7201);
    await t.send(textUpdate(citizen, OFF_TOPIC));
    expect(String(lastSent(t).text)).toContain(ru("faq.no_answer"));
    expect(t.lastButtons().some((b) => b.data.startsWith("faq:esc"))).toBe(false);
    expect(t.lastButtons().length).toBeLessThanOrEqual(3);

    const deputy = await withRole(t, 7202, "deputy");
    await t.send(textUpdate(deputy, OFF_TOPIC));
    expect(String(lastSent(t).text)).toContain(ru("faq.no_answer"));
    expect(t.lastButtons().map((b) => b.data)).toContainEqual(
      expect.stringMatching(/^faq:esc:\d+$/),
    );
  });

  it("refuses a forged escalation from a citizen and stores nothing", async () => {
    const t = createTestBot(handle.db);
    const citizen = person(7301);
    await t.send(textUpdate(citizen, OFF_TOPIC));
    const before = (await handle.db.select().from(faqEscalations)).length;
    for (const data of ["faq:esc", "faq:esc:1", "faq:esc:999999"]) {
      await t.send(pressUpdate(citizen, data));
      expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    }
    expect((await handle.db.select().from(faqEscalations)).length).toBe(before);
  });

  it("rejects overlong questions and limits the question rate", async () => {
    const t = createTestBot(handle.db);
    const p = person(7401);
    // One limit for every message: Telegram's 4,096 characters (the web chat's box shows it).
    await t.send(textUpdate(p, "а".repeat(4097)));
    expect(t.texts().at(-1)).toBe(ru("errors.too_long", { length: 4097, max: 4096 }));
    for (let i = 0; i < 10; i++) await t.send(textUpdate(p, ANSWERABLE));
    expect(t.texts().at(-1)).not.toBe(ru("faq.rate_limited"));
    await t.send(textUpdate(p, ANSWERABLE));
    expect(t.texts().at(-1)).toBe(ru("faq.rate_limited"));
  });

  it("escalates end to end: deputy asks, lawyer takes and answers, deputy receives it", async () => {
    const t = createTestBot(handle.db);
    // Lawyer notices and the answer are proactive messages: the delivery engine sends them.
    const delivery = startTestEngine(handle.db);
    const deputy = await withRole(t, 7501, "deputy");
    const lawyer = await withRole(t, 7502, "lawyer");
    const lawyer2 = await withRole(t, 7503, "lawyer");
    const citizen = person(7504);

    const question = "Можно ли депутату совмещать мандат с работой в <школе>?";
    await t.send(textUpdate(deputy, question));
    const esc = t.lastButtons().find((b) => b.data.startsWith("faq:esc:"))?.data;
    if (!esc) {
      // The search answered; escalation is offered only on abstention.
      throw new Error(`expected an abstention for: ${question}`);
    }
    const callsBefore = t.calls.length;
    await t.send(pressUpdate(deputy, esc));
    const [row] = await handle.db
      .select()
      .from(faqEscalations)
      .where(eq(faqEscalations.askerUserId, await userIdOf(deputy.id)));
    expect(row).toMatchObject({ status: "open", text: question, lang: "ru", municipalityId: m1 });
    expect(row!.searchSnapshot).toHaveProperty("confidence");
    // Every lawyer is notified through the engine (not directly by the bot), with a take button.
    await delivery.drain();
    expect(t.calls.slice(callsBefore).some((c) => c.payload.chat_id === lawyer.id)).toBe(false);
    for (const l of [lawyer, lawyer2]) {
      const notices = delivery.sentTo(l.id);
      expect(notices).toHaveLength(1);
      expect(String(notices[0]!.text)).toContain("&lt;школе&gt;");
      expect(notices[0]!.parse_mode).toBe("HTML");
      expect(JSON.stringify(notices[0]!.reply_markup)).toContain(`faq:take:${row!.id}`);
    }
    expect(delivery.sentTo(deputy.id)).toHaveLength(0);
    // A second press has no pending question any more.
    await t.send(pressUpdate(deputy, esc));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));

    await t.send(textUpdate(citizen, "/queue"));
    expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
    await t.send(pressUpdate(citizen, `faq:take:${row!.id}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));

    await t.send(textUpdate(lawyer, "/queue"));
    expect(t.lastButtons().map((b) => b.data)).toContain(`faq:take:${row!.id}`);
    await t.send(pressUpdate(lawyer, `faq:take:${row!.id}`));
    expect(t.texts().at(-1)).toBe(ru("faq.type_answer"));
    await t.send(pressUpdate(lawyer2, `faq:take:${row!.id}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.taken_by_other"));

    await t.send(textUpdate(lawyer, "Нет, совмещение не допускается (ст. 10)."));
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:ans:send:1");
    await t.send(pressUpdate(lawyer, "faq:ans:send:1"));
    expect(t.texts().at(-1)).toBe(ru("faq.answer_sent", { id: row!.id }));
    // The answer reaches the deputy once, through the engine, in their language.
    await delivery.drain();
    const delivered = delivery.sentTo(deputy.id);
    expect(delivered).toHaveLength(1);
    expect(String(delivered[0]!.text)).toBe(
      ru("faq.answer_for_you", {
        question: "Можно ли депутату совмещать мандат с работой в &lt;школе&gt;?",
        answer: "Нет, совмещение не допускается (ст. 10).",
      }),
    );
    const direct = t.calls.filter((c) => c.payload.chat_id === deputy.id);
    expect(direct.some((c) => String(c.payload.text).includes("совмещение не"))).toBe(false);
    expect(t.texts().filter((x) => x === ru("faq.type_answer"))).toHaveLength(1);
    const [done] = await handle.db
      .select()
      .from(faqEscalations)
      .where(eq(faqEscalations.id, row!.id));
    expect(done).toMatchObject({ status: "answered", takenByUserId: await userIdOf(lawyer.id) });

    // Publish as FAQ: keep the Russian question and answer, add a Kyrgyz question, a source.
    expect(t.lastButtons().map((b) => b.data)).toEqual([`faq:pub:${row!.id}`]);
    await t.send(pressUpdate(citizen, `faq:pub:${row!.id}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    await t.send(pressUpdate(lawyer, `faq:pub:${row!.id}`));
    expect(t.lastButtons().map((b) => b.data)).toEqual(["faq:p:keep", "faq:p:skip"]);
    await t.send(pressUpdate(lawyer, "faq:p:keep"));
    await t.send(pressUpdate(lawyer, "faq:p:keep"));
    expect(t.lastButtons().map((b) => b.data)).toEqual(["faq:p:skip"]);
    await t.send(textUpdate(lawyer, "Депутат мандатты мектептеги иш менен айкалыштыра алабы?"));
    await t.send(pressUpdate(lawyer, "faq:p:skip"));
    expect(t.texts().at(-1)).toBe(ru("faq.publish_source"));
    await t.send(textUpdate(lawyer, "Закон о статусе депутатов местных кенешей, ст. 10"));
    await t.send(pressUpdate(lawyer, "faq:p:aud:everyone"));
    await t.send(pressUpdate(lawyer, "faq:p:ok"));
    expect(t.texts().at(-1)).toBe(ru("faq.published", { id: `lawyer-q${row!.id}` }));
    const published = await new FaqService(handle.db).getEntry(`lawyer-q${row!.id}`);
    expect(published).toMatchObject({
      status: "published",
      audience: "everyone",
      question: { ru: question, ky: "Депутат мандатты мектептеги иш менен айкалыштыра алабы?" },
      answer: { ru: "Нет, совмещение не допускается (ст. 10)." },
    });
    // The next search (same bot, same index) finds it.
    await t.send(textUpdate(citizen, "можно ли депутату совмещать мандат с работой в школе"));
    expect(String(lastSent(t).text)).toContain("Нет, совмещение не допускается");

    // The lawyer is back to normal: the next text is a FAQ question again.
    await t.send(textUpdate(lawyer, ANSWERABLE));
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:fb:appeal-language:1");

    const actions = (await handle.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "faq.escalate",
        "faq.question.take",
        "faq.question.answer",
        "faq.publish",
      ]),
    );
    await delivery.stop();
  });
});
