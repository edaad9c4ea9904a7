import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { users } from "../../src/db/schema";
import { faqServiceOf, seedFaqIfEmpty } from "../../src/features/faq/service";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase, useTestDatabase } from "../helpers/db";

const ky = translator("ky");

describe("onboarding", () => {
  const handle = useTestDatabase(seedDemoDirectoryIfEmpty);

  it("walks a new person through language, municipality (typo-tolerant search), topics and consent", async () => {
    const t = createTestBot(handle.db);
    const alice = person(1001, "ru");
    await t.send(textUpdate(alice, "/start"));
    // Before a choice, the greeting follows the Telegram app language.
    expect(t.texts().at(-1)).toBe(translator("ru")("onboarding.welcome"));
    expect(t.lastButtons().map((b) => b.data)).toEqual(["lang:ky", "lang:ru", "lang:en"]);

    await t.send(pressUpdate(alice, "lang:ky"));
    expect(t.texts()).toContain(ky("language.saved"));
    expect(t.texts().at(-1)).toBe(ky("onboarding.municipality_ask"));

    // Typed without ү and with a typo.
    await t.send(textUpdate(alice, "сокулк"));
    expect(t.texts().at(-1)).toBe(ky("onboarding.municipality_found"));
    const choice = t.lastButtons().find((b) => b.data.startsWith("mun:"));
    expect(choice?.text).toMatch(/Сокулук/);

    await t.send(pressUpdate(alice, choice!.data));
    expect(t.texts().at(-1)).toBe(ky("onboarding.topics_ask"));
    await t.send(pressUpdate(alice, "topic:polls")); // switch polls off
    await t.send(pressUpdate(alice, "topics:done"));
    expect(t.texts().at(-1)).toBe(ky("onboarding.consent_text"));
    await t.send(pressUpdate(alice, "consent:yes"));
    expect(t.texts().at(-1)).toMatch(/^Даяр!/);

    const [row] = await handle.db.select().from(users).where(eq(users.chatId, alice.id));
    expect(row?.locale).toBe("ky");
    expect(row?.municipalityId).toBe(Number(choice!.data.slice(4)));
    expect(row?.topics).toEqual(["hearings", "announcements"]);
    expect(row?.consentAt).toBeInstanceOf(Date);
  });

  it("browses region → district → municipality and refuses a forged municipality id", async () => {
    const t = createTestBot(handle.db);
    const bob = person(1002, "ru");
    await t.send(textUpdate(bob, "/start"));
    await t.send(pressUpdate(bob, "lang:ru"));
    await t.send(pressUpdate(bob, "browse"));
    const region = t.lastButtons().find((b) => b.data.startsWith("region:"));
    // A region button with a label (a find that failed would be undefined).
    expect(region).toMatchObject({
      text: expect.stringMatching(/\S/),
      data: expect.stringMatching(/^region:./),
    });
    await t.send(pressUpdate(bob, region!.data));
    const district = t.lastButtons().find((b) => b.data.startsWith("district:"));
    await t.send(pressUpdate(bob, district!.data));
    expect(t.lastButtons().some((b) => b.data.startsWith("mun:"))).toBe(true);

    const before = await handle.db.select().from(users).where(eq(users.chatId, bob.id));
    await t.send(pressUpdate(bob, "mun:999999"));
    const after = await handle.db.select().from(users).where(eq(users.chatId, bob.id));
    expect(after[0]?.municipalityId).toBe(before[0]?.municipalityId ?? null);
    expect(t.texts().at(-1)).toBe(translator("ru")("errors.stale_button"));
  });

  it("answers in Telegram's language before a choice is saved, the saved one after", async () => {
    const t = createTestBot(handle.db);
    const en = person(1003, "en");
    await t.send(textUpdate(en, "/help"));
    expect(t.texts().at(-1)).toContain(translator("en")("help.intro"));
    await t.send(textUpdate(en, "/language"));
    await t.send(pressUpdate(en, "lang:ru"));
    await t.send(textUpdate(en, "/help"));
    expect(t.texts().at(-1)).toContain(translator("ru")("help.intro"));
  });
});

describe("a question typed during onboarding", () => {
  const handle = useTestDatabase(async (db) => {
    await seedDemoDirectoryIfEmpty(db);
    await seedFaqIfEmpty(db, faqServiceOf(db));
  });

  it("is kept, not searched as a place, and answered once onboarding is done", async () => {
    const t = createTestBot(handle.db);
    const asker = person(1011, "ru");
    await t.send(textUpdate(asker, "/start"));
    await t.send(pressUpdate(asker, "lang:ky"));
    await t.send(textUpdate(asker, "Айыл кеңеште канча депутат болот?"));
    expect(t.texts().slice(-2)).toEqual([
      ky("onboarding.question_held"),
      ky("onboarding.municipality_ask"),
    ]);
    // A place name is still a place name.
    await t.send(textUpdate(asker, "сокулук"));
    expect(t.texts().at(-1)).toBe(ky("onboarding.municipality_found"));
    const choice = t.lastButtons().find((b) => b.data.startsWith("mun:"));
    await t.send(pressUpdate(asker, choice!.data));
    // At a step that waits for buttons, too.
    await t.send(textUpdate(asker, "бюджеттик угууга ким катыша алат"));
    expect(t.texts().slice(-2)).toEqual([
      ky("onboarding.question_held"),
      ky("onboarding.topics_ask"),
    ]);
    await t.send(pressUpdate(asker, "topics:done"));
    const before = t.texts().length;
    await t.send(pressUpdate(asker, "consent:yes"));
    const after = t.texts().slice(before);
    expect(after[0]).toMatch(/^Даяр!/);
    // Both answered from the FAQ, in the language chosen on the way, in the order asked.
    expect(after).toHaveLength(3);
    expect(after[1]).toContain("Айылдык жана шаардык кеңеште канча депутат болот?");
    expect(after[2]).toMatch(/угуу/i);
    expect(t.lastButtons().some((b) => b.data.startsWith("faq:"))).toBe(true);
  });

  it("keeps three at most and says so", async () => {
    const t = createTestBot(handle.db);
    const asker = person(1012, "ru");
    await t.send(textUpdate(asker, "/start"));
    for (const q of ["кто утверждает бюджет?", "что такое курултай?", "как подать обращение?"]) {
      await t.send(textUpdate(asker, q));
      expect(t.texts().at(-2)).toBe(translator("ru")("onboarding.question_held"));
    }
    await t.send(textUpdate(asker, "сколько депутатов в кенеше?"));
    expect(t.texts().at(-2)).toBe(translator("ru")("onboarding.questions_full"));
    // The language step is asked again each time.
    expect(t.lastButtons().map((b) => b.data)).toEqual(["lang:ky", "lang:ru", "lang:en"]);
  });
});

describe("conversations survive a restart", () => {
  it("finishes a flow begun on a bot and database connection that were thrown away", async () => {
    // The same database, reopened: a PGlite folder, or the PostgreSQL server in DATABASE_URL.
    const dir = mkdtempSync(join(tmpdir(), "aimak-restart-"));
    const serverHandle = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    const open = async () => {
      if (serverHandle?.url) return openDatabase({ url: serverHandle.url, maxConnections: 2 });
      const h = await openDatabase({ dataDir: dir });
      await migrate(h.db);
      return h;
    };
    const carol = person(2001, "ru");
    try {
      const first = await open();
      await seedDemoDirectoryIfEmpty(first.db);
      const a = createTestBot(first.db);
      await a.send(textUpdate(carol, "/start"));
      await a.send(pressUpdate(carol, "lang:ru"));
      await a.send(textUpdate(carol, "Сокулук"));
      const choice = a.lastButtons().find((b) => b.data.startsWith("mun:"))!;
      await first.close();

      const second = await open();
      const b = createTestBot(second.db);
      await b.send(pressUpdate(carol, choice.data));
      expect(b.texts().at(-1)).toBe(translator("ru")("onboarding.topics_ask"));
      await b.send(pressUpdate(carol, "topics:done"));
      await b.send(pressUpdate(carol, "consent:yes"));
      expect(b.texts().at(-1)).toMatch(/^Готово!/);
      const [row] = await second.db.select().from(users).where(eq(users.chatId, carol.id));
      expect(row?.consentAt).toBeInstanceOf(Date);
      expect(row?.municipalityId).toBe(Number(choice.data.slice(4)));
      await second.close();
    } finally {
      await serverHandle?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
