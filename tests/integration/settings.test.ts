import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "../../src/db/schema";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";

const ru = translator("ru");
const en = translator("en");

describe("/settings", () => {
  const handle = useTestDatabase(async (db) => {
    await seedDemoDirectoryIfEmpty(db);
    await seedFaqIfEmpty(db);
  });

  const userRow = async (chatId: number) =>
    (await handle.db.select().from(users).where(eq(users.chatId, chatId)))[0];

  it("changes topics, municipality and language, redrawing the menu with what was saved", async () => {
    const t = createTestBot(handle.db);
    const dana = person(3001, "ru");
    // Onboard first: Russian, Сокулук, all topics, consent.
    await t.send(textUpdate(dana, "/start"));
    await t.send(pressUpdate(dana, "lang:ru"));
    await t.send(textUpdate(dana, "Сокулук"));
    const sokuluk = t.lastButtons().find((b) => b.data.startsWith("mun:"))!;
    await t.send(pressUpdate(dana, sokuluk.data));
    await t.send(pressUpdate(dana, "topics:done"));
    await t.send(pressUpdate(dana, "consent:yes"));

    await t.send(textUpdate(dana, "/settings"));
    const menu = t.texts().at(-1)!;
    expect(menu).toContain("Сокулук");
    expect(menu).toContain(ru("onboarding.topic_polls"));
    expect(t.lastButtons().map((b) => b.data)).toEqual([
      "settings:language",
      "settings:municipality",
      "settings:topics",
      "settings:close",
    ]);

    // Polls off: the redrawn menu no longer lists them, and the database agrees.
    await t.send(pressUpdate(dana, "settings:topics"));
    await t.send(pressUpdate(dana, "topic:polls"));
    await t.send(pressUpdate(dana, "topics:done"));
    expect(t.texts().at(-1)).not.toContain(ru("onboarding.topic_polls"));
    expect((await userRow(dana.id))?.topics).toEqual(["hearings", "announcements"]);

    // Another municipality through the search.
    await t.send(pressUpdate(dana, "settings:municipality"));
    await t.send(textUpdate(dana, "Джети-Огуз"));
    const jetiOguz = t.lastButtons().find((b) => b.data.startsWith("mun:"))!;
    await t.send(pressUpdate(dana, jetiOguz.data));
    expect(t.texts().at(-1)).toContain("Джети-Огуз");
    expect((await userRow(dana.id))?.municipalityId).toBe(Number(jetiOguz.data.slice(4)));

    // English: the menu itself switches language.
    await t.send(pressUpdate(dana, "settings:language"));
    await t.send(pressUpdate(dana, "lang:en"));
    expect(t.texts().at(-1)).toMatch(/^Settings:/);
    expect(t.lastButtons().map((b) => b.text)).toContain(en("settings.close"));

    await t.send(pressUpdate(dana, "settings:close"));
    expect(t.texts().at(-1)).toBe(en("settings.closed"));
    const row = await userRow(dana.id);
    expect(row?.locale).toBe("en");
    expect(row?.consentAt).toBeInstanceOf(Date);

    // The flow is over: its buttons are stale now and change nothing.
    await t.send(pressUpdate(dana, "settings:topics"));
    expect((await userRow(dana.id))?.topics).toEqual(["hearings", "announcements"]);
  });

  // From tests/fixtures/faq-queries-dev.json; the FAQ answers it with appeal-how-to-submit.
  const QUESTION = "как написать жалобу в айыл окмоту чтобы приняли";

  it("takes a question typed into the open menu as a question: answered, the menu gone", async () => {
    const t = createTestBot(handle.db);
    const eli = person(3002, "ru");
    const entry = await new FaqService(handle.db).getEntry("appeal-how-to-submit");
    await t.send(textUpdate(eli, "/settings"));
    const menu = t.texts().at(-1)!;
    expect(menu).toMatch(/^Настройки:/);

    const before = t.texts().length;
    await t.send(textUpdate(eli, QUESTION));
    // One reply, the answer; the menu is not shown again.
    expect(t.texts().slice(before)).toHaveLength(1);
    expect(t.texts().at(-1)).toContain(entry!.question.ru!);
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:fb:appeal-how-to-submit:1");

    // The menu's conversation is over: its old buttons are stale and open nothing.
    await t.send(pressUpdate(eli, "settings:topics"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    expect(t.texts().slice(before)).toHaveLength(1);
  });

  it("does the same from a settings step and from /language, where only buttons answer", async () => {
    const t = createTestBot(handle.db);
    const fay = person(3003, "ru");
    await t.send(textUpdate(fay, "/settings"));
    await t.send(pressUpdate(fay, "settings:topics"));
    expect(t.texts().at(-1)).toBe(ru("onboarding.topics_ask"));
    await t.send(textUpdate(fay, QUESTION));
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:fb:appeal-how-to-submit:1");
    await t.send(pressUpdate(fay, "topics:done"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));

    await t.send(textUpdate(fay, "/language"));
    expect(t.texts().at(-1)).toBe(ru("language.choose"));
    await t.send(textUpdate(fay, QUESTION));
    expect(t.lastButtons().map((b) => b.data)).toContain("faq:fb:appeal-how-to-submit:1");
    await t.send(pressUpdate(fay, "lang:en"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    expect((await userRow(fay.id))?.locale).toBeNull();
  });
});
