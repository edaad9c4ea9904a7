/**
 * Whole-word ranking with prefix and typo expansion: the BM25+ scoring of MiniSearch 7 (two
 * fields with their own length norms, prefix matches weighted 0.375·len/(len+0.3·extra),
 * fuzzy matches 0.45·len/(len+distance), the sum multiplied by the number of query words
 * matched), kept because the fusion was tuned with it. MiniSearch itself kept a Map per posting
 * and allocated result objects per document: at 10,000 entries that was 85% of search time.
 * Here postings are flat arrays and scores go into a reusable buffer; MiniSearch's radix tree
 * is still used, only to find the vocabulary words a query word expands to.
 */
import SearchableMap from "minisearch/SearchableMap";
import type { ScoreBuffer } from "./scores";

/** Question-like text (question, phrasings, tags) and the answer body. */
export type WordField = 0 | 1;

export interface WordQueryOptions {
  /** Field boosts, indexed by WordField. */
  boost: readonly [number, number];
  /** Whether a query word also matches longer words it begins. */
  prefix: (word: string) => boolean;
  /** Allowed edit distance as a share of the word's length, or false. */
  fuzzy: (word: string) => number | false;
  maxFuzzy: number;
}

interface Postings {
  docs: number[];
  tfs: number[];
}

const K1 = 1.2;
const B = 0.7;
const D = 0.5;
const PREFIX_WEIGHT = 0.375;
const FUZZY_WEIGHT = 0.45;

export class WordIndex {
  /** Word → its number in `postings`. */
  private readonly ids = new Map<string, number>();
  /** The same as a radix tree, for prefix and typo look-ups (built by `prepare`). */
  private tree: SearchableMap<number> | undefined;
  /** Per word, per field. */
  private readonly postings: [Postings, Postings][] = [];
  /** Distinct words per document and field (MiniSearch's field length). */
  private readonly lengths: [number[], number[]] = [[], []];
  private readonly avgLength: [number, number] = [0, 0];
  /** Per document: how many query words it matched, and the last word that counted. */
  private matched = new Uint16Array(0);
  private lastWord = new Int32Array(0);
  private stamp = 0;

  get size(): number {
    return this.lengths[0].length;
  }

  /** Adds the next document (its number must be `size`), as the words of each field. */
  add(doc: number, fields: readonly [readonly string[], readonly string[]]): void {
    if (doc !== this.size) throw new Error("documents must be added in order");
    for (const field of [0, 1] as const) {
      const tf = new Map<string, number>();
      for (const w of fields[field]) tf.set(w, (tf.get(w) ?? 0) + 1);
      const lengths = this.lengths[field];
      this.avgLength[field] = (this.avgLength[field] * lengths.length + tf.size) / (doc + 1);
      lengths.push(tf.size);
      for (const [w, f] of tf) {
        let id = this.ids.get(w);
        if (id === undefined) {
          id = this.postings.length;
          this.ids.set(w, id);
          this.tree = undefined;
          this.postings.push([
            { docs: [], tfs: [] },
            { docs: [], tfs: [] },
          ]);
        }
        const p = this.postings[id]![field];
        p.docs.push(doc);
        p.tfs.push(f);
      }
    }
  }

  /** Builds the look-up tree once all documents are in (else the first query does it). */
  prepare(): void {
    this.tree ??= SearchableMap.from(this.ids);
  }

  /**
   * Adds each document's score for the distinct query words to `out` (which must be empty);
   * a word's weight scales its contribution (MiniSearch's term boost).
   */
  score(words: ReadonlyMap<string, number>, options: WordQueryOptions, out: ScoreBuffer): void {
    const n = this.size;
    if (this.matched.length !== n) {
      this.matched = new Uint16Array(n);
      this.lastWord = new Int32Array(n).fill(-1);
      this.stamp = 0;
    }
    this.prepare();
    const tree = this.tree!;
    const counted: number[] = [];
    for (const [word, boost] of words) {
      const stamp = this.stamp++;
      const exact = this.ids.get(word);
      if (exact !== undefined) this.addWord(exact, boost, options, out, stamp, counted);
      const prefixed = new Set<string>();
      if (options.prefix(word)) {
        for (const [w, id] of tree.atPrefix(word)) {
          const extra = w.length - word.length;
          if (extra === 0) continue;
          prefixed.add(w);
          const weight = (boost * PREFIX_WEIGHT * w.length) / (w.length + 0.3 * extra);
          this.addWord(id, weight, options, out, stamp, counted);
        }
      }
      const fuzzy = options.fuzzy(word);
      if (fuzzy !== false) {
        const distance = Math.min(options.maxFuzzy, Math.round(word.length * fuzzy));
        if (distance > 0) {
          for (const [w, [id, d]] of tree.fuzzyGet(word, distance)) {
            if (d === 0 || prefixed.has(w)) continue;
            this.addWord(
              id,
              (boost * FUZZY_WEIGHT * w.length) / (w.length + d),
              options,
              out,
              stamp,
              counted,
            );
          }
        }
      }
    }
    // MiniSearch multiplies a document's sum by the number of query words it matched.
    for (const d of counted) {
      out.scores[d]! *= this.matched[d]!;
      this.matched[d] = 0;
      this.lastWord[d] = -1;
    }
    // Stamps only need to differ within a query; restart before they could overflow.
    if (this.stamp > 1 << 30) this.stamp = 0;
  }

  private addWord(
    id: number,
    weight: number,
    options: WordQueryOptions,
    out: ScoreBuffer,
    stamp: number,
    counted: number[],
  ): void {
    const n = this.size;
    for (const field of [0, 1] as const) {
      const { docs, tfs } = this.postings[id]![field];
      if (docs.length === 0) continue;
      const idf = Math.log(1 + (n - docs.length + 0.5) / (docs.length + 0.5));
      const w = weight * options.boost[field] * idf;
      const lengths = this.lengths[field];
      const avg = this.avgLength[field];
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i]!;
        const f = tfs[i]!;
        out.add(d, w * (D + (f * (K1 + 1)) / (f + K1 * (1 - B + (B * lengths[d]!) / avg))));
        if (this.lastWord[d] !== stamp) {
          if (this.lastWord[d] === -1) counted.push(d);
          this.lastWord[d] = stamp;
          this.matched[d]!++;
        }
      }
    }
  }
}
