import { describe, expect, it } from "vitest";
import { editDistance, fold, tokens } from "../../src/features/municipalities/normalize";
import { buildSearchIndex, searchIndex } from "../../src/features/municipalities/search";
import { shippedSearch } from "../helpers/directory";

const search = shippedSearch();

function top(query: string): string | undefined {
  return search(query)[0];
}

describe("folding", () => {
  it("folds Kyrgyz letters, Russian spellings and Latin transliterations together", () => {
    expect(fold("Жети-Өгүз")).toBe(fold("Джети-Огуз"));
    expect(fold("Жети-Өгүз")).toBe(fold("Dzheti-Oguz"));
    expect(fold("Жети-Өгүз")).toBe(fold("jeti oguz"));
    expect(fold("Чоң-Алай")).toBe(fold("Chong-Alai"));
    expect(fold("Ысык-Көл")).toBe(fold("Issyk-Köl"));
    expect(fold("Түп")).toBe(fold("Тюп"));
    expect(fold("Ормон-Хан")).toBe(fold("Ormon-Khan"));
  });

  it("drops noise words and stems Russian adjectives", () => {
    expect(tokens("Сокулук айыл аймагы")).toEqual(["sokuluk"]);
    expect(tokens("Сокулукский айылный аймак")).toEqual(["sokuluk"]);
    expect(tokens("с. Барскоон, айыл өкмөтү")).toEqual(["barskon"]);
    expect(tokens("г. Узген")).toEqual(["uzgen"]);
    expect(tokens("Sokuluk aiyl okmotu")).toEqual(["sokuluk"]);
  });

  it("measures edit distance with transpositions and an early cut-off", () => {
    expect(editDistance("sokuluk", "sokuluk", 2)).toBe(0);
    expect(editDistance("sokulku", "sokuluk", 2)).toBe(1);
    expect(editDistance("sakuluk", "sokuluk", 2)).toBe(1);
    expect(editDistance("abc", "xyzabcdef", 2)).toBe(3);
  });
});

describe("municipality search", () => {
  it("finds exact names in Kyrgyz and in Russian", () => {
    expect(top("Сокулук")).toBe("chui.sokuluk.sokuluk");
    expect(top("Өзгөн")).toBe("osh.ozgon.ozgon");
    expect(top("Узген")).toBe("osh.ozgon.ozgon");
    expect(top("Таш-Кумыр")).toBe("jalal-abad.tash-komur");
    expect(top("Сулюкта")).toBe("batken.sulukta");
    expect(top("Ош")).toBe("osh-city.osh");
  });

  it("tolerates one or two typos", () => {
    expect(top("сакулук")).toBe("chui.sokuluk.sokuluk");
    expect(top("Сокулкук")).toBe("chui.sokuluk.sokuluk");
    expect(top("Барскон")).toBe("issyk-kul.jeti-oguz.barskoon");
    expect(top("Баркоон")).toBe("issyk-kul.jeti-oguz.barskoon");
    expect(top("каракл")).toBe("issyk-kul.karakol");
    expect(top("Кыргызтан")).toBe("talas.manas.kyrgyzstan");
    expect(top("Акназароф")).toBe("talas.bakai-ata.aknazarov");
  });

  it("does not need ө, ү, ң", () => {
    expect(top("Жети-Огуз")).toBe("issyk-kul.jeti-oguz.jeti-oguz");
    expect(top("Озгон")).toBe("osh.ozgon.ozgon");
    // Three aiyl aimaks are called Үч-Коргон; the district tells them apart.
    expect(top("Уч-Коргон Аксы")).toBe("jalal-abad.aksy.uch-korgon");
    expect(top("Таш-Комур")).toBe("jalal-abad.tash-komur");
    expect(top("Сулукту")).toBe("batken.sulukta");
  });

  it("understands Latin spellings", () => {
    expect(top("sokuluk")).toBe("chui.sokuluk.sokuluk");
    expect(top("Jeti-Oguz")).toBe("issyk-kul.jeti-oguz.jeti-oguz");
    expect(top("dzhalal-abad")).toBe("jalal-abad.jalal-abad");
    expect(top("Jalal-Abad")).toBe("jalal-abad.jalal-abad");
    expect(top("Ozgon")).toBe("osh.ozgon.ozgon");
    expect(top("Üch-Korgon Aksy")).toBe("jalal-abad.aksy.uch-korgon");
    expect(top("kyzyl kiya")).toBe("batken.kyzyl-kiya");
    expect(top("zheek")).toBe("chui.ysyk-ata.jeek");
    expect(top("Ormon Khan")).toBe("naryn.kochkor.ormon-khan");
    expect(top("bishkek")).toBe("bishkek.bishkek");
  });

  it("ignores noise words, case and punctuation", () => {
    expect(top("Сокулук айыл аймагы")).toBe("chui.sokuluk.sokuluk");
    expect(top("СОКУЛУКСКИЙ АЙЫЛНЫЙ АЙМАК")).toBe("chui.sokuluk.sokuluk");
    expect(top("Сокулук айыл өкмөтү")).toBe("chui.sokuluk.sokuluk");
    expect(top("Беш-Таш АО")).toBe("talas.talas.besh-tash");
    expect(top("село Барскоон")).toBe("issyk-kul.jeti-oguz.barskoon");
    expect(top("г. Узген")).toBe("osh.ozgon.ozgon");
    expect(top("Өзгөн шаары")).toBe("osh.ozgon.ozgon");
    expect(top("т.зулпуев")).toBe("osh.nookat.t-zulpuev");
    expect(top("  кашкар--кыштак!!! ")).toBe("osh.kara-suu.kashkar-kyshtak");
    expect(top("Жалалабад")).toBe("jalal-abad.jalal-abad");
  });

  it("accepts Kyrgyz case endings and unfinished words", () => {
    expect(top("Барскоондон")).toBe("issyk-kul.jeti-oguz.barskoon");
    expect(top("Токмокко")).toBe("chui.tokmok");
    expect(top("Сокулукта")).toBe("chui.sokuluk.sokuluk");
    expect(top("сокул")).toBe("chui.sokuluk.sokuluk");
    expect(top("Рыспай")).toBe("osh.kara-kulja.ryspai-abdykadyrov");
    expect(top("Абдыкадыров")).toBe("osh.kara-kulja.ryspai-abdykadyrov");
  });

  it("uses district or region words to tell namesakes apart", () => {
    // Six Кара-Суу: the town in Osh oblast, which goes first, and five aiyl aimaks.
    const karaSuu = search("Кара-Суу", 10);
    expect(karaSuu[0]).toBe("osh.kara-suu.kara-suu");
    expect(karaSuu).toContain("naryn.at-bashy.kara-suu");
    expect(karaSuu.filter((code) => code.endsWith(".kara-suu"))).toHaveLength(6);
    expect(search("Кара-Суу Ат-Башы")).toEqual(["naryn.at-bashy.kara-suu"]);
    expect(top("Кара-Суу Ош облусу")).toBe("osh.kara-suu.kara-suu");
  });

  it("puts the name spelled as typed first", () => {
    // The city of Каракол, then the aiyl aimak of the same name in Ak-Suu district.
    expect(search("Каракол").slice(0, 3)).toEqual([
      "issyk-kul.karakol",
      "issyk-kul.ak-suu.karakol",
      "jalal-abad.kara-kol",
    ]);
    expect(search("Кара-Көл").slice(0, 2)).toEqual(["jalal-abad.kara-kol", "issyk-kul.karakol"]);
  });

  it("returns nothing for nonsense, very short or empty queries", () => {
    expect(search("xyzzy")).toEqual([]);
    expect(search("к")).toEqual([]);
    expect(search("")).toEqual([]);
    expect(search("айыл аймагы")).toEqual([]);
    expect(search("🙂\u200b")).toEqual([]);
    expect(search("а".repeat(5000))).toEqual([]);
  });

  it("respects the limit and ranks scores in order", () => {
    const index = buildSearchIndex(
      ["Кара-Суу", "Кара-Көл", "Кара-Балта", "Каракол"].map((name, i) => ({
        id: i + 1,
        kind: "aiyl_aimak" as const,
        nameKy: name,
        nameRu: name,
        context: [],
      })),
    );
    const hits = searchIndex(index, "кара", 3);
    expect(hits.length).toBe(3);
    for (let i = 1; i < hits.length; i++) {
      expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    }
    expect(search("кара", 3)).toHaveLength(3);
  });
});
