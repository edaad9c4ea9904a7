/**
 * A small in-memory BM25 index over weighted term frequencies (a BM25F approximation: a word in
 * the question counts more than the same word in the answer). Documents are dense integers
 * added in increasing order, so every posting list is sorted and membership is a binary search.
 */
import type { ScoreBuffer } from "./scores";

export interface WeightedTerm {
  term: string;
  weight: number;
}

interface Postings {
  docs: number[];
  tfs: number[];
}

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly lengths: number[] = [];
  private avgLength = 1;
  private totalLength = 0;

  constructor(
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {}

  get size(): number {
    return this.lengths.length;
  }

  /** Adds the next document (its number must be `size`). */
  add(doc: number, tf: ReadonlyMap<string, number>): void {
    if (doc !== this.lengths.length) throw new Error("documents must be added in order");
    let length = 0;
    for (const [term, f] of tf) {
      let p = this.postings.get(term);
      if (!p) {
        p = { docs: [], tfs: [] };
        this.postings.set(term, p);
      }
      p.docs.push(doc);
      p.tfs.push(f);
      length += f;
    }
    this.lengths.push(length);
    this.totalLength += length;
    this.avgLength = this.totalLength / this.lengths.length || 1;
  }

  has(term: string): boolean {
    return this.postings.has(term);
  }

  df(term: string): number {
    return this.postings.get(term)?.docs.length ?? 0;
  }

  idf(term: string): number {
    const n = this.lengths.length;
    const df = this.df(term);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  contains(term: string, doc: number): boolean {
    const docs = this.postings.get(term)?.docs;
    if (!docs) return false;
    let lo = 0;
    let hi = docs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = docs[mid]!;
      if (v === doc) return true;
      if (v < doc) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** Adds each document's BM25 score for the query to `scores`. */
  score(query: readonly WeightedTerm[], scores: ScoreBuffer): void {
    for (const { term, weight } of query) {
      const p = this.postings.get(term);
      if (!p) continue;
      const idf = this.idf(term) * weight;
      const { docs, tfs } = p;
      for (let i = 0; i < docs.length; i++) {
        const d = docs[i]!;
        const f = tfs[i]!;
        const norm = 1 - this.b + (this.b * this.lengths[d]!) / this.avgLength;
        scores.add(d, (idf * f * (this.k1 + 1)) / (f + this.k1 * norm));
      }
    }
  }

  terms(): IterableIterator<string> {
    return this.postings.keys();
  }
}
