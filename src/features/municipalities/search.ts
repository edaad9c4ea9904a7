import { allowedTypos, editDistance, fold, isSoftWord, tokens } from "./normalize";

/** What the search needs to know about one municipality. */
export interface SearchEntry {
  id: number;
  kind: "aiyl_aimak" | "city";
  nameKy: string;
  nameRu: string;
  /** Names of its district and region (both languages); words here may narrow a query. */
  context: string[];
}

interface NameKey {
  tokens: string[];
  /** The tokens run together, so "кок жар", "кокжар" and "Kok-Jar" meet. */
  joined: string;
  /**
   * Runs of two or more consecutive tokens, shorter than the whole name, run together: a
   * name of several words is also found by one of its parts typed as one word ("Жалалабад"
   * for "Манас (Жалал-Абад)").
   */
  runs: Array<{ key: string; size: number }>;
}

interface IndexedEntry {
  entry: SearchEntry;
  names: NameKey[];
  /** The names only lower-cased and stripped of punctuation, to prefer exact spellings. */
  literal: string[];
  context: string[];
}

export interface SearchIndex {
  entries: IndexedEntry[];
}

export interface SearchHit {
  id: number;
  /** 0..1; 1 is an exact match of a whole name. */
  score: number;
}

/**
 * Folded grammatical endings that may follow a name: Kyrgyz cases, plural and -лык/-луу
 * derivations (vowel harmony folds to a/o/u/e/i), Russian case endings.
 */
const ENDING =
  /^(?:[dt][aoei]n?|[gk][aoe]|[ndt]in|[ndt]i|[ld]ar|tar|[ldt]ik|[ldt]u|[dt]agi|[aeiou]|om|oi|ogo|em|ei|ia|iu)$/;

/** Below this a candidate is not shown at all. */
const MIN_SCORE = 0.5;

/** Lower case, letters and digits only: "Кара-Көл" → "каракөл". */
function literalKey(text: string): string {
  return text
    .normalize("NFC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
}

function nameKey(name: string): NameKey {
  const t = tokens(name);
  const runs: NameKey["runs"] = [];
  for (let size = 2; size < t.length; size++) {
    for (let start = 0; start + size <= t.length; start++) {
      runs.push({ key: t.slice(start, start + size).join(""), size });
    }
  }
  return { tokens: t, joined: t.join(""), runs };
}

export function buildSearchIndex(entries: SearchEntry[]): SearchIndex {
  return {
    entries: entries.map((entry) => ({
      entry,
      names: [nameKey(entry.nameKy), nameKey(entry.nameRu)],
      literal: [literalKey(entry.nameKy), literalKey(entry.nameRu)],
      context: [...new Set(entry.context.flatMap((c) => tokens(c)))],
    })),
  };
}

/** How well one typed word matches one word of a name (0 = not at all). */
function wordScore(typed: string, word: string): number {
  if (typed === word) return 1;
  // Still typing: "сокул" for "Сокулук".
  if (typed.length >= 3 && word.startsWith(typed)) return 0.9;
  // Kyrgyz case endings and Russian inflections: "Сокулуктан", "Барскоондо", "в Оше".
  if (word.length >= 2 && typed.startsWith(word) && ENDING.test(typed.slice(word.length))) {
    return 0.85;
  }
  const max = allowedTypos(typed.length);
  if (max > 0) {
    const d = editDistance(typed, word, max);
    if (d <= max) return d === 1 ? 0.75 : 0.6;
    // A typo inside a word that is still being typed: "сакул" for "Сокулук".
    if (typed.length >= 5 && word.length > typed.length) {
      const prefixMax = allowedTypos(typed.length);
      if (editDistance(typed, word.slice(0, typed.length), prefixMax) <= prefixMax) return 0.55;
    }
  }
  return 0;
}

function bestWordScore(typed: string, words: string[]): number {
  let best = 0;
  for (const word of words) {
    const s = wordScore(typed, word);
    if (s > best) best = s;
    if (best === 1) break;
  }
  return best;
}

/** Score of a query against one name of a candidate, using its context for extra words. */
function nameScore(query: NameKey, name: NameKey, context: string[]): number {
  if (name.tokens.length === 0 || query.tokens.length === 0) return 0;
  // Whole-name comparison, blind to spaces and hyphens.
  let best = wordScore(query.joined, name.joined);
  for (const run of name.runs) {
    const s = wordScore(query.joined, run.key) * (0.85 + (0.15 * run.size) / name.tokens.length);
    if (s > best) best = s;
  }
  // Word by word: every typed word must belong to the name or to its district/region.
  let sum = 0;
  let inName = 0;
  let skipped = 0;
  const used = new Set<number>();
  for (const typed of query.tokens) {
    let s = 0;
    let at = -1;
    name.tokens.forEach((word, i) => {
      const w = wordScore(typed, word);
      if (w > s) {
        s = w;
        at = i;
      }
    });
    if (s > 0) {
      sum += s;
      inName++;
      used.add(at);
    } else if (isSoftWord(typed) && bestWordScore(typed, context) < 0.75) {
      // "кеңеш" that names neither this unit nor its district: most likely "the council".
      skipped++;
    } else if (bestWordScore(typed, context) < 0.75) {
      sum = -1;
      break;
    }
  }
  if (sum > 0 && inName > 0) {
    const coverage = used.size / name.tokens.length;
    const wordsScore = (sum / inName) * (0.7 + 0.3 * coverage) * 0.95 ** skipped;
    if (wordsScore > best) best = wordsScore;
  }
  return best;
}

/**
 * Ranks the municipalities for a free-text query: tolerant of typos (1–2 edits by word
 * length), missing or Latin ө/ү/ң, Russian or Kyrgyz names, noise words such as "айыл
 * аймагы" or "село", case and punctuation. Returns at most `limit` hits, best first.
 */
export function searchIndex(index: SearchIndex, query: string, limit = 6): SearchHit[] {
  const q = nameKey(query);
  if (q.joined.length < 2) return [];
  const literal = literalKey(query);
  const hits: Array<SearchHit & { city: boolean; tie: string }> = [];
  for (const item of index.entries) {
    let score = 0;
    for (const name of item.names) score = Math.max(score, nameScore(q, name, item.context));
    // Folding makes "Каракол" and "Кара-Көл" equal; the one spelled as typed goes first.
    if (score === 1 && !item.literal.includes(literal)) score = 0.98;
    if (score >= MIN_SCORE) {
      hits.push({
        id: item.entry.id,
        score,
        city: item.entry.kind === "city",
        tie: fold(item.entry.nameKy),
      });
    }
  }
  // Namesakes that match equally well: the city first (Кара-Суу the town before the aiyl
  // aimaks called Кара-Суу), as more people live there and more of them look it up.
  hits.sort(
    (a, b) =>
      b.score - a.score ||
      Number(b.city) - Number(a.city) ||
      a.tie.length - b.tie.length ||
      a.id - b.id,
  );
  return hits.slice(0, limit).map(({ id, score }) => ({ id, score }));
}
