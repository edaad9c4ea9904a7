import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";

const ru = translator("ru");
const en = translator("en");

describe("/settings", () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
  });
  afterAll(() => handle.close());

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
});
