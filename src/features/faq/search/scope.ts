/**
 * Points next to the FAQ's subject that it does not answer. Questions about them share the
 * domain words of an entry ("head", "deputy", "municipal servant") and miss its point: how much
 * a head of aiyl okmotu is paid is not answered by who appoints one. On the dev set these were
 * answered with high confidence, so a question that asks about one of these concepts, when the
 * best entry does not speak of it, lowers the confidence (the `uncovered` feature).
 *
 * Each concept is a pattern over the lower-cased question (Cyrillic as typed, and the Latin
 * spellings people use). Entries add their own in the FAQ file (`notCovered`, words per language).
 */

export interface ScopeConcept {
  name: string;
  pattern?: RegExp;
  /** For a concept a single pattern cannot say. */
  test?: (lowerCased: string) => boolean;
  /** Read in the whole question, story included: the story is what such a question is about. */
  inStory?: boolean;
}

const W = String.raw`[^\s]*`;
/** Up to `n` words in between. */
const gap = (n: number) => String.raw`(?:\s+\S+){0,${n}}\s+`;

export const OUT_OF_SCOPE: readonly ScopeConcept[] = [
  {
    name: "pay",
    pattern: new RegExp(
      [
        `зарплат${W}`,
        `заработн${W}`,
        `оклад${W}`,
        `жалован${W}`,
        `айлы[кг]${W}`,
        `маяна${W}`,
        `эмгек\\s+акы${W}`,
        `сколько${gap(3)}получа${W}`,
        `канча${gap(3)}ал(?:ат|ышат)`,
        `zarplat${W}`,
        `a[iy]lyk${W}`,
        `skolko${gap(3)}poluch${W}`,
      ].join("|"),
    ),
  },
  {
    name: "leave",
    pattern: /отпуск|өргүү|ɵргүү|оорулуу\s+барак|больничн|декрет|otpusk|bolnichn|orguu|örgüü/,
  },
  {
    // Who holds an office now (a name the FAQ cannot know): a "who", a "now" and an office.
    name: "current-holder",
    test: (t) =>
      /(?:^|[^а-яөүң])(?:кто|ким)(?:[^а-яөүң]|$)|\bkto\b|\bkim\b/.test(t) &&
      /сейчас|азыр|учурда|нынешн|нынче|seichas|sejchas|azyr|uchurda/.test(t) &&
      /төрага|торага|председател|башчы|глава|мэр|аким|спикер|toraga|predsedatel|bashchy|glava/.test(
        t,
      ) &&
      // "Who appoints the head now" asks how, which the FAQ answers.
      !/дайында|назнач|шайла|избира|коюл|кантип|dayinda|naznach|shaila|izbira/.test(t),
  },
  {
    // A number to call, or whom to call («кимге чалабыз», «куда звонить»).
    name: "phone",
    pattern:
      /телефон|telefon|позвон|звонить|(?:^|[^а-яөүң])чал(?:абыз|ам|айын|сак|сам|ыш|уу|дым|дык)(?:[^а-яөүң]|$)/,
  },
  {
    name: "opening-hours",
    pattern:
      /график\s+работы|режим\s+работы|до\s+скольки|во\s+сколько\s+(?:открыва|работа)|(?:в\s+субботу|по\s+субботам|в\s+выходные)\s+работа|иштөө\s+убакт|саат\s+канча(?:да|га)|(?:ишемби|жекшемби|дем\s+алыш)\s+(?:күнү\s+)?иште|saat\s+kancha(?:da|ga)/,
  },
  {
    name: "next-event-date",
    pattern: new RegExp(
      [
        `(?:когда|качан|kogda|kachan)${gap(4)}(?:следующ|ближайш|кийинки|жакынкы|келерки|sleduyush|kiyinki|jakynky)`,
        `(?:следующ|ближайш|кийинки|жакынкы|келерки|sleduyush|kiyinki|jakynky)${W}${gap(5)}(?:когда|качан|кайсы\\s+күн|какого\\s+числа|kogda|kachan)`,
      ].join("|"),
    ),
  },
  {
    name: "certificates-and-registration",
    pattern: /справк|маалымкат|паспорт|прописк|загс|ник[её]\S*\s+катт|spravk|pasport/,
  },
  {
    name: "rates",
    pattern: /тариф|tarif|ставк\S*\s+(?:\S+\s+)?налог|канча\s+сом\s+(?:төлө|болду|болот)/,
  },
  {
    name: "pension",
    pattern:
      /пенсионн\S*\s+возраст|пенсия\s+по\s+возраст|пенси\S*(?:\s+\S+){0,2}\s+(?:чыг|лет)|пенсияга\s+канча\s+жаш|pensiag|pensionn/,
  },
  {
    // A quarrel with a neighbour over a fence or a plot is for the courts or the aksakals'
    // court, not something the FAQ's entries on appeals and participation settle.
    name: "neighbour-dispute",
    inStory: true,
    test: (t) =>
      /кошуна|коңшу|коншу|сосед|koshuna|konshu|sosed/.test(t) &&
      /чатак|талаш|уруш|спор|конфликт|ссор|тосмо|забор|межа|chatak|talash|tosmo|zabor/.test(t),
  },
  {
    name: "school-admission",
    pattern:
      /(?:записать|записаться|устроить|при[её]м)\S*\s+(?:\S+\s+)?в\s+(?:школ|детсад|садик)|мектепке\s+катт|мектепке\s+(?:\S+\s+)?кабыл|биринчи\s+класс|первый\s+класс|бала\s+бакчага/,
  },
];

/** The concepts of OUT_OF_SCOPE a text speaks of (question or entry), by name. */
export function conceptsIn(text: string, only?: (c: ScopeConcept) => boolean): Set<string> {
  const lower = text.toLowerCase();
  const found = new Set<string>();
  for (const c of OUT_OF_SCOPE) {
    if (only && !only(c)) continue;
    if (c.pattern?.test(lower) || c.test?.(lower)) found.add(c.name);
  }
  return found;
}

/**
 * The concepts a question asks about: those of the sentences that ask (all of it when they name
 * nothing, see FaqSearchEngine.search), and those read in the story too (`inStory`).
 */
export function askedConcepts(query: string, asked: string): Set<string> {
  const found = conceptsIn(asked);
  for (const name of conceptsIn(query, (c) => c.inStory === true)) found.add(name);
  return found;
}
