/**
 * Text → search terms. Documents and queries go through the same steps: clean-up and homoglyph
 * repair, Latin → Cyrillic, folding, stop words, domain synonyms, stemming.
 */
import { collapseRepeats, foldCyrillic } from "./fold";
import {
  COMPOUNDS,
  isStopToken,
  SYNONYM_STEMS,
  SYNONYM_STEMS_RU,
  SYNONYMS,
  WEAK_STEMS,
  WEAK_WORDS,
} from "./lexicon";
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
  /** From a sentence around the question (greeting, introduction, story): see ./framing. */
  context?: boolean;
}

/** Picks one of several candidate spellings of a Latin word (by default, the most likely). */
export type SpellingChooser = (variants: string[]) => string;

const firstVariant: SpellingChooser = (variants) => variants[0]!;

/**
 * Stems by language and folded word. Indexing 10,000 entries stems the same few thousand words
 * hundreds of times over; the cache is emptied when it grows, so queries cannot bloat it.
 */
const stemCache = new Map<string, string[]>();
const STEM_CACHE_LIMIT = 100_000;

export function stemsOf(folded: string, lang: StemLang): string[] {
  const key = `${lang}:${folded}`;
  const cached = stemCache.get(key);
  if (cached) return cached;
  if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
  const stems = computeStems(folded, lang);
  stemCache.set(key, stems);
  return stems;
}

function computeStems(folded: string, lang: StemLang): string[] {
  if (/^\d+$/.test(folded)) return [folded];
  const ru = lang === "ky" ? undefined : collapseRepeats(stemRu(folded));
  const ky = lang === "ru" ? undefined : collapseRepeats(stemKy(folded));
  if (ru && ky && ru !== ky) return [ru, ky];
  return [(ru ?? ky)!];
}

export function analyze(
  text: string,
  lang: StemLang,
  choose: SpellingChooser = firstVariant,
  expand = true,
  /** The language the text was written in, when known: it settles ambiguous Latin letters. */
  typed: "ru" | "ky" | undefined = lang === "any" ? undefined : lang,
): Term[] {
  const terms: Term[] = [];
  let group = 0;
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    // A Latin word's readings are worked out once: for the stop list, then for the spelling.
    const readings = isLatinWord(token) ? latinToCyrillicVariants(token, typed) : undefined;
    if (isStopToken(token, () => readings ?? [])) continue;
    const folded = readings ? choose(readings) : foldCyrillic(token);
    const surface = collapseRepeats(folded);
    const compound = compoundOf(token, tokens[i + 1], typed);
    if (compound !== undefined) {
      terms.push({ surface: compound, stems: [compound], weak: false, expansion: false, group });
      group++;
      i++;
      continue;
    }
    if (surface.length === 0) continue;
    if (surface.length === 1 && !/\d/.test(surface)) continue;
    const stems = stemsOf(folded, lang);
    // The Kyrgyz stem is the last of them whenever the Kyrgyz stemmer ran (see computeStems).
    const weak = WEAK_WORDS.has(surface) || (lang !== "ru" && WEAK_STEMS.has(stems.at(-1)!));
    terms.push({ surface, stems, weak, expansion: false, group });
    const synonym = expand ? synonymOf(folded, surface) : undefined;
    if (synonym) {
      for (const extra of analyze(synonym, "any", firstVariant, false)) {
        terms.push({ ...extra, weak, expansion: true, group });
      }
    }
    group++;
  }
  return terms;
}

/**
 * The joined term when a word and the next one form a name that must stay whole (see COMPOUNDS).
 * Every reading of a Latin word is tried, so «zhogorku kenesh» joins whatever spelling the
 * vocabulary would pick.
 */
function compoundOf(
  token: string,
  next: string | undefined,
  typed: "ru" | "ky" | undefined,
): string | undefined {
  if (next === undefined) return undefined;
  const readings = (t: string) =>
    (isLatinWord(t) ? latinToCyrillicVariants(t, typed) : [foldCyrillic(t)]).map(collapseRepeats);
  for (const c of COMPOUNDS) {
    if (!readings(token).some((r) => r.startsWith(c.first))) continue;
    if (readings(next).some((r) => r.startsWith(c.second))) return c.joined;
  }
  return undefined;
}

/** The synonym table's expansion of a word: as typed, else by its Kyrgyz or Russian stem. */
function synonymOf(folded: string, surface: string): string | undefined {
  const exact = SYNONYMS.get(surface);
  if (exact !== undefined || surface.length < 4) return exact;
  return (
    SYNONYM_STEMS.get(collapseRepeats(stemKy(folded))) ??
    SYNONYM_STEMS_RU.get(collapseRepeats(stemRu(folded)))
  );
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

/**
 * Keys of neighbouring content words («ыйгарым укуктары», «депутатский запрос»): each pair of
 * consecutive non-weak terms gives one key per combination of their stems, in either order,
 * because Kyrgyz and Russian word order differ and people swap it anyway. Weights share 1
 * between a pair's combinations.
 */
export function pairsOf(terms: readonly Term[]): Map<string, number> {
  const out = new Map<string, number>();
  const content = terms.filter((t) => !t.weak);
  for (let i = 1; i < content.length; i++) {
    const a = content[i - 1]!.stems;
    const b = content[i]!.stems;
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        const key = x < y ? `${x} ${y}` : `${y} ${x}`;
        out.set(key, (out.get(key) ?? 0) + 1 / (a.length * b.length));
      }
    }
  }
  return out;
}
