import { describe, expect, it } from "vitest";
import { analyze, pairsOf, stemsOf } from "../../src/features/faq/search/analyze";
import { collapseRepeats, foldCyrillic } from "../../src/features/faq/search/fold";
import { cleanText, fixHomoglyphs, tokenize } from "../../src/features/faq/search/normalize";
import { stemKy } from "../../src/features/faq/search/stem-ky";
import { stemRu } from "../../src/features/faq/search/stem-ru";
import { latinToCyrillic, latinToCyrillicVariants } from "../../src/features/faq/search/translit";

const fold = (w: string) => collapseRepeats(foldCyrillic(w));

describe("normalisation", () => {
  it("drops zero-width characters and emoji, lower-cases", () => {
    expect(cleanText("Ай\u200Bыл 👍🏽 Өкмөтү\uFEFF!!")).toBe("айыл өкмөтү!!");
  });

  it("repairs Latin look-alikes inside Cyrillic words only", () => {
    expect(fixHomoglyphs("aйыл")).toBe("айыл");
    expect(fixHomoglyphs("кeнeш")).toBe("кенеш");
    expect(fixHomoglyphs("kenesh")).toBe("kenesh");
    expect(tokenize("Бюджeт, ОБС: gb.minfin.kg")).toEqual(["бюджет", "обс", "gb", "minfin", "kg"]);
  });

  it("folds ө/ү/ң and spelling variants into one alphabet", () => {
    expect(fold("өкмөтү")).toBe(fold("окмоту"));
    expect(fold("кеңеш")).toBe("кенеш");
    expect(fold("угуу")).toBe("угу");
    expect(fold("местный")).toBe(fold("местныи"));
    expect(fold("обращение")).toBe(fold("обрашение"));
  });
});

describe("transliteration", () => {
  it("maps Russian typed in Latin letters", () => {
    expect(latinToCyrillic("byudzhet")).toBe(foldCyrillic("бюджет"));
    expect(latinToCyrillicVariants("obrashatsya")).toContain(fold("обращаться"));
    expect(collapseRepeats(latinToCyrillic("aylnyh"))).toBe(fold("айылных"));
    expect(latinToCyrillic("ocenka")).toBe("оценка");
  });

  it("maps Kyrgyz typed in Latin letters", () => {
    expect(latinToCyrillic("boyuncha")).toBe(fold("боюнча"));
    expect(collapseRepeats(latinToCyrillic("ugu"))).toBe(fold("угуу"));
  });

  it("reads a lone j by the language the asker uses", () => {
    expect(latinToCyrillic("jer", "ky")).toBe("жер");
    expect(latinToCyrillic("jazuu", "ky")).toBe("жазуу");
    expect(latinToCyrillic("objazan", "ru")).toBe("обязан");
    expect(latinToCyrillic("maj", "ru")).toBe("маи");
    // The other reading stays a candidate for the vocabulary to pick.
    expect(latinToCyrillicVariants("jer", "ru")).toContain("жер");
  });

  it("offers the other readings of ambiguous letters", () => {
    expect(latinToCyrillicVariants("jer")).toContain("жер");
    expect(latinToCyrillicVariants("prijti")).toContain("прииті".replace("і", "и"));
    expect(latinToCyrillicVariants("detskiy")).toContain("детскии");
  });
});

describe("stemmers", () => {
  it("Kyrgyz: peels case, plural and possessive suffixes", () => {
    const ky = (w: string) => collapseRepeats(stemKy(foldCyrillic(w)));
    expect(ky("кеңештин")).toBe("кенеш");
    expect(ky("кеңешке")).toBe("кенеш");
    expect(ky("бюджеттин")).toBe(ky("бюджет"));
    expect(ky("бюджеттик")).toBe(ky("бюджет"));
    expect(ky("угууларга")).toBe(ky("угуу"));
    expect(ky("айылдын")).toBe(ky("айыл"));
    expect(ky("мыйзамдуубу")).toBe(ky("мыйзам"));
    expect(ky("кайрылууга")).toBe(ky("кайрылуу"));
  });

  it("Kyrgyz: keeps domain nouns whole and peels verb and derived forms", () => {
    const ky = (w: string) => collapseRepeats(stemKy(foldCyrillic(w)));
    // Nouns whose last letters look like a suffix are not cut («бюджет» is not «бюдж» + -ет).
    expect(ky("бюджет")).toBe("бюджет");
    expect(ky("маалыматты")).toBe(ky("маалымат"));
    expect(ky("маалыматты")).not.toBe(ky("малды"));
    expect(ky("чечимдерин")).toBe("чечим");
    expect(ky("өкмөтүнүн")).toBe(ky("окмоттун"));
    expect(ky("уставдын")).toBe("устав");
    // Possessive + accusative, agent nouns, conditionals, negative gerunds, -дагы, -дики.
    expect(ky("көчүрмөсүн")).toBe(ky("көчүрмө"));
    expect(ky("кызматчыга")).toBe(ky("кызматчы"));
    expect(ky("барсам")).toBe(ky("бар"));
    expect(ky("бербей")).toBe(ky("бер"));
    expect(ky("айылдагы")).toBe(ky("айыл"));
    expect(ky("кимдики")).toBe("ким");
    expect(ky("талкуулоо")).toBe(ky("талкуула"));
    // Two-letter roots.
    expect(ky("элге")).toBe("ел");
    expect(ky("иштери")).toBe("иш");
  });

  it("Kyrgyz: peels passive and negation from verbs only", () => {
    const ky = (w: string) => collapseRepeats(stemKy(foldCyrillic(w)));
    // Passive -ыл/-ил/-ын after a tense or participle ending.
    expect(ky("берилет")).toBe(ky("берсе"));
    expect(ky("жазылат")).toBe(ky("жазса"));
    expect(ky("салынат")).toBe("сал");
    // Negative -ба/-па/-ма, also inside longer verb forms.
    expect(ky("беришпесе")).toBe(ky("бербей"));
    expect(ky("болбойт")).toBe("бол");
    expect(ky("келбей")).toBe("кел");
    // Nouns keep their last syllable: nothing verbal was peeled before it.
    expect(ky("кабыл")).toBe("кабил");
    expect(ky("айыл")).toBe("аил");
  });

  it("Russian: strips noun and adjective endings", () => {
    const ru = (w: string) => collapseRepeats(stemRu(foldCyrillic(w)));
    expect(ru("обращения")).toBe(ru("обращение"));
    expect(ru("обращений")).toBe(ru("обращение"));
    expect(ru("закона")).toBe("закон");
    expect(ru("бюджетные")).toBe(ru("бюджетный"));
    expect(ru("суд")).toBe("суд");
  });

  it("queries get both stems, documents their own language's", () => {
    expect(stemsOf(foldCyrillic("кеңешке"), "any")).toContain("кенеш");
    expect(stemsOf(foldCyrillic("2024"), "any")).toEqual(["2024"]);
  });
});

describe("analysis", () => {
  it("expands synonyms of inflected Russian words by stem", () => {
    const terms = analyze("сотрудников мэрии", "any");
    expect(terms.some((t) => t.expansion && t.surface.startsWith("служаш"))).toBe(true);
    expect(analyze("бизнесом", "any").some((t) => t.expansion)).toBe(true);
  });

  it("drops Kyrgyz reflexive pronouns like Russian «сам»", () => {
    expect(analyze("ЖӨБ деген эмне өзү", "ky").map((t) => t.surface)).not.toContain("озу");
  });

  it("pairs neighbouring content words in either order, sharing one weight per pair", () => {
    const pairs = pairsOf(analyze("ыйгарым укуктары", "ky"));
    const swapped = pairsOf(analyze("укуктары ыйгарым", "ky"));
    expect([...pairs.keys()]).toEqual([...swapped.keys()]);
    expect([...pairs.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    // Question words do not pair: «кандай» between two words does not hide their pair.
    expect(pairsOf(analyze("депутаттын кандай укуктары", "ky")).size).toBe(1);
  });

  it("drops function words and expands domain abbreviations", () => {
    const terms = analyze("что ао обязан публиковать", "any");
    expect(terms.map((t) => t.surface)).toEqual(
      expect.arrayContaining(["ао", "аил", "окмоту", "обязан", "публиковат"]),
    );
    expect(terms.find((t) => t.surface === "что")).toBeUndefined();
    expect(terms.find((t) => t.surface === "окмоту")?.expansion).toBe(true);
  });

  it("expands inflected Kyrgyz words through the synonym table by stem", () => {
    const terms = analyze("кеңештин жыйналышына", "any");
    expect(terms.some((t) => t.expansion && t.stems.includes("сесия"))).toBe(true);
  });

  it("does not mistake a Kyrgyz word with a long vowel for a Russian stop word", () => {
    // «тоого» collapses to «того».
    expect(analyze("малды тоого чыгаруу", "ky").map((t) => t.surface)).toContain("того");
  });

  it("keeps the parliament's name whole, apart from the local kenesh", () => {
    const joined = { surface: "жогоркукенеш", stems: ["жогоркукенеш"], weak: false };
    for (const text of ["Жогорку Кеңешке шайлоо", "zhogorku kenesh", "жогорку кенешинин"]) {
      const terms = analyze(text, "any");
      expect(terms[0]).toMatchObject({ ...joined, expansion: false });
      expect(terms.some((t) => t.stems.includes("кенеш"))).toBe(false);
    }
    expect(analyze("Жогорку Кеңешке шайлоо", "any").map((t) => t.surface)).toEqual([
      "жогоркукенеш",
      "шаило",
    ]);
    expect(analyze("айыл кеңешине", "ky").some((t) => t.stems.includes("кенеш"))).toBe(true);
    expect(analyze("жогорку билим", "ky")).toEqual([
      { surface: "жогорку", stems: ["жогорк"], weak: false, expansion: false, group: 0 },
      { surface: "билим", stems: ["бил"], weak: false, expansion: false, group: 1 },
    ]);
  });

  it("marks question words as weak", () => {
    expect(analyze("кантип алса болот", "ky").find((t) => t.surface === "кантип")?.weak).toBe(true);
    // Kyrgyz asks with case forms of its question words and with modal verbs.
    const terms = analyze("грант кимге берилет", "ky");
    expect(terms.filter((t) => t.weak).map((t) => t.surface)).toEqual(["кимге", "берилет"]);
    // «кыл-» ("do") in any form.
    expect(analyze("эмне кылышыбыз керек, эмне кылам", "ky").every((t) => t.weak)).toBe(true);
  });

  it("drops Kyrgyz postpositions, particles, conjunctions and pronoun forms", () => {
    const surfaces = analyze(
      "бизде деле бюджет боюнча угуу болбойт, бирок ага эч ким келбейт",
      "ky",
    )
      .filter((t) => !t.weak)
      .map((t) => t.surface);
    expect(surfaces).toEqual(["бюджет", "угу", "келбеит"]);
  });

  it("drops a greeting typed in Latin letters whatever its reading", () => {
    // «ts» reads «ц» first, and «саламацызбы» is no word the stop list has.
    expect(analyze("salamatsyzby", "any", undefined, true, "ky")).toEqual([]);
  });

  it("reads loanwords whose Latin spelling loses a letter", () => {
    expect(latinToCyrillic("budjettik")).toBe(foldCyrillic("бюджеттик"));
    expect(latinToCyrillic("online")).toBe(foldCyrillic("онлайн"));
  });
});
