/**
 * A light Russian stemmer over the folded alphabet of ./fold (й/ы → и, ь dropped, ё/э → е).
 * It strips one reflexive particle and one inflectional ending of nouns and adjectives, keeping
 * at least three letters. Verb endings are left alone: in folded text «депутат» and «получат»
 * end alike, and the prefix and trigram rankers cover verb forms anyway.
 */

// Longest first. Written in the folded alphabet: «-ый/-ий» arrive as «-ии», «-ей» as «-еи».
const ENDINGS = [
  "иями",
  "ями",
  "ами",
  "иях",
  "иям",
  "ием",
  "иеи",
  "ого",
  "его",
  "ому",
  "ему",
  "ими",
  "ии",
  "ая",
  "яя",
  "ое",
  "ее",
  "ие",
  "ия",
  "ию",
  "ую",
  "юю",
  "ои",
  "еи",
  "ом",
  "ем",
  "ам",
  "ям",
  "ах",
  "ях",
  "ов",
  "ев",
  "их",
  "им",
  "а",
  "я",
  "о",
  "е",
  "и",
  "у",
  "ю",
] as const;

const MIN_STEM = 3;

export function stemRu(word: string): string {
  let w = word;
  if (w.length > MIN_STEM + 2 && (w.endsWith("ся") || w.endsWith("сь"))) w = w.slice(0, -2);
  for (const ending of ENDINGS) {
    if (w.endsWith(ending) && w.length - ending.length >= MIN_STEM) {
      const stem = w.slice(0, -ending.length);
      // Single-vowel endings only on longer words, so «дом», «мэр» and «суд» stay whole.
      if (ending.length === 1 && stem.length < MIN_STEM + 1) continue;
      return stem;
    }
  }
  return w;
}
