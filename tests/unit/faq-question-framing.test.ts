/**
 * Question parsing that ignores what carries no meaning (framing.ts) and the points next to the
 * FAQ it does not answer (scope.ts), checked on the engine over the shipped corpus.
 */
import { describe, expect, it } from "vitest";
import { loadShippedFaq } from "../../src/features/faq/entries";
import { ABSTAIN_THRESHOLD } from "../../src/features/faq/search/confidence";
import { FaqSearchEngine } from "../../src/features/faq/search/engine";
import { isQuestion, questionParts } from "../../src/features/faq/search/framing";
import { conceptsIn } from "../../src/features/faq/search/scope";
import { entryToSearchDoc } from "../../src/features/faq/service";

const engine = new FaqSearchEngine(
  loadShippedFaq()
    .filter((e) => e.status === "published")
    .map(entryToSearchDoc),
);
const ask = (q: string, lang: "ru" | "ky") =>
  engine.search(q, { viewer: "deputies_staff", lang, limit: 5 });

describe("question framing", () => {
  it("marks greeting, introduction and story as context when another sentence asks", () => {
    const parts = questionParts(
      "Саламатсызбы. Мен Ат-Башыдан пенсионермин. Айыл кеңештин сессиясына катышууга болобу",
    );
    expect(parts.map((p) => p.context)).toEqual([true, true, false]);
    expect(questionParts("Здравствуйте. Я депутат. Какие у меня права?").at(-1)?.context).toBe(
      false,
    );
  });

  it("does not take a greeting typed in Latin letters for a question", () => {
    // «salamatsyzby» ends in the question particle «-by».
    const parts = questionParts(
      "Salamatsyzby. Men Karakoldon jazyp jatam. Aryzga kancha kundo joop berishet?",
    );
    expect(parts.map((p) => p.context)).toEqual([true, true, false]);
  });

  it("tells a question typed at a step from a statement or a place", () => {
    for (const q of [
      "как подать жалобу на айыл окмоту",
      "Сколько депутатов в кенеше",
      "кеңеште канча депутат болот",
      "угууга катышсам болобу",
      "chto takoe kurultai",
    ]) {
      expect(isQuestion(q), q).toBe(true);
    }
    for (const s of [
      "я живу в селе Беловодское",
      "Чүй облусу Сокулук району Жаңы-Жер айыл аймагы",
      "Кара-Суу",
      "<img src=x onerror=alert(1)> <b>bold</b>",
    ]) {
      expect(isQuestion(s), s).toBe(false);
    }
  });

  it("leaves a question alone when nothing, or everything, asks", () => {
    expect(questionParts("обращение без подписи рассмотрят")).toEqual([
      { text: "обращение без подписи рассмотрят", context: false },
    ]);
    expect(questionParts("Кто утверждает бюджет? Когда?").every((p) => !p.context)).toBe(true);
  });

  it("answers a long polite question as confidently as its short form", () => {
    const short = ask("Может ли житель прийти на сессию айылного кенеша?", "ru");
    const long = ask(
      "Здравствуйте, уважаемые юристы. Я пенсионерка из села Кен-Булун Сокулукского района, " +
        "всю жизнь проработала учительницей. В прошлом месяце соседи сказали, что на сессии " +
        "будут решать вопрос о воде, и я пришла, но меня не пустили. " +
        "Может ли обычный житель прийти на сессию айылного кенеша?",
      "ru",
    );
    expect(long.hits[0]?.id).toBe(short.hits[0]?.id);
    expect(long.confidence).toBeGreaterThanOrEqual(ABSTAIN_THRESHOLD);
    expect(long.confidence).toBeGreaterThan(short.confidence - 0.1);
  });
});

describe("an asking sentence that names nothing", () => {
  it("asks about the sentence before it", () => {
    const story =
      "Биз айылдын жаштары спорт аянтча салалы деп жатабыз. " +
      "Облустук өнүктүрүү фондунан акча алса болот деп уктук.";
    const r = ask(`${story} Ал үчүн эмне кылыш керек?`, "ky");
    // Without it, the only asked words were «эмне», «кылыш», «керек»: no content, confidence 0.
    expect(r.features.contentWords).toBeGreaterThan(0);
    expect(r.hits[0]?.id).toBe("local-initiatives-regional-funds");
    expect(r.confidence).toBeGreaterThanOrEqual(ABSTAIN_THRESHOLD);
  });

  it("takes the story's subject as the question's: a quarrel with a neighbour", () => {
    for (const [q, lang] of [
      ["Кошунам менен жер талашып калдык. Эми эмне кылам?", "ky"],
      ["Сосед передвинул забор на наш участок. Что теперь делать?", "ru"],
    ] as const) {
      const r = ask(q, lang);
      expect(r.features.uncovered, q).toBe(1);
      expect(r.confidence, q).toBeLessThan(ABSTAIN_THRESHOLD);
    }
  });
});

describe("points the FAQ does not answer", () => {
  it("recognises pay, leave and a named office holder now, in ky, ru and Latin letters", () => {
    expect(conceptsIn("Какая зарплата у главы айыл окмоту?")).toContain("pay");
    expect(conceptsIn("айыл өкмөт башчысынын айлыгы канча")).toContain("pay");
    expect(conceptsIn("skolko poluchaet deputat v mesyac")).toContain("pay");
    expect(conceptsIn("муниципалдык кызматчыга канча күн өргүү берилет")).toContain("leave");
    expect(conceptsIn("кто сейчас председатель ошского горкенеша")).toContain("current-holder");
    // How an office is filled is what the FAQ answers: not "who holds it now".
    expect(conceptsIn("айыл өкмөт башчысын азыр ким дайындайт")).not.toContain("current-holder");
  });

  it("recognises whom to call and Kyrgyz opening hours", () => {
    expect(conceptsIn("жарык өчүп калды кимге чалабыз")).toContain("phone");
    expect(conceptsIn("айыл өкмөт ишемби күнү иштейби")).toContain("opening-hours");
    expect(conceptsIn("саат канчага чейин иштейт")).toContain("opening-hours");
    // «чал-» only as the verb: «чалгын» is another word.
    expect(conceptsIn("чалгын иштери")).not.toContain("phone");
  });

  it("abstains on near-domain questions that share an entry's words", () => {
    for (const [q, lang] of [
      ["Сколько получает глава айыл окмоту в месяц?", "ru"],
      ["Сколько дней отпуска у муниципального служащего?", "ru"],
      ["Айыл өкмөт башчысынын айлыгы канча сом?", "ky"],
      ["Ош шаардык кеңешинин төрагасы азыр ким?", "ky"],
    ] as const) {
      const r = ask(q, lang);
      expect(r.features.uncovered, q).toBe(1);
      expect(r.confidence, q).toBeLessThan(ABSTAIN_THRESHOLD);
    }
  });

  it("an entry's own notCovered words lower its confidence", () => {
    const docs = [
      {
        id: "leave",
        audience: "everyone" as const,
        fields: [{ text: "Кто такой муниципальный служащий?", lang: "ru" as const, weight: 3 }],
        notCovered: ["премия"],
      },
    ];
    const local = new FaqSearchEngine(docs);
    const plain = local.search("муниципальный служащий это кто", { viewer: "everyone" });
    const bonus = local.search("премия муниципальный служащий", { viewer: "everyone" });
    expect(plain.features.uncovered).toBe(0);
    expect(bonus.features.uncovered).toBe(1);
  });
});
