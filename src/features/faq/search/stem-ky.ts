/**
 * A small Kyrgyz suffix stemmer (there is none on npm) over the folded alphabet of ./fold, where
 * ө/ү/ң are already о/у/н and ы is и, so each vowel-harmony family of a suffix has at most a few
 * spellings. It peels suffixes off the end (plural, possessive, case, question particle, common
 * verbal-noun and participle endings) up to four times, keeping at least three letters:
 * «кеңештеринин» → «кенеш», «угууларга» → «угуу», «бюджеттин» → «бюджет».
 */

// Every spelling is folded (ы→и, ө→о, ү→у); the longest matching suffix is peeled first.
const SUFFIXES = [
  // plural
  "лар",
  "лер",
  "лор",
  "дар",
  "дер",
  "дор",
  "тар",
  "тер",
  "тор",
  // ablative
  "ндан",
  "нден",
  "ндон",
  "дан",
  "ден",
  "дон",
  "тан",
  "тен",
  "тон",
  "нан",
  "нен",
  "нон",
  // genitive
  "нин",
  "нун",
  "дин",
  "дун",
  "тин",
  "тун",
  // locative
  "нда",
  "нде",
  "ндо",
  "да",
  "де",
  "до",
  "та",
  "те",
  "то",
  // dative
  "га",
  "ге",
  "го",
  "ка",
  "ке",
  "ко",
  "на",
  "не",
  "но",
  // accusative
  "ни",
  "ну",
  "ди",
  "ду",
  "ти",
  "ту",
  // conditional (-сам/-саң/-сак/-саңыз), negative gerund (-бай/-бей), agent (-чы/-чу),
  // adjectival locative (-дагы/-тагы), "of the kind" (-дикы), possessive + accusative (-сын/-сун)
  "саниз",
  "сениз",
  "сам",
  "сем",
  "сан",
  "сен",
  "сак",
  "сек",
  "баи",
  "беи",
  "бои",
  "паи",
  "пеи",
  "пои",
  "даги",
  "деги",
  "доги",
  "таги",
  "теги",
  "тоги",
  "дики",
  "тики",
  "ники",
  "син",
  "сун",
  "чи",
  "чу",
  // possessive
  "иниз",
  "униз",
  "ибиз",
  "убуз",
  "биз",
  "си",
  "су",
  "им",
  "ум",
  "ин",
  "ун",
  // question particle
  "би",
  "бу",
  "пи",
  "пу",
  // verbal nouns, participles, conditionals, abilities
  "ишим",
  "иши",
  "ган",
  "ген",
  "гон",
  "кан",
  "кен",
  "кон",
  "луу",
  "дуу",
  "туу",
  "уу",
  "оо",
  "лик",
  "лук",
  "дик",
  "дук",
  "тик",
  "тук",
  "иш",
  "уш",
  "ип",
  "уп",
  "са",
  "се",
  "со",
  // present/future tense (-ат/-ет/-от, -йт after a vowel)
  "ат",
  "ет",
  "от",
  "ит",
  // one-letter possessive / accusative / dative
  "и",
  "у",
  "а",
  "е",
  "н",
] as const;

/** Tense endings that are also the last letters of common nouns (бюджет, депутат, маалымат). */
const TENSE = new Set(["ат", "ет", "от", "ит"]);

/**
 * Stems the peeling must not cut further: domain nouns whose last letters look like a suffix
 * («бюджет» is not «бюдж» + -ет, «маалымат» is not «маал» + -ым + -ат, «чечим» not «чеч» + -им).
 * Folded spelling, before doubled letters are collapsed.
 */
const WHOLE = new Set(
  `бюджет депутат маалимат кизмат мамлекет чечим токтом укук мулк мунисипал жиин жииналиш
  кенеш миизам шаилоо отчет документ адам кагаз ариз аризачи талап устав мекеме ишкана
  программа грант жамаат аимак акиикат сессия комиссия жоопкерчилик курултаи министрлик
  кизматкер кизматчи мониторинг катиш кол сот прокуратура мерия калк тургун милдет окмот`
    .split(/\s+/)
    .filter(Boolean),
);

/** Two-letter roots a suffix may be peeled down to («элге» → «эл», «иштер» → «иш», «үйгө» → «үй»). */
const SHORT_ROOTS = new Set(["ел", "иш", "уи"]);

/**
 * Suffixes that end a verb form: tense, participle, gerund, conditional, verbal noun. Once one
 * is peeled the word is a verb, and its voice and negation can go too.
 */
const VERBAL = new Set(
  `ат ет от ит ган ген гон кан кен кон ип уп са се со сам сем сан сен сак сек саниз сениз
  баи беи бои паи пеи пои иш уш уу`.split(/\s+/),
);

/**
 * Voice and negation, peeled only from a verb (after a VERBAL suffix): the passive -ыл/-ил/
 * -ул/-үл and -ын after л («берилет», «жазылат», «салынат») and the negative -ба/-па/-ма
 * («беришпесе», «болбойт», «жазбаса»). On nouns they would cut roots such as «кабыл».
 */
const VOICE = [
  "ил",
  "ул",
  "ин",
  "ун",
  "ба",
  "бе",
  "бо",
  "па",
  "пе",
  "по",
  "ма",
  "ме",
  "мо",
] as const;

const BY_LENGTH = [...SUFFIXES].sort((a, b) => b.length - a.length);
const MIN_STEM = 3;
const MAX_PEELS = 4;

export function stemKy(word: string): string {
  let w = word;
  // A protected noun at the start of the word is a floor the peeling does not cut below.
  let floor = 0;
  for (let n = w.length; n >= MIN_STEM; n--) {
    if (WHOLE.has(w.slice(0, n))) {
      floor = n;
      break;
    }
  }
  let verb = false;
  for (let peel = 0; peel < MAX_PEELS; peel++) {
    if (w.length <= floor) break;
    const fits = (s: string) =>
      w.endsWith(s) &&
      w.length - s.length >= floor &&
      (w.length - s.length >= (s.length === 1 || TENSE.has(s) ? MIN_STEM + 1 : MIN_STEM) ||
        (s.length > 1 && SHORT_ROOTS.has(w.slice(0, -s.length))));
    const voice = verb ? VOICE.find(fits) : undefined;
    const suffix = voice ?? BY_LENGTH.find(fits);
    if (!suffix) break;
    verb ||= VERBAL.has(suffix);
    w = w.slice(0, -suffix.length);
  }
  return w;
}
