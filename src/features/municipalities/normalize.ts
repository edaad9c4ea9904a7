/**
 * Text folding for typo-tolerant place-name search.
 *
 * Everything (Kyrgyz Cyrillic, Russian Cyrillic, Latin transliterations) is folded to one
 * Latin "skeleton": ө→o, ү→u, ң→n, ж/дж/zh/dzh/dj→j, ы/й/y→i, х/kh/x→h, doubled letters
 * collapsed (Kyrgyz long vowels typed short, "Issyk" vs "Ысык"). Letters are addressed by
 * code point so that this file carries no Cyrillic literals.
 */

/** Latin folds of а..я (U+0430..U+044F), indexed by code point minus 0x430. */
const RUSSIAN_ALPHABET = [
  "a", // а
  "b", // б
  "v", // в
  "g", // г
  "d", // д
  "e", // е
  "j", // ж
  "z", // з
  "i", // и
  "i", // й
  "k", // к
  "l", // л
  "m", // м
  "n", // н
  "o", // о
  "p", // п
  "r", // р
  "s", // с
  "t", // т
  "u", // у
  "f", // ф
  "h", // х
  "ts", // ц
  "ch", // ч
  "sh", // ш
  "sh", // щ
  "", // ъ
  "i", // ы
  "", // ь
  "e", // э
  "iu", // ю
  "ia", // я
];

/** Letters outside а..я: ё, Kyrgyz ө ү ң, and the Latin letters people type for them. */
const EXTRA_LETTERS = new Map<number, string>([
  [0x451, "e"], // ё
  [0x4e9, "o"], // ө
  [0x4e8, "o"], // Ө (lower-casing covers most, kept for safety)
  [0x4af, "u"], // ү
  [0x4a3, "n"], // ң
  [0x275, "o"], // ɵ, a common look-alike typed for ө
  [0x4bb, "h"], // һ
  [0xf6, "o"], // ö
  [0xfc, "u"], // ü
  [0xf1, "n"], // ñ
  [0x14b, "n"], // ŋ
  [0x131, "i"], // ı
  [0xe9, "e"], // é
]);

/** The folded text so far ends in a consonant. */
const CONSONANT_BEFORE = /[b-df-hj-np-tv-z]$/;

/** Latin digraphs folded after transliteration, longest first. */
const LATIN_FOLDS: Array<[RegExp, string]> = [
  [/dzh|dj|zh/g, "j"],
  [/kh/g, "h"],
  [/x/g, "h"],
  [/q/g, "k"],
  [/w/g, "v"],
  [/y/g, "i"],
  [/ng(?![aeiou])/g, "n"],
];

/** Folds one string to the search skeleton; non-letters become single spaces. */
export function fold(input: string): string {
  let out = "";
  for (const ch of input.normalize("NFC").toLowerCase()) {
    const code = ch.codePointAt(0)!;
    if (code === 0x44e && CONSONANT_BEFORE.test(out)) {
      // Russian spellings write Kyrgyz ү after a consonant as "ю": Тюп for Түп, Сулюкта.
      out += "u";
    } else if (code >= 0x430 && code <= 0x44f) out += RUSSIAN_ALPHABET[code - 0x430];
    else if (EXTRA_LETTERS.has(code)) out += EXTRA_LETTERS.get(code);
    else if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) out += ch;
    else if (/\p{L}/u.test(ch)) {
      // Other accented Latin letters: strip the accent, drop what remains non-ASCII.
      out += ch.normalize("NFD").replace(/[^a-z]/g, "");
    } else out += " ";
  }
  // Russian "дж" became "dj" above and is folded with the Latin digraphs.
  for (const [pattern, replacement] of LATIN_FOLDS) out = out.replace(pattern, replacement);
  return out
    .replace(/([a-z])\1+/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Words that describe the kind of unit rather than name it: "айыл аймагы", "айыл өкмөтү",
 * "АО", "село", "шаары", "город", "району", "облусу", their Russian and English counterparts
 * and abbreviations. Written in plain transliteration and folded like everything else.
 */
const NOISE_WORDS = new Set(
  [
    "a",
    "aa",
    "ao",
    "aiyl",
    "ail",
    "aiylnyi",
    "ailnyi",
    "aiylnogo",
    "ailnogo",
    "aiylnaia",
    "aiyldyk",
    "aimak",
    "aimaga",
    "aimagy",
    "aimagynyn",
    "aimagynda",
    "okmotu",
    "okmot",
    "okmotunun",
    "okrug",
    "selo",
    "sela",
    "s",
    "poselok",
    "pgt",
    "shaar",
    "shaary",
    "shaarynyn",
    "shaarynda",
    "gorod",
    "g",
    "gor",
    "raion",
    "r",
    "rn",
    "raionu",
    "oblast",
    "obl",
    "oblusu",
    "meriia",
    "village",
    "city",
    "town",
    "district",
    "region",
    "municipality",
    "rural",
    "the",
    "of",
    "v",
    "i",
    "jana",
    "im",
    "imeni",
  ].map((word) => fold(word)),
);

/**
 * Words that usually describe the council ("айыл кеңеши") but also name three aiyl aimaks
 * (Кеңеш in Bazar-Korgon, Kara-Kulja and Nookat districts): kept as tokens so those can be
 * found, and skipped by the search when they match nothing.
 */
const SOFT_WORDS = new Set(["kenesh", "keneshi", "keneshinin"].map((word) => fold(word)));

/** A query word the search may ignore when it matches neither the name nor its context. */
export function isSoftWord(token: string): boolean {
  return SOFT_WORDS.has(token);
}

/** Russian adjective endings, folded ("Сокулукский" → "sokuluk"). */
const ADJECTIVE_ENDING = /(?:ski|skaia|skoe|skogo|skomu|skom|skoi|skie|skih)$/;

/** Splits folded text into meaningful tokens: noise words dropped, adjectives stemmed. */
export function tokens(input: string): string[] {
  const result: string[] = [];
  for (const word of fold(input).split(" ")) {
    if (!word || NOISE_WORDS.has(word)) continue;
    const stem = word.length > 6 ? word.replace(ADJECTIVE_ENDING, "") : word;
    result.push(stem.length >= 2 ? stem : word);
  }
  return result;
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), giving up
 * early: returns `max + 1` as soon as the distance is known to exceed `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const width = b.length + 1;
  // A search compares the typed word with every name in the directory: three reused rows
  // instead of three new arrays per comparison.
  if (rows[0]!.length < width) rows = [0, 1, 2].map(() => new Int32Array(width * 2));
  let [prevPrev, prev, current] = rows as [Int32Array, Int32Array, Int32Array];
  for (let j = 0; j < width; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ai === b.charCodeAt(j - 1) ? 0 : 1;
      let value = Math.min(prev[j]! + 1, current[j - 1]! + 1, prev[j - 1]! + cost);
      if (
        i > 1 &&
        j > 1 &&
        ai === b.charCodeAt(j - 2) &&
        a.charCodeAt(i - 2) === b.charCodeAt(j - 1)
      ) {
        value = Math.min(value, prevPrev[j - 2]! + 1);
      }
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    [prevPrev, prev, current] = [prev, current, prevPrev];
  }
  return prev[b.length]!;
}

let rows: Int32Array[] = [0, 1, 2].map(() => new Int32Array(64));

/** Typos tolerated for a word of this length: none for short words, 1 up to 6, else 2. */
export function allowedTypos(length: number): number {
  if (length <= 3) return 0;
  if (length <= 6) return 1;
  return 2;
}
