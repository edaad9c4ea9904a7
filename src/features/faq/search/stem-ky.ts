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

const BY_LENGTH = [...SUFFIXES].sort((a, b) => b.length - a.length);
const MIN_STEM = 3;
const MAX_PEELS = 4;

export function stemKy(word: string): string {
  let w = word;
  for (let peel = 0; peel < MAX_PEELS; peel++) {
    const suffix = BY_LENGTH.find(
      (s) => w.endsWith(s) && w.length - s.length >= (s.length === 1 ? MIN_STEM + 1 : MIN_STEM),
    );
    if (!suffix) break;
    w = w.slice(0, -suffix.length);
  }
  return w;
}
