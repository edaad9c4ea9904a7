/**
 * The FAQ search engine: several rankers over the same analysed entries, fused by reciprocal
 * rank, and a calibrated confidence that decides whether to answer or abstain.
 *
 * Rankers (all in-process, so PGlite and PostgreSQL give identical answers by construction):
 * - BM25 over stems (Russian and Kyrgyz stemmers; IDF keeps «кенеш», «айыл» from swamping);
 * - BM25 over five-letter prefixes of folded words (agglutination and verb forms);
 * - BM25 over character trigrams of folded words (typos, half-transliterated words);
 * - whole words with prefix and edit-distance matching of words the vocabulary does not know
 *   (MiniSearch's scoring, see ./words).
 * Each ranker accumulates into its own reusable sparse buffer, so a query costs what its
 * posting lists touch, not the number of entries.
 */
import {
  analyze,
  PREFIX_LENGTH,
  pairsOf,
  prefixOf,
  type StemLang,
  type Term,
  trigrams,
} from "./analyze";
import { Bm25Index, type WeightedTerm } from "./bm25";
import { type ConfidenceFeatures, confidenceOf } from "./confidence";
import { type QuestionPart, questionParts } from "./framing";
import { isPlaceName, UNINDEXED_TERMS } from "./lexicon";
import { PhraseIndex, type QueryWord } from "./phrases";
import { askedConcepts, conceptsIn } from "./scope";
import { ScoreBuffer } from "./scores";
import { Vocabulary } from "./spelling";
import { WordIndex } from "./words";

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
  /** Words of points next to the entry that it does not answer (see ./scope). */
  notCovered?: readonly string[];
}

export interface EngineHit {
  id: string;
  /** Reciprocal-rank-fusion score, plus the phrase similarity for the first candidates. */
  score: number;
  /** IDF-weighted share of the question's content words that this entry contains. */
  coverage: number;
  /**
   * Whether the entry's question, phrasings or tags contain a content word of the question other
   * than a place name: something visible the two have in common (only the first five are checked).
   */
  topical: boolean;
}

export interface EngineResult {
  /** Ranked entries visible to the viewer, best first (at most `limit`). */
  hits: EngineHit[];
  /** Estimated probability that the first hit answers the question. */
  confidence: number;
  features: ConfidenceFeatures;
  /**
   * Share of the question's content words (place names aside) that the FAQ's questions,
   * phrasings or tags use at all: how much of the question is in the FAQ's domain. «Какая погода
   * завтра» is 0 however an entry happens to rank; a paraphrase of an entry is most of 1.
   */
  domainShare: number;
}

/** The language the asker uses (the bot's language for them), a hint for reading the query. */
export type QueryLang = "ru" | "ky" | "en";

export interface EngineSearchOptions {
  /** Who is asking: citizens see only "everyone" entries. */
  viewer: Audience;
  lang?: QueryLang;
  limit?: number;
}

export type RankerName = "stems" | "prefixes" | "trigrams" | "words";

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
  words: 1,
};

const RANKERS = ["stems", "prefixes", "trigrams", "words"] as const;

const RRF_K = 5;
const TOP_K = 30;
/** Question words and modal verbs still rank, but much less than content words. */
const WEAK_WEIGHT = 0.5;
/** Coverage credit of a word found only in the answer or source, not the question side. */
const ANSWER_ONLY_CREDIT = 0.5;
/** How much a matching pair of neighbouring words adds, relative to one word of the stems. */
const PAIR_WEIGHT = 0.5;
/** How many fused candidates the phrase similarity re-orders, and how much it weighs. */
const RERANK = 10;
const PHRASE_WEIGHT = 0.2;
/**
 * A word of the question's context (./framing) ranks at this share of a word of the question
 * itself, and counts at CONTEXT_COVERAGE of its weight when judging coverage.
 */
const CONTEXT_WEIGHT = 0.4;
const CONTEXT_COVERAGE = 0.2;

export class FaqSearchEngine {
  private readonly ids: string[] = [];
  private readonly audiences: Audience[] = [];
  /** Per entry: the out-of-scope concepts (./scope) its own text speaks of. */
  private readonly concepts: Set<string>[] = [];
  /** Per entry: stems of what it declares it does not answer. */
  private readonly notCovered: Set<string>[] = [];
  private readonly stems = new Bm25Index();
  private readonly prefixes = new Bm25Index();
  private readonly grams = new Bm25Index();
  private readonly phrases = new PhraseIndex();
  /** Stems and prefixes of the short fields (question, phrasings, tags), for coverage. */
  private readonly strong = new Bm25Index();
  /** Neighbouring word pairs of the short fields: a proximity bonus to the stems ranker. */
  private readonly pairs = new Bm25Index();
  private readonly words = new WordIndex();
  /** One score buffer per ranker (in RANKERS order) and one for the fusion. */
  private readonly buffers: ScoreBuffer[];
  private readonly fused: ScoreBuffer;
  private readonly vocabulary = new Vocabulary();

  private readonly weights: Record<RankerName, number>;
  private readonly rrfK: number;

  constructor(docs: readonly SearchDoc[], options: EngineOptions = {}) {
    this.weights = { ...DEFAULT_WEIGHTS, ...options.weights };
    this.rrfK = options.rrfK ?? RRF_K;
    for (const [n, doc] of docs.entries()) {
      this.ids.push(doc.id);
      this.audiences.push(doc.audience);
      this.concepts.push(conceptsIn(doc.fields.map((f) => f.text).join("\n")));
      const declared = new Set<string>();
      for (const words of doc.notCovered ?? []) {
        for (const t of analyze(words, "any", undefined, false)) {
          for (const stem of t.stems) declared.add(stem);
        }
      }
      this.notCovered.push(declared);
      const stemTf = new Map<string, number>();
      const prefixTf = new Map<string, number>();
      const gramTf = new Map<string, number>();
      const pairTf = new Map<string, number>();
      const strongTf = new Map<string, number>();
      const phrases: string[][][] = [];
      const q: string[] = [];
      const a: string[] = [];
      for (const field of doc.fields) {
        const terms = indexTerms(field.text, field.lang);
        if (field.weight > 1) {
          for (const [k, w] of pairsOf(terms)) add(pairTf, k, w * field.weight);
          // Tags arrive as one field separated by ";": each tag is a phrase of its own.
          const parts = field.text.includes(";") ? field.text.split(";") : [undefined];
          for (const part of parts) {
            const words = (part === undefined ? terms : indexTerms(part, field.lang))
              .filter((t) => !t.weak)
              .map((t) => t.stems);
            phrases.push(words);
          }
        }
        for (const term of terms) {
          for (const stem of term.stems) add(stemTf, stem, field.weight);
          add(prefixTf, prefixOf(term.surface), field.weight);
          if (field.weight > 1) {
            for (const stem of term.stems) add(strongTf, stem, 1);
            add(strongTf, `${prefixOf(term.surface)}…`, 1);
          }
          // Trigrams of the short fields only: answers would make every posting list long.
          if (field.weight > 1)
            for (const g of trigrams(term.surface)) add(gramTf, g, field.weight);
          (field.weight > 1 ? q : a).push(term.surface);
          this.vocabulary.add(term);
        }
      }
      this.stems.add(n, stemTf);
      this.prefixes.add(n, prefixTf);
      this.grams.add(n, gramTf);
      this.pairs.add(n, pairTf);
      this.strong.add(n, strongTf);
      this.phrases.add(n, phrases);
      this.words.add(n, [q, a]);
    }
    this.words.prepare();
    this.buffers = RANKERS.map(() => new ScoreBuffer(docs.length));
    this.fused = new ScoreBuffer(docs.length);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Analyses a question the way the index needs it (Latin spellings chosen by vocabulary). */
  analyzeQuery(
    query: string,
    lang?: QueryLang,
    parts: readonly QuestionPart[] = questionParts(query),
  ): Term[] {
    // Both stemmers: Kyrgyz questions carry Russian words and the other way round.
    const terms: Term[] = [];
    for (const part of parts) {
      const offset = terms.length === 0 ? 0 : terms[terms.length - 1]!.group + 1;
      const partTerms = analyze(
        part.text,
        "any",
        (variants) => this.chooseSpelling(variants),
        true,
        lang === "ru" || lang === "ky" ? lang : undefined,
      );
      for (const t of partTerms) {
        terms.push({ ...t, group: t.group + offset, ...(part.context ? { context: true } : {}) });
      }
    }
    // Expansions come from the synonym table, spelt as the entries spell them: a word of theirs
    // the corpus lacks is simply absent, not a typo to "correct" into some other word.
    return terms.map((t) =>
      t.expansion ? t : this.vocabulary.correct(t, (s) => this.stems.has(s)),
    );
  }

  search(query: string, options: EngineSearchOptions): EngineResult {
    const limit = options.limit ?? 10;
    let parts = questionParts(query);
    let terms = this.analyzeQuery(query, options.lang, parts);
    // «…we heard the regional fund can pay for it. What should we do for that?»: an asking
    // sentence that names nothing asks about the sentence before it, which is then asked too;
    // and what the story is about (a quarrel with a neighbour) is then what the question is about.
    const namesSomething = (ts: readonly Term[]) => ts.some((t) => !t.weak && !t.context);
    const refersBack = !namesSomething(terms);
    while (!namesSomething(terms)) {
      const lastAsked = parts.findLastIndex((p) => !p.context);
      const before = parts.findLastIndex((p, i) => p.context && i < lastAsked);
      if (before < 0) break;
      parts = parts.map((p, i) => (i === before ? { ...p, context: false } : p));
      terms = this.analyzeQuery(query, options.lang, parts);
    }
    const asked = askedConcepts(
      query,
      refersBack
        ? query
        : parts
            .filter((p) => !p.context)
            .map((p) => p.text)
            .join(" "),
    );
    // Names no entry is indexed under rank nothing (not even by their letters); they still count
    // as words of the question that no entry covers.
    const ranking = terms.filter((t) => !UNINDEXED_TERMS.has(t.surface));
    const visible = (d: number) =>
      options.viewer === "deputies_staff" || this.audiences[d] === "everyone";

    const stemQuery: WeightedTerm[] = [];
    const prefixQuery = new Map<string, number>();
    const gramQuery = new Map<string, number>();
    // An abbreviation or synonym stands for one typed word: its expansion words share that
    // word's weight instead of each counting as a word of the question («обс» is one concept,
    // not three).
    const expansions = new Map<number, number>();
    for (const t of ranking)
      if (t.expansion) expansions.set(t.group, (expansions.get(t.group) ?? 0) + 1);
    for (const term of ranking) {
      const w =
        ((term.weak ? WEAK_WEIGHT : 1) * (term.context ? CONTEXT_WEIGHT : 1)) /
        (term.expansion ? expansions.get(term.group)! : 1);
      const known = term.stems.filter((s) => this.stems.has(s));
      for (const stem of known) stemQuery.push({ term: stem, weight: w / known.length });
      add(prefixQuery, prefixOf(term.surface), w);
      for (const g of new Set(trigrams(term.surface))) add(gramQuery, g, w);
    }
    const [stems, prefixes, grams, words] = this.buffers as [
      ScoreBuffer,
      ScoreBuffer,
      ScoreBuffer,
      ScoreBuffer,
    ];
    for (const b of this.buffers) b.reset();
    this.fused.reset();
    if (this.weights.stems > 0) {
      this.stems.score(stemQuery, stems);
      this.pairs.score(weighted(pairsOf(ranking.filter((t) => !t.expansion)), PAIR_WEIGHT), stems);
    }
    if (this.weights.prefixes > 0) this.prefixes.score(weighted(prefixQuery), prefixes);
    if (this.weights.trigrams > 0) this.grams.score(weighted(gramQuery), grams);
    const surfaces = new Map<string, number>();
    for (const t of ranking) {
      if (t.weak || surfaces.has(t.surface)) continue;
      const share = t.context ? CONTEXT_WEIGHT : 1;
      surfaces.set(t.surface, t.expansion ? share / expansions.get(t.group)! : share);
    }
    if (surfaces.size > 0 && this.weights.words > 0) {
      this.words.score(
        surfaces,
        {
          boost: [2, 1],
          prefix: (word) => word.length >= PREFIX_LENGTH,
          fuzzy: (word) => (word.length >= 5 && !this.vocabulary.has(word) ? 0.25 : false),
          maxFuzzy: 2,
        },
        words,
      );
    }

    const fused = this.fused;
    const firsts: number[] = [];
    let active = 0;
    for (const [i, name] of RANKERS.entries()) {
      const weight = this.weights[name];
      if (weight === 0) continue;
      active++;
      const top = this.buffers[i]!.top(TOP_K, visible);
      firsts.push(top[0] ?? -1);
      for (const [rank, d] of top.entries()) fused.add(d, weight / (this.rrfK + rank + 1));
    }
    // The first candidates are re-ordered with how closely the question matches one of their
    // phrases as a whole: the question and an entry's phrasing sharing most of their words
    // beats sharing the same words scattered over the question, phrasings and tags.
    const byFused = [...fused.touched].sort((x, y) => fused.get(y) - fused.get(x) || x - y);
    const similarity = new Map<number, number>();
    const queryStems = this.queryGroups(terms);
    const idf = (stem: string) => this.stems.idf(stem);
    for (const d of byFused.slice(0, RERANK))
      similarity.set(d, this.phrases.similarity(queryStems, d, idf));
    const score = (d: number) => fused.get(d) + PHRASE_WEIGHT * (similarity.get(d) ?? 0);
    const ranked = [
      ...byFused.slice(0, RERANK).sort((x, y) => score(y) - score(x) || x - y),
      ...byFused.slice(RERANK),
    ];
    // Coverage of the first five only: related entries and "did you mean" need no more.
    const matches = ranked.slice(0, 5).map((d) => this.match(terms, d));
    const hits: EngineHit[] = ranked.slice(0, limit).map((d, i) => ({
      id: this.ids[d]!,
      score: score(d),
      coverage: matches[i]?.coverage ?? 0,
      topical: matches[i]?.topical ?? false,
    }));
    const best = ranked[0];
    const maxFused = RANKERS.reduce((s, r) => s + this.weights[r] / (this.rrfK + 1), 0);
    const features: ConfidenceFeatures = {
      coverage: hits[0]?.coverage ?? 0,
      missing: matches[0]?.missing ?? 1,
      similarity: best === undefined ? 0 : (similarity.get(best) ?? 0),
      agreement: best === undefined ? 0 : firsts.filter((d) => d === best).length / active,
      fused: best === undefined ? 0 : score(best) / maxFused,
      margin:
        best === undefined
          ? 0
          : (score(best) - (ranked[1] === undefined ? 0 : score(ranked[1]))) / score(best),
      contentWords: new Set(terms.filter((t) => !t.weak && !t.context).map((t) => t.group)).size,
      uncovered: best === undefined ? 0 : this.uncovered(terms, asked, best),
    };
    return {
      hits,
      confidence: confidenceOf(features),
      features,
      domainShare: this.domainShare(terms),
    };
  }

  /**
   * 1 when the question asks about a point entry `d` does not answer: an out-of-scope concept
   * (./scope) its text never speaks of, or a word it declares in `notCovered`.
   */
  private uncovered(terms: readonly Term[], asked: ReadonlySet<string>, d: number): number {
    for (const concept of asked) if (!this.concepts[d]!.has(concept)) return 1;
    const declared = this.notCovered[d]!;
    if (declared.size === 0) return 0;
    const hit = terms.some((t) => !t.context && t.stems.some((s) => declared.has(s)));
    return hit ? 1 : 0;
  }

  /** See EngineResult.domainShare. A word counts when it or one of its synonyms is used. */
  domainShare(terms: readonly Term[]): number {
    const groups = new Map<number, boolean>();
    const places = new Set<number>();
    for (const term of terms) {
      if (term.weak || term.context) continue;
      if (!term.expansion && isPlaceName(term.surface)) places.add(term.group);
      const known =
        !UNINDEXED_TERMS.has(term.surface) &&
        (term.stems.some((s) => this.strong.has(s)) ||
          this.strong.has(`${prefixOf(term.surface)}…`));
      groups.set(term.group, (groups.get(term.group) ?? false) || known);
    }
    let words = 0;
    let known = 0;
    for (const [group, isKnown] of groups) {
      if (places.has(group)) continue;
      words++;
      if (isKnown) known++;
    }
    return words === 0 ? 0 : known / words;
  }

  /** The question's content words as groups (a typed word with its synonyms) of stems. */
  private queryGroups(terms: readonly Term[]): QueryWord[] {
    const groups = new Map<number, { stems: Set<string>; idf: number }>();
    for (const t of terms) {
      if (t.weak || t.context) continue;
      let g = groups.get(t.group);
      if (!g) {
        g = { stems: new Set(), idf: 0 };
        groups.set(t.group, g);
      }
      for (const s of t.stems) {
        g.stems.add(s);
        if (!t.expansion) g.idf = Math.max(g.idf, this.stems.idf(s));
      }
    }
    return [...groups.values()];
  }

  /**
   * IDF-weighted share of the question's content words found in document `d`. A word counts as
   * found when one of its stems, its prefix, or one of its synonyms is in the entry; words the
   * corpus has never seen weigh as much as the rarest word.
   */
  coverage(terms: readonly Term[], d: number): number {
    return this.match(terms, d).coverage;
  }

  /**
   * Coverage (above) and the most specific question word the entry lacks: the IDF share, of the
   * rarest possible, of the word weighing most among those the entry does not contain.
   */
  match(
    terms: readonly Term[],
    d: number,
  ): { coverage: number; missing: number; topical: boolean } {
    const maxIdf = this.stems.idf("\u0000");
    const groups = new Map<number, { idf: number; found: number; context: boolean }>();
    let topical = false;
    for (const term of terms) {
      if (term.weak) continue;
      const known = term.stems.filter((s) => this.stems.has(s));
      // A word of the story the FAQ has never seen (a village, a name, what happened) says
      // nothing about whether an entry answers the question.
      if (term.context && known.length === 0 && !this.prefixes.has(prefixOf(term.surface))) {
        continue;
      }
      // A name the entries are never indexed under (see UNINDEXED_TERMS) is as specific as a word
      // can be: its prefix must not lend it the weight of ordinary words that share it.
      const idf =
        known.length > 0
          ? Math.max(...known.map((s) => this.stems.idf(s)))
          : !UNINDEXED_TERMS.has(term.surface) && this.prefixes.has(prefixOf(term.surface))
            ? this.prefixes.idf(prefixOf(term.surface))
            : maxIdf;
      const prefix = prefixOf(term.surface);
      // A word the entry's question, phrasings or tags contain counts fully; a word found only
      // in the long answer or the source is weaker evidence of what the entry is about.
      const found =
        known.some((s) => this.strong.contains(s, d)) || this.strong.contains(`${prefix}…`, d)
          ? 1
          : known.some((s) => this.stems.contains(s, d)) || this.prefixes.contains(prefix, d)
            ? ANSWER_ONLY_CREDIT
            : 0;
      if (found === 1 && !isPlaceName(term.surface)) topical = true;
      const g = groups.get(term.group);
      if (!g) {
        groups.set(term.group, {
          idf: term.expansion ? 0 : idf,
          found,
          context: term.context === true,
        });
      } else {
        if (!term.expansion) g.idf = Math.max(g.idf, idf);
        g.found = Math.max(g.found, found);
      }
    }
    let total = 0;
    let found = 0;
    let missing = 0;
    for (const g of groups.values()) {
      const idf = (g.idf || maxIdf / 2) * (g.context ? CONTEXT_COVERAGE : 1);
      total += idf;
      found += idf * g.found;
      // What the question asks decides what is missing, not the story around it.
      if (!g.context) missing = Math.max(missing, (idf * (1 - g.found)) / maxIdf);
    }
    return { coverage: total === 0 ? 0 : found / total, missing, topical };
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
}

/** An entry's text as indexed: analysed like a question, minus the names it must not match. */
function indexTerms(text: string, lang: StemLang): Term[] {
  return analyze(text, lang, undefined, false).filter((t) => !UNINDEXED_TERMS.has(t.surface));
}

function add(map: Map<string, number>, key: string, weight: number): void {
  map.set(key, (map.get(key) ?? 0) + weight);
}

function weighted(map: ReadonlyMap<string, number>, scale = 1): WeightedTerm[] {
  return [...map].map(([term, weight]) => ({ term, weight: weight * scale }));
}
