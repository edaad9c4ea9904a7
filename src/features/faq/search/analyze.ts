/**
 * Text → search terms. Documents and queries go through the same steps: clean-up and homoglyph
 * repair, Latin → Cyrillic, folding, stop words, domain synonyms, stemming.
 */
import { collapseRepeats, foldCyrillic } from "./fold";
import { STOPWORDS, SYNONYM_STEMS, SYNONYMS, WEAK_WORDS } from "./lexicon";
import { isLatinWord, tokenize } from "./normalize";
import { stemKy } from "./stem-ky";
import { stemRu } from "./stem-ru";
import { latinToCyrillicVariants } from "./translit";

/** Which stemmer(s) to apply: the field's language, or both when it is unknown (queries). */
export type StemLang = "ru" | "ky" | "any";

export interface Term {
  /** Folded word, doubled letters collapsed. */
  surface: string;
  /** One stem per applicable stemmer (deduplicated). */
  stems: string[];
  /** A question word or modal verb: ranked, but not required to be covered. */
  weak: boolean;
  /** Added by the synonym table rather than typed. */
  expansion: boolean;
  /** Index of the typed word this term comes from (expansions share their word's group). */
  group: number;
}

/** Picks one of several candidate spellings of a Latin word (by default, the most likely). */
export type SpellingChooser = (variants: string[]) => string;

const firstVariant: SpellingChooser = (variants) => variants[0]!;

export function stemsOf(folded: string, lang: StemLang): string[] {
  if (/^\d+$/.test(folded)) return [folded];
  const ru = lang === "ky" ? undefined : collapseRepeats(stemRu(folded));
  const ky = lang === "ru" ? undefined : collapseRepeats(stemKy(folded));
  if (ru && ky && ru !== ky) return [ru, ky];
  return [(ru ?? ky)!];
}

/** Folded (not yet collapsed) form of a token, transliterating Latin words. */
export function foldToken(token: string, choose: SpellingChooser = firstVariant): string {
  if (isLatinWord(token)) return choose(latinToCyrillicVariants(token));
  return foldCyrillic(token);
}

export function analyze(
  text: string,
  lang: StemLang,
  choose: SpellingChooser = firstVariant,
  expand = true,
): Term[] {
  const terms: Term[] = [];
  let group = 0;
  for (const token of tokenize(text)) {
    const folded = foldToken(token, choose);
    const surface = collapseRepeats(folded);
    if (surface.length === 0 || STOPWORDS.has(folded)) continue;
    if (surface.length === 1 && !/\d/.test(surface)) continue;
    const weak = WEAK_WORDS.has(surface);
    terms.push({ surface, stems: stemsOf(folded, lang), weak, expansion: false, group });
    const synonym = expand
      ? (SYNONYMS.get(surface) ??
        (surface.length >= 4 ? SYNONYM_STEMS.get(collapseRepeats(stemKy(folded))) : undefined))
      : undefined;
    if (synonym) {
      for (const extra of analyze(synonym, "any", firstVariant, false)) {
        terms.push({ ...extra, weak, expansion: true, group });
      }
    }
    group++;
  }
  return terms;
}

/** Character trigrams of a word, padded so that beginnings and endings count. */
export function trigrams(word: string): string[] {
  const padded = ` ${word} `;
  const out: string[] = [];
  for (let i = 0; i + 3 <= padded.length; i++) out.push(padded.slice(i, i + 3));
  return out;
}

export const PREFIX_LENGTH = 5;

export function prefixOf(surface: string): string {
  return surface.slice(0, PREFIX_LENGTH);
}
