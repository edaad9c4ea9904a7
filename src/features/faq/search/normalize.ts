/**
 * Unicode clean-up for text typed in a messenger: compatibility forms, zero-width characters,
 * emoji, and Latin look-alike letters typed inside Cyrillic words (a Latin "a" or "o" in the
 * middle of «aйыл» is invisible to the writer but breaks every exact match).
 */

// Soft hyphen, zero-width space/joiners, direction marks, word joiner, BOM, Mongolian vowel sep.
const INVISIBLE = /\u034F|[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;
// Pictographs, regional-indicator flags, skin tones, variation selectors, keycap, tag characters.
const EMOJI =
  /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\uFE00-\uFE0F\u20E3\u{E0020}-\u{E007F}]/gu;

/** Latin letters that look like Cyrillic ones (after lower-casing). */
const LATIN_LOOKALIKES: Record<string, string> = {
  a: "а",
  b: "в",
  c: "с",
  e: "е",
  h: "н",
  i: "і",
  k: "к",
  m: "м",
  o: "о",
  p: "р",
  t: "т",
  x: "х",
  y: "у",
};

const HAS_CYRILLIC = /\p{Script=Cyrillic}/u;
const HAS_LATIN = /\p{Script=Latin}/u;
const TOKEN = /[\p{L}\p{N}]+/gu;

/** NFKC, lower case, no invisible characters or emoji; whitespace collapsed. */
export function cleanText(input: string): string {
  return input
    .normalize("NFKC")
    .replace(INVISIBLE, "")
    .replace(EMOJI, " ")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

/** In a word that mixes scripts, replaces Latin look-alikes with their Cyrillic twins. */
export function fixHomoglyphs(token: string): string {
  if (!HAS_CYRILLIC.test(token) || !HAS_LATIN.test(token)) return token;
  let out = "";
  for (const ch of token) out += LATIN_LOOKALIKES[ch] ?? ch;
  return out;
}

export function isLatinWord(token: string): boolean {
  return HAS_LATIN.test(token) && !HAS_CYRILLIC.test(token);
}

/** Words of a text (letters and digits), cleaned and with homoglyphs fixed. */
export function tokenize(input: string): string[] {
  const words = cleanText(input).match(TOKEN) ?? [];
  return words.map(fixHomoglyphs);
}
