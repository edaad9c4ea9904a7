import type { InlineKeyboard } from "grammy";
import { describe, expect, it } from "vitest";
import { CB, choiceKeyboard } from "../../src/features/onboarding/keyboards";
import { translator } from "../../src/i18n";
import { shippedDirectory, shippedSearch } from "../helpers/directory";

const directory = shippedDirectory();
const { regions, districts, municipalities } = directory;
const search = shippedSearch();

/** Codes of the 51-unit demo directory this file replaced: tests and databases refer to them. */
const DEMO_CODES = [
  "bishkek.bishkek",
  "osh-city.osh",
  "chui.tokmok",
  "issyk-kul.karakol",
  "issyk-kul.balykchy",
  "naryn.naryn",
  "talas.talas",
  "jalal-abad.jalal-abad",
  "jalal-abad.tash-komur",
  "jalal-abad.kara-kol",
  "jalal-abad.mailuu-suu",
  "batken.batken",
  "batken.kyzyl-kiya",
  "batken.sulukta",
  "chui.kemin.orlovka",
  "issyk-kul.issyk-kul.cholpon-ata",
  "osh.ozgon.ozgon",
  "osh.kara-suu.kara-suu",
  "batken.leilek.razzakov",
  "batken.kadamjai.kadamjai",
  "chui.alamudun.arashan",
  "chui.alamudun.baitik",
  "chui.ysyk-ata.jeek",
  "chui.sokuluk.sokuluk",
  "chui.sokuluk.kyzyl-tuu",
  "chui.sokuluk.kozhomkul",
  "talas.talas.besh-tash",
  "talas.bakai-ata.aknazarov",
  "talas.manas.kyrgyzstan",
  "talas.manas.semetei",
  "issyk-kul.jeti-oguz.jeti-oguz",
  "issyk-kul.jeti-oguz.orgochor",
  "issyk-kul.jeti-oguz.kyzyl-suu",
  "issyk-kul.jeti-oguz.barskoon",
  "issyk-kul.tup.sary-bulak",
  "naryn.kochkor.ormon-khan",
  "naryn.naryn.esenaly-dairakunov",
  "naryn.at-bashy.kara-suu",
  "jalal-abad.aksy.ak-jol",
  "jalal-abad.aksy.sary-chelek",
  "jalal-abad.aksy.uch-korgon",
  "jalal-abad.suzak.s-atabekov",
  "jalal-abad.nooken.e-aliev",
  "osh.kara-suu.mady",
  "osh.kara-suu.kashkar-kyshtak",
  "osh.nookat.t-zulpuev",
  "osh.kara-kulja.ryspai-abdykadyrov",
  "batken.batken.kara-bak",
  "batken.batken.ak-tatyr",
  "batken.leilek.toguz-bulak",
  "batken.kadamjai.moldo-niyaz",
];

describe("shipped directory of the Kyrgyz Republic", () => {
  it("holds every region, district, city and aiyl aimak compiled in data/SOURCES.md", () => {
    expect(regions).toHaveLength(9);
    expect(regions.filter((r) => r.kind === "oblast")).toHaveLength(7);
    expect(regions.filter((r) => r.kind === "city").map((r) => r.code)).toEqual([
      "bishkek",
      "osh-city",
    ]);
    expect(districts).toHaveLength(40);
    expect(municipalities).toHaveLength(466);
    const cities = municipalities.filter((m) => m.kind === "city");
    expect(cities).toHaveLength(34);
    // SOATE 2025: 2 cities of republican significance, 14 of regional, 18 of district.
    const republican = cities.filter((m) => m.region === "bishkek" || m.region === "osh-city");
    const regional = cities.filter((m) => m.district === null && !republican.includes(m));
    expect(republican).toHaveLength(2);
    expect(regional).toHaveLength(14);
    expect(cities.filter((m) => m.district !== null)).toHaveLength(18);
    expect(municipalities.filter((m) => m.kind === "aiyl_aimak")).toHaveLength(432);
  });

  it("has each code once, in the region.district.slug scheme", () => {
    for (const list of [regions, districts, municipalities]) {
      const codes = list.map((x) => x.code);
      expect(new Set(codes).size).toBe(codes.length);
    }
    for (const d of districts) expect(d.code.startsWith(`${d.region}.`)).toBe(true);
    for (const m of municipalities) {
      const owner = m.district ?? m.region;
      expect(m.code.startsWith(`${owner}.`), m.code).toBe(true);
      expect(m.code.slice(owner.length + 1), m.code).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    }
  });

  it("keeps every code of the demo directory it replaced", () => {
    const codes = new Set(municipalities.map((m) => m.code));
    expect(DEMO_CODES.filter((code) => !codes.has(code))).toEqual([]);
  });

  it("places every unit in an existing district of its own region", () => {
    const regionCodes = new Set(regions.map((r) => r.code));
    const districtRegion = new Map(districts.map((d) => [d.code, d.region]));
    for (const d of districts) expect(regionCodes.has(d.region)).toBe(true);
    for (const m of municipalities) {
      expect(regionCodes.has(m.region), m.code).toBe(true);
      if (m.district !== null) expect(districtRegion.get(m.district), m.code).toBe(m.region);
      if (m.kind === "aiyl_aimak") expect(m.district, m.code).not.toBeNull();
    }
    // No empty district: every one can be browsed to a municipality.
    const used = new Set(municipalities.map((m) => m.district));
    expect(districts.filter((d) => !used.has(d.code))).toEqual([]);
    // Bishkek and Osh are their own single municipality; their city districts are not units.
    for (const city of ["bishkek", "osh-city"]) {
      expect(municipalities.filter((m) => m.region === city).map((m) => m.code)).toHaveLength(1);
      expect(districts.filter((d) => d.region === city)).toEqual([]);
    }
  });

  it("names every unit in Kyrgyz and in Russian, in Cyrillic", () => {
    for (const x of [...regions, ...districts, ...municipalities]) {
      for (const name of [x.name_ky, x.name_ru]) {
        expect(name.trim(), x.code).toBe(name);
        expect(name, x.code).toMatch(/^[\p{Script=Cyrillic}0-9 .()-]+$/u);
      }
      // Russian spelling has no ө, ү, ң.
      expect(x.name_ru, x.code).not.toMatch(/[өүң]/i);
    }
    // Kyrgyz names keep their letters: no Russian-only spellings of Kyrgyz sounds.
    const ky = (code: string) => municipalities.find((m) => m.code === code)!.name_ky;
    expect(ky("chui.alamudun.tash-dobo")).toBe("Таш-Дөбө");
    expect(ky("issyk-kul.jeti-oguz.jeti-oguz")).toBe("Жети-Өгүз");
    expect(ky("chui.ysyk-ata.ysyk-ata")).toBe("Ысык-Ата");
    expect(ky("osh.ozgon.ozgon")).toBe("Өзгөн");
    expect(ky("jalal-abad.suzak.kok-jangak")).toBe("Көк-Жаңгак");
  });

  it("finds the intended place first for hard lookups", () => {
    const cases: Array<[string, string]> = [
      ["Кара-Балта", "chui.kara-balta"],
      ["карабалта", "chui.kara-balta"],
      ["Кара-Балто", "chui.kara-balta"],
      ["Kara-Balta", "chui.kara-balta"],
      ["Ноокат", "osh.nookat.nookat"],
      ["Нокат", "osh.nookat.nookat"],
      ["Таш-Дөбө", "chui.alamudun.tash-dobo"],
      ["таш добо", "chui.alamudun.tash-dobo"],
      ["Tash-Dobo", "chui.alamudun.tash-dobo"],
      ["Ташдобо", "chui.alamudun.tash-dobo"],
      // The town in Osh oblast goes before the five aiyl aimaks of the same name.
      ["Кара-Суу", "osh.kara-suu.kara-suu"],
      ["Карасуу", "osh.kara-suu.kara-suu"],
      ["Кара-Суу Ат-Башы", "naryn.at-bashy.kara-suu"],
      ["Сокулук", "chui.sokuluk.sokuluk"],
      ["сакулук", "chui.sokuluk.sokuluk"],
      ["Ысык-Ата", "chui.ysyk-ata.ysyk-ata"],
      ["Иссык-Ата", "chui.ysyk-ata.ysyk-ata"],
      ["Кочкор", "naryn.kochkor.kochkor"],
      ["Өзгөн", "osh.ozgon.ozgon"],
      ["Узген", "osh.ozgon.ozgon"],
      ["uzgen", "osh.ozgon.ozgon"],
      ["Ак-Талаа", "naryn.at-bashy.ak-talaa"],
      // The village of Бакай-Ата (formerly Ленинполь) is the seat of the Ленинполь aiyl aimak.
      ["Бакай-Ата", "talas.bakai-ata.leninpol"],
      ["Жети-Огуз", "issyk-kul.jeti-oguz.jeti-oguz"],
      // The town on the lake, then the aiyl aimak of the same name in Toktogul district.
      ["Чолпон-Ата", "issyk-kul.issyk-kul.cholpon-ata"],
      ["Чолпон-Ата Токтогул", "jalal-abad.toktogul.cholpon-ata"],
      // Jalal-Abad was renamed Манас in 2025; both names find it.
      ["Жалал-Абад", "jalal-abad.jalal-abad"],
      ["Жалалабад", "jalal-abad.jalal-abad"],
      ["Манас", "jalal-abad.jalal-abad"],
      ["Кант", "chui.kant"],
      ["Гүлчө", "osh.alai.gulcho"],
      ["Каинды", "chui.panfilov.kaindy"],
      // Кеңеш names three aiyl aimaks, though "кеңеш" alone is usually "the council".
      ["Кеңеш Ноокат", "osh.nookat.kengesh"],
      ["Сокулук айыл кеңеши", "chui.sokuluk.sokuluk"],
      ["им. Крупской", "chui.sokuluk.krupskaya"],
    ];
    const misses = cases
      .map(([query, code]) => ({ query, code, got: search(query)[0] }))
      .filter((c) => c.got !== c.code);
    expect(misses).toEqual([]);
    expect(search("Кара-Суу", 10)).toContain("naryn.at-bashy.kara-suu");
    expect(search("Чолпон-Ата")[1]).toBe("jalal-abad.toktogul.cholpon-ata");
    expect(search("Кеңеш").sort()).toEqual([
      "jalal-abad.bazar-korgon.kengesh",
      "osh.kara-kulja.kengesh",
      "osh.nookat.kengesh",
    ]);
  });

  it("fits every district's list of municipalities in one Telegram keyboard", () => {
    const t = translator("ky");
    const largest = Math.max(
      ...districts.map((d) => municipalities.filter((m) => m.district === d.code).length),
    );
    expect(largest).toBe(20);
    const kb: InlineKeyboard = choiceKeyboard(
      CB.municipality,
      Array.from({ length: largest }, (_, i) => ({ id: i + 1, label: `м${i}` })),
      { t, data: CB.region.pack({ id: 1 }) },
    );
    const buttons = kb.inline_keyboard.flat();
    // Telegram refuses an inline keyboard of more than 100 buttons.
    expect(buttons).toHaveLength(largest + 1);
    expect(buttons.length).toBeLessThanOrEqual(100);
  });
});
