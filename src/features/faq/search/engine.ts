/**
 * The FAQ search engine: several rankers over the same analysed entries, fused by reciprocal
 * rank, and a calibrated confidence that decides whether to answer or abstain.
 *
 * Rankers (all in-process, so PGlite and PostgreSQL give identical answers by construction):
 * - BM25 over stems (Russian and Kyrgyz stemmers; IDF keeps «кенеш», «айыл» from swamping);
 * - BM25 over five-letter prefixes of folded words (agglutination and verb forms);
 * - BM25 over character trigrams of folded words (typos, half-transliterated words);
 * - MiniSearch with prefix and edit-distance matching of words the vocabulary does not know.
 */
import MiniSearch from "minisearch";
import { analyze, PREFIX_LENGTH, prefixOf, type StemLang, type Term, trigrams } from "./analyze";
import { Bm25Index, type WeightedTerm } from "./bm25";
import { type ConfidenceFeatures, confidenceOf } from "./confidence";

export type Audience = "everyone" | "deputies_staff";

export interface SearchField {
  text: string;
  /** Stemmer(s) for this text: its language, or "any" for mixed-language tags. */
  lang: StemLang;
  /** How much a word here counts relative to the answer body (1). */
  weight: number;
}

export interface SearchDoc {
  id: string;
  audience: Audience;
  fields: SearchField[];
}

export interface EngineHit {
  id: string;
  /** Reciprocal-rank-fusion score. */
  score: number;
  /** IDF-weighted share of the question's content words that this entry contains. */
  coverage: number;
}

export interface EngineResult {
  /** Ranked entries visible to the viewer, best first (at most `limit`). */
  hits: EngineHit[];
  /** Estimated probability that the first hit answers the question. */
  confidence: number;
  features: ConfidenceFeatures;
}

export interface EngineSearchOptions {
  /** Who is asking: citizens see only "everyone" entries. */
  viewer: Audience;
  limit?: number;
}

export type RankerName = "stems" | "prefixes" | "trigrams" | "minisearch";

export interface EngineOptions {
  /** Weight of each ranker in the fusion (0 switches it off). */
  weights?: Partial<Record<RankerName, number>>;
  /** The k of reciprocal rank fusion: smaller trusts the first places more. */
  rrfK?: number;
}

const DEFAULT_WEIGHTS: Record<RankerName, number> = {
  stems: 1,
  prefixes: 1,
  trigrams: 1,
  minisearch: 1,
};

interface Ranker {
  name: RankerName;
  weight: number;
  scores: Float64Array;
}

const RRF_K = 5;
const TOP_K = 30;
/** Question words and modal verbs still rank, but much less than content words. */
const WEAK_WEIGHT = 0.5;
const CORRECTION_MIN_SIMILARITY = 0.7;

export class FaqSearchEngine {
  private readonly ids: string[] = [];
  private readonly audiences: Audience[] = [];
  private readonly stems = new Bm25Index();
  private readonly prefixes = new Bm25Index();
  private readonly grams = new Bm25Index();
  private readonly mini: MiniSearch<{ n: number; q: string; a: string }>;
  /** Folded words of the corpus → their stems, for spelling correction. */
  private readonly vocabulary = new Map<string, Set<string>>();
  /** Trigram → vocabulary words that contain it. */
  private readonly vocabularyGrams = new Map<string, string[]>();

  private readonly weights: Record<RankerName, number>;
  private readonly rrfK: number;

  constructor(docs: readonly SearchDoc[], options: EngineOptions = {}) {
    this.weights = { ...DEFAULT_WEIGHTS, ...options.weights };
    this.rrfK = options.rrfK ?? RRF_K;
    this.mini = new MiniSearch({
      idField: "n",
      fields: ["q", "a"],
      tokenize: (text) => text.split(" ").filter(Boolean),
      processTerm: (term) => term,
    });
    const miniDocs: { n: number; q: string; a: string }[] = [];
    for (const [n, doc] of docs.entries()) {
      this.ids.push(doc.id);
      this.audiences.push(doc.audience);
      const stemTf = new Map<string, number>();
      const prefixTf = new Map<string, number>();
      const gramTf = new Map<string, number>();
      const q: string[] = [];
      const a: string[] = [];
      for (const field of doc.fields) {
        for (const term of analyze(field.text, field.lang, undefined, false)) {
          for (const stem of term.stems) add(stemTf, stem, field.weight);
          add(prefixTf, prefixOf(term.surface), field.weight);
          // Trigrams of the short fields only: answers would make every posting list long.
          if (field.weight > 1)
            for (const g of trigrams(term.surface)) add(gramTf, g, field.weight);
          (field.weight > 1 ? q : a).push(term.surface);
          let known = this.vocabulary.get(term.surface);
          if (!known) {
            known = new Set();
            this.vocabulary.set(term.surface, known);
            if (term.surface.length >= 4 && !/\d/.test(term.surface)) {
              for (const g of new Set(trigrams(term.surface))) {
                const list = this.vocabularyGrams.get(g);
                if (list) list.push(term.surface);
                else this.vocabularyGrams.set(g, [term.surface]);
              }
            }
          }
          for (const stem of term.stems) known.add(stem);
        }
      }
      this.stems.add(n, stemTf);
      this.prefixes.add(n, prefixTf);
      this.grams.add(n, gramTf);
      miniDocs.push({ n, q: q.join(" "), a: a.join(" ") });
    }
    this.mini.addAll(miniDocs);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Analyses a question the way the index needs it (Latin spellings chosen by vocabulary). */
  analyzeQuery(query: string): Term[] {
    const terms = analyze(query, "any", (variants) => this.chooseSpelling(variants));
    return terms.map((t) => this.correct(t));
  }

  search(query: string, options: EngineSearchOptions): EngineResult {
    const limit = options.limit ?? 10;
    const terms = this.analyzeQuery(query);
    const visible = (d: number) =>
      options.viewer === "deputies_staff" || this.audiences[d] === "everyone";
    const n = this.ids.length;

    const stemQuery: WeightedTerm[] = [];
    const prefixQuery = new Map<string, number>();
    const gramQuery = new Map<string, number>();
    for (const term of terms) {
      const w = term.weak ? WEAK_WEIGHT : 1;
      const known = term.stems.filter((s) => this.stems.has(s));
      for (const stem of known) stemQuery.push({ term: stem, weight: w / known.length });
      add(prefixQuery, prefixOf(term.surface), w);
      for (const g of new Set(trigrams(term.surface))) add(gramQuery, g, w);
    }
    const rankers: Ranker[] = (["stems", "prefixes", "trigrams", "minisearch"] as const).map(
      (name) => ({ name, weight: this.weights[name], scores: new Float64Array(n) }),
    );
    if (rankers[0]!.weight > 0) this.stems.score(stemQuery, rankers[0]!.scores);
    if (rankers[1]!.weight > 0) this.prefixes.score(weighted(prefixQuery), rankers[1]!.scores);
    if (rankers[2]!.weight > 0) this.grams.score(weighted(gramQuery), rankers[2]!.scores);
    const words = [...new Set(terms.filter((t) => !t.weak).map((t) => t.surface))];
    if (words.length > 0 && rankers[3]!.weight > 0) {
      const found = this.mini.search(words.join(" "), {
        boost: { q: 2 },
        prefix: (term) => term.length >= PREFIX_LENGTH,
        fuzzy: (term) => (term.length >= 5 && !this.vocabulary.has(term) ? 0.25 : false),
        maxFuzzy: 2,
        combineWith: "OR",
      });
      const mini = rankers[3]!.scores;
      for (const r of found) mini[r.id as number] = r.score;
    }

    const fused = new Float64Array(n);
    const firsts: number[] = [];
    const candidates = new Set<number>();
    for (const ranker of rankers) {
      if (ranker.weight === 0) continue;
      const top = topDocs(ranker.scores, TOP_K, visible);
      firsts.push(top[0] ?? -1);
      for (const [rank, d] of top.entries()) {
        fused[d]! += ranker.weight / (this.rrfK + rank + 1);
        candidates.add(d);
      }
    }
    const ranked = [...candidates].sort((x, y) => fused[y]! - fused[x]! || x - y);
    const hits: EngineHit[] = ranked.slice(0, limit).map((d, i) => ({
      id: this.ids[d]!,
      score: fused[d]!,
      coverage: i < 5 ? this.coverage(terms, d) : 0,
    }));
    const best = ranked[0];
    const maxFused = rankers.reduce((s, r) => s + r.weight / (this.rrfK + 1), 0);
    const features: ConfidenceFeatures = {
      coverage: hits[0]?.coverage ?? 0,
      agreement:
        best === undefined
          ? 0
          : firsts.filter((d) => d === best).length / rankers.filter((r) => r.weight > 0).length,
      fused: best === undefined ? 0 : fused[best]! / maxFused,
      margin:
        best === undefined
          ? 0
          : (fused[best]! - (ranked[1] === undefined ? 0 : fused[ranked[1]]!)) / fused[best]!,
      contentWords: new Set(terms.filter((t) => !t.weak).map((t) => t.group)).size,
    };
    return { hits, confidence: confidenceOf(features), features };
  }

  /**
   * IDF-weighted share of the question's content words found in document `d`. A word counts as
   * found when one of its stems, its prefix, or one of its synonyms is in the entry; words the
   * corpus has never seen weigh as much as the rarest word.
   */
  coverage(terms: readonly Term[], d: number): number {
    const maxIdf = this.stems.idf("\u0000");
    const groups = new Map<number, { idf: number; found: boolean }>();
    for (const term of terms) {
      if (term.weak) continue;
      const known = term.stems.filter((s) => this.stems.has(s));
      const idf =
        known.length > 0
          ? Math.max(...known.map((s) => this.stems.idf(s)))
          : this.prefixes.has(prefixOf(term.surface))
            ? this.prefixes.idf(prefixOf(term.surface))
            : maxIdf;
      const found =
        known.some((s) => this.stems.contains(s, d)) ||
        this.prefixes.contains(prefixOf(term.surface), d);
      const g = groups.get(term.group);
      if (!g) groups.set(term.group, { idf: term.expansion ? 0 : idf, found });
      else {
        if (!term.expansion) g.idf = Math.max(g.idf, idf);
        g.found ||= found;
      }
    }
    let total = 0;
    let found = 0;
    for (const g of groups.values()) {
      const idf = g.idf || maxIdf / 2;
      total += idf;
      if (g.found) found += idf;
    }
    return total === 0 ? 0 : found / total;
  }

  private chooseSpelling(variants: string[]): string {
    for (const v of variants) {
      const t = analyze(v, "any", undefined, false)[0];
      if (t && (t.stems.some((s) => this.stems.has(s)) || this.vocabulary.has(t.surface))) return v;
    }
    for (const v of variants) {
      const t = analyze(v, "any", undefined, false)[0];
      if (t && this.prefixes.has(prefixOf(t.surface))) return v;
    }
    return variants[0]!;
  }

  /** Replaces a word the corpus does not know by its closest known word, if one is close. */
  private correct(term: Term): Term {
    if (term.surface.length < 4 || /\d/.test(term.surface)) return term;
    if (term.stems.some((s) => this.stems.has(s)) || this.vocabulary.has(term.surface)) return term;
    const grams = new Set(trigrams(term.surface));
    const shared = new Map<string, number>();
    for (const g of grams) {
      for (const word of this.vocabularyGrams.get(g) ?? [])
        shared.set(word, (shared.get(word) ?? 0) + 1);
    }
    let best: string | undefined;
    let bestSim = CORRECTION_MIN_SIMILARITY;
    for (const [word, count] of shared) {
      const sim = (2 * count) / (grams.size + new Set(trigrams(word)).size);
      if (sim > bestSim || (sim === bestSim && best !== undefined && word < best)) {
        best = word;
        bestSim = sim;
      }
    }
    if (!best) return term;
    return { ...term, surface: best, stems: [...(this.vocabulary.get(best) ?? [])] };
  }
}

function add(map: Map<string, number>, key: string, weight: number): void {
  map.set(key, (map.get(key) ?? 0) + weight);
}

function weighted(map: ReadonlyMap<string, number>): WeightedTerm[] {
  return [...map].map(([term, weight]) => ({ term, weight }));
}

/** Indexes of the k highest positive scores among visible documents, best first. */
function topDocs(scores: Float64Array, k: number, visible: (d: number) => boolean): number[] {
  const top: number[] = [];
  for (let d = 0; d < scores.length; d++) {
    const s = scores[d]!;
    if (s <= 0 || !visible(d)) continue;
    if (top.length === k && s <= scores[top[k - 1]!]!) continue;
    let i = top.length < k ? top.length : k - 1;
    if (top.length < k) top.push(d);
    while (i > 0 && scores[top[i - 1]!]! < s) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = d;
  }
  return top;
}
