/**
 * Folding of Cyrillic spelling variants into one search alphabet, applied to documents and
 * queries alike:
 * - Kyrgyz ө/ү/ң → о/у/н (over half of Kyrgyz messages are typed without them);
 * - letters of neighbouring alphabets that people type on Kazakh or Ukrainian keyboards;
 * - ё→е, э→е, щ→ш, й/ы→и, ъ/ь dropped: the distinctions that transliterated and hurried
 *   typing loses anyway («местныи», «obrashatsya», «aylnyh»);
 * - doubled letters collapsed by `collapseRepeats` (Kyrgyz long vowels «угуу» are often typed
 *   «угу»); done after stemming, so that «бюджет|тин» still splits at the suffix.
 * The result is not meant to be read, only compared.
 */
const FOLD: Record<string, string> = {
  ө: "о",
  ү: "у",
  ң: "н",
  ё: "е",
  э: "е",
  щ: "ш",
  й: "и",
  ы: "и",
  ъ: "",
  ь: "",
  қ: "к",
  ғ: "г",
  ұ: "у",
  һ: "х",
  і: "и",
  ї: "и",
  є: "е",
  ә: "а",
  җ: "ж",
  ў: "у",
};

export function foldCyrillic(token: string): string {
  let out = "";
  for (const ch of token) {
    const mapped = FOLD[ch];
    out += mapped ?? ch;
  }
  return out;
}

export function collapseRepeats(token: string): string {
  return token.replace(/(.)\1+/gu, "$1");
}
