import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { municipalities, roleGrants, users } from "../../src/db/schema";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import { CSV_HEADER, parseJsonDirectory } from "../../src/features/municipalities/directory-file";
import {
  DIRECTORY_PATH,
  getMunicipality,
  importDirectory,
  invalidateDirectoryCache,
  seedDemoDirectoryIfEmpty,
} from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";

const ru = translator("ru");
const ky = translator("ky");

const SOKULUK = "chui.sokuluk.sokuluk";
const KARA_BALTA = "chui.kara-balta";
const CONTACTS = {
  phone: "+996 3134 5 12 34",
  email: "sokuluk.ao@example.kg",
  website: "sokuluk.gov.kg",
  address: "с. Сокулук, ул. Фрунзе, 126",
};

/** Questions the FAQ has nothing to do with, in the three languages. */
const OFF_TOPIC: [string, "ru" | "ky" | "en"][] = [
  ["какая погода завтра в Бишкеке", "ru"],
  ["кто выиграл футбол вчера", "ru"],
  ["эртең аба ырайы кандай болот", "ky"],
  ["what's the weather tomorrow", "en"],
  ["рецепт плова", "ru"],
  ["курс доллара сегодня", "ru"],
];
/** Near the FAQ's subject but not answered by it: worth a "did you mean". */
const NEAR_DOMAIN = "бюджетные слушания перенесли без объявления что делать";

const shipped = readFileSync(DIRECTORY_PATH, "utf8");

/** The shipped directory with `patch` applied to one municipality (by code). */
function directoryWith(code: string, patch: Record<string, unknown>): string {
  const data = JSON.parse(shipped) as { municipalities: { code: string }[] };
  data.municipalities = data.municipalities.map((m) => (m.code === code ? { ...m, ...patch } : m));
  return JSON.stringify(data);
}

describe("municipality contacts in the directory", () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
  });
  afterAll(() => handle.close());

  const contactsOf = async (code: string) => {
    const [row] = await handle.db
      .select({
        phone: municipalities.phone,
        email: municipalities.email,
        website: municipalities.website,
        address: municipalities.address,
      })
      .from(municipalities)
      .where(eq(municipalities.code, code));
    return row;
  };

  it("imports optional contacts; a file without them keeps them, an empty one clears", async () => {
    const result = await importDirectory(handle.db, directoryWith(SOKULUK, CONTACTS), "json");
    expect(result).toMatchObject({ ok: true, summary: { municipalities: { updated: 1 } } });
    expect(await contactsOf(SOKULUK)).toEqual(CONTACTS);
    const [row] = await handle.db
      .select({ id: municipalities.id })
      .from(municipalities)
      .where(eq(municipalities.code, SOKULUK));
    expect(await getMunicipality(handle.db, row!.id)).toMatchObject(CONTACTS);

    // The shipped file says nothing about contacts: nothing changes.
    const again = await importDirectory(handle.db, shipped, "json");
    expect(again).toMatchObject({ ok: true, summary: { municipalities: { updated: 0 } } });
    expect(await contactsOf(SOKULUK)).toEqual(CONTACTS);

    const cleared = await importDirectory(
      handle.db,
      directoryWith(SOKULUK, { phone: "", website: null }),
      "json",
    );
    expect(cleared).toMatchObject({ ok: true, summary: { municipalities: { updated: 1 } } });
    expect(await contactsOf(SOKULUK)).toEqual({ ...CONTACTS, phone: null, website: null });
  });

  it("reads contact columns from CSV and reports bad ones by line", async () => {
    const parsed = parseJsonDirectory(shipped);
    if (!parsed.ok) throw new Error("the shipped directory does not parse");
    const r = parsed.data.regions.find((x) => x.code === "chui")!;
    const d = parsed.data.districts.find((x) => x.code === "chui.sokuluk")!;
    const header = `${CSV_HEADER},phone,email`;
    const line = (phone: string, email: string) =>
      [r.code, r.kind, r.name_ky, r.name_ru, d.code, d.name_ky, d.name_ru]
        .concat([SOKULUK, "aiyl_aimak", "Сокулук", "Сокулук", phone, email])
        .join(",");

    const bad = await importDirectory(
      handle.db,
      `${header}\n${line("call me", "not-an-address")}\n`,
      "csv",
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.problems).toHaveLength(1);
      expect(bad.problems[0]).toMatchObject({ line: 2 });
      expect(bad.problems[0]!.message).toMatch(/phone/);
      expect(bad.problems[0]!.message).toMatch(/email is not an e-mail address/);
    }
    const good = await importDirectory(
      handle.db,
      `${header}\n${line("(03134) 5-12-34", "ao@sokuluk.kg")}\n`,
      "csv",
    );
    expect(good.ok).toBe(true);
    expect(await contactsOf(SOKULUK)).toMatchObject({
      phone: "(03134) 5-12-34",
      email: "ao@sokuluk.kg",
    });
  });
});

describe("no answer: whom to ask, and no unrelated guesses", () => {
  let handle: DatabaseHandle;
  let sokulukId: number;
  let karaBaltaId: number;
  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
    await seedFaqIfEmpty(handle.db);
    const idOf = async (code: string) =>
      (
        await handle.db
          .select({ id: municipalities.id })
          .from(municipalities)
          .where(eq(municipalities.code, code))
      )[0]!.id;
    sokulukId = await idOf(SOKULUK);
    karaBaltaId = await idOf(KARA_BALTA);
    await handle.db.update(municipalities).set(CONTACTS).where(eq(municipalities.id, sokulukId));
    invalidateDirectoryCache(handle.db);
  });
  afterAll(() => handle.close());

  /** A person who has written to the bot, living in `municipalityId`. */
  async function resident(
    t: ReturnType<typeof createTestBot>,
    chatId: number,
    municipalityId: number | null,
    languageCode = "ru",
  ) {
    const p = person(chatId, languageCode);
    await t.send(textUpdate(p, "/help"));
    await handle.db.update(users).set({ municipalityId }).where(eq(users.chatId, chatId));
    return p;
  }

  const guesses = (t: ReturnType<typeof createTestBot>) =>
    t.lastButtons().filter((b) => b.data.startsWith("faq:show:"));

  it("offers no guesses for weather, football or recipes, and still does near the FAQ's subject", async () => {
    const faq = new FaqService(handle.db);
    for (const [question, lang] of OFF_TOPIC) {
      const r = await faq.search(question, { lang, audience: "everyone" });
      expect({ question, abstain: r.abstain, guesses: r.didYouMean }).toEqual({
        question,
        abstain: true,
        guesses: [],
      });
    }
    const near = await faq.search(NEAR_DOMAIN, { lang: "ru", audience: "everyone" });
    expect(near.abstain).toBe(true);
    expect(near.didYouMean.map((h) => h.id)).toContain("budget-hearings-announcement");

    const t = createTestBot(handle.db);
    const p = await resident(t, 8001, sokulukId);
    await t.send(textUpdate(p, OFF_TOPIC[0]![0]));
    expect(String(t.texts().at(-1))).not.toContain(ru("faq.did_you_mean"));
    expect(guesses(t)).toEqual([]);
    await t.send(textUpdate(p, NEAR_DOMAIN));
    expect(String(t.texts().at(-1))).toContain(ru("faq.did_you_mean"));
    expect(guesses(t).length).toBeGreaterThan(0);
  });

  it("names the resident's aiyl okmotu with its contacts", async () => {
    const t = createTestBot(handle.db);
    const p = await resident(t, 8002, sokulukId);
    await t.send(textUpdate(p, OFF_TOPIC[1]![0]));
    expect(t.texts().at(-1)).toBe(
      [
        ru("faq.no_answer"),
        [
          ru("faq.ask_aiyl_aimak", { name: "Сокулук" }),
          ru("faq.contact_phone", { value: CONTACTS.phone }),
          ru("faq.contact_email", { value: CONTACTS.email }),
          ru("faq.contact_website", { value: CONTACTS.website }),
          ru("faq.contact_address", { value: CONTACTS.address }),
        ].join("\n"),
      ].join("\n\n"),
    );

    const kyResident = await resident(t, 8003, sokulukId, "ky");
    await t.send(textUpdate(kyResident, OFF_TOPIC[2]![0]));
    expect(t.texts().at(-1)).toContain(ky("faq.ask_aiyl_aimak", { name: "Сокулук" }));
    expect(t.texts().at(-1)).toContain("Сокулук айыл өкмөтүнө");
    expect(t.texts().at(-1)).toContain(ky("faq.contact_phone", { value: CONTACTS.phone }));
  });

  it("names a city's mayor's office without contacts, and points elsewhere without a municipality", async () => {
    const t = createTestBot(handle.db);
    const cityResident = await resident(t, 8004, karaBaltaId);
    await t.send(textUpdate(cityResident, OFF_TOPIC[4]![0]));
    const reply = String(t.texts().at(-1));
    expect(reply).toBe(
      [ru("faq.no_answer"), ru("faq.ask_city", { name: "Кара-Балта" })].join("\n\n"),
    );
    expect(reply).toContain("мэрию города Кара-Балта");

    const nowhere = await resident(t, 8005, null);
    await t.send(textUpdate(nowhere, OFF_TOPIC[5]![0]));
    expect(t.texts().at(-1)).toBe([ru("faq.no_answer"), ru("faq.ask_anywhere")].join("\n\n"));
  });

  it("offers deputies the lawyers instead of the aiyl okmotu", async () => {
    const t = createTestBot(handle.db);
    const deputy = await resident(t, 8006, sokulukId);
    const [row] = await handle.db.select().from(users).where(eq(users.chatId, deputy.id));
    await handle.db
      .insert(roleGrants)
      .values({ userId: row!.id, role: "deputy", municipalityId: sokulukId });
    await t.send(textUpdate(deputy, OFF_TOPIC[0]![0]));
    const reply = String(t.texts().at(-1));
    expect(reply).toContain(ru("faq.escalate_offer"));
    expect(reply).not.toContain(ru("faq.ask_aiyl_aimak", { name: "Сокулук" }));
  });
});
