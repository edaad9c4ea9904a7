import MiniSearch from "minisearch";
import { describe, expect, it } from "vitest";
import { FaqSearchEngine, type SearchDoc } from "../../src/features/faq/search/engine";
import { ScoreBuffer } from "../../src/features/faq/search/scores";
import { WordIndex } from "../../src/features/faq/search/words";

describe("score buffer", () => {
  it("keeps the k best of the touched documents, ties in document order", () => {
    const b = new ScoreBuffer(10);
    for (const [d, s] of [
      [7, 1],
      [2, 3],
      [5, 3],
      [1, 0.5],
      [9, 2],
    ] as const)
      b.add(d, s);
    b.add(7, 5);
    expect(b.top(3, () => true)).toEqual([7, 2, 5]);
    expect(b.top(3, (d) => d !== 7)).toEqual([2, 5, 9]);
    b.reset();
    expect(b.touched).toEqual([]);
    expect(b.get(7)).toBe(0);
  });
});

describe("word index", () => {
  // The ranker replaced MiniSearch for speed; the fusion was tuned with MiniSearch's scores.
  it("scores exactly as MiniSearch with prefix and fuzzy matching", () => {
    const docs = [
      { q: "бюджеттик угуулар качан откорулот", a: "угуулар жыл сайын откорулот" },
      { q: "бюджетти ким бекитет", a: "кенеш бюджетти бекитет жана отчетту угат" },
      { q: "кенештин сессиясы ачыкпы", a: "сессия ачык откорулот тургундар келет" },
      { q: "айыл окмоту", a: "бюджеттин долбоору айыл окмотунда даярдалат" },
    ];
    const mini = new MiniSearch({
      idField: "n",
      fields: ["q", "a"],
      tokenize: (text) => text.split(" ").filter(Boolean),
      processTerm: (term) => term,
    });
    mini.addAll(docs.map((d, n) => ({ n, ...d })));
    const index = new WordIndex();
    for (const [n, d] of docs.entries()) index.add(n, [d.q.split(" "), d.a.split(" ")]);
    const vocabulary = new Set(docs.flatMap((d) => `${d.q} ${d.a}`.split(" ")));
    const prefix = (w: string) => w.length >= 5;
    const fuzzy = (w: string) => (w.length >= 5 && !vocabulary.has(w) ? 0.25 : false);
    for (const query of ["бюджет угуулар", "сесиясы кенеш", "откорулот ким", "окмоту"]) {
      const expected = mini.search(query, {
        boost: { q: 2 },
        prefix,
        fuzzy,
        maxFuzzy: 2,
        combineWith: "OR",
      });
      const out = new ScoreBuffer(docs.length);
      const words = new Map(query.split(" ").map((w) => [w, 1]));
      index.score(words, { boost: [2, 1], prefix, fuzzy, maxFuzzy: 2 }, out);
      expect(out.touched.length).toBe(expected.length);
      for (const r of expected) expect(out.get(r.id as number)).toBeCloseTo(r.score, 9);
    }
  });
});

describe("engine", () => {
  const doc = (id: string, question: string, tags = ""): SearchDoc => ({
    id,
    audience: "everyone",
    fields: [
      { text: question, lang: "ky", weight: 3 },
      ...(tags ? [{ text: tags, lang: "any" as const, weight: 2 }] : []),
    ],
  });

  it("prefers the entry whose phrase says the same words over scattered matches", () => {
    const engine = new FaqSearchEngine([
      doc(
        "deputy",
        "айылдык кеңештин депутатынын кандай укуктары бар",
        "депутаттын ыйгарым укуктары",
      ),
      doc("kenesh", "жергиликтүү кеңеш кандай маселелерди чечет", "кеңештин ыйгарым укуктары"),
      doc("other", "бюджетти ким бекитет"),
    ]);
    const r = engine.search("кенештин ыйгарым укуктары", { viewer: "everyone" });
    expect(r.hits[0]?.id).toBe("kenesh");
  });

  it("lets an abbreviation count as one word of the question, not as its expansion's words", () => {
    const engine = new FaqSearchEngine([
      doc("hearings", "общественные бюджетные слушания что это"),
      doc("mandatory", "обязательно ли проводить слушания по бюджету"),
    ]);
    const r = engine.search("обязательно ли проводить обс", { viewer: "everyone" });
    expect(r.hits[0]?.id).toBe("mandatory");
  });

  it("is not confident when most of the question is foreign to the corpus", () => {
    const engine = new FaqSearchEngine([
      doc("appeal", "как подать обращение в айыл окмоту"),
      doc("budget", "кто утверждает местный бюджет"),
    ]);
    const onTopic = engine.search("как подать обращение", { viewer: "everyone" });
    const offTopic = engine.search("как подать на развод и алименты", { viewer: "everyone" });
    expect(offTopic.confidence).toBeLessThan(onTopic.confidence);
    expect(offTopic.features.missing).toBeGreaterThan(0.5);
  });

  it("never matches the parliament's name, even in an entry that mentions it in passing", () => {
    const engine = new FaqSearchEngine([
      doc("elections", "жергиликтүү кеңешке шайлоо качан болот"),
      doc("deadline", "арызга канча күндө жооп берет", "Жогорку Кеңеш мөөнөттү кыскартты"),
    ]);
    const parliament = engine.search("Жогорку Кеңешке шайлоо качан болот", { viewer: "everyone" });
    const local = engine.search("жергиликтүү кеңешке шайлоо качан", { viewer: "everyone" });
    expect(engine.search("Жогорку Кеңеш", { viewer: "everyone" }).hits).toEqual([]);
    // The name is the question's most specific word, and no entry covers it.
    expect(parliament.features.missing).toBe(1);
    expect(parliament.confidence).toBeLessThan(local.confidence);
  });
});

describe("how much of a question is in the FAQ's domain", () => {
  const engine = new FaqSearchEngine([
    {
      id: "city-elections",
      audience: "everyone",
      fields: [{ text: "как избирают городской кенеш в Бишкеке и Оше", lang: "ru", weight: 3 }],
    },
    {
      id: "budget",
      audience: "everyone",
      fields: [
        { text: "кто утверждает местный бюджет", lang: "ru", weight: 3 },
        { text: "Бюджет утверждает кенеш. Завтра рассмотрим подробнее.", lang: "ru", weight: 0.5 },
      ],
    },
  ]);

  it("counts neither place names nor words found only in answers as the FAQ's subject", () => {
    const weather = engine.search("какая погода завтра в Бишкеке", { viewer: "everyone" });
    // «Бишкек» is in an entry's question and «завтра» in an answer: neither makes it a question
    // for the FAQ, nor the Bishkek entry a visible match.
    expect(weather.domainShare).toBe(0);
    expect(weather.hits.every((h) => !h.topical)).toBe(true);

    const near = engine.search("когда кенеш в Бишкеке утверждает бюджет", { viewer: "everyone" });
    expect(near.domainShare).toBe(1);
    expect(near.hits.find((h) => h.id === "budget")?.topical).toBe(true);

    const half = engine.search("бюджет футбольного клуба", { viewer: "everyone" });
    expect(half.domainShare).toBeCloseTo(1 / 3);
  });
});
