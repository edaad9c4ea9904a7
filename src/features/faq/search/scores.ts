/**
 * A reusable score accumulator over document numbers. A query touches a small share of the
 * entries, so scores live in one dense array allocated once per index (not per query), and the
 * touched documents are remembered: reset and top-k cost what the query touched, never N.
 * Search is synchronous, so one buffer per ranker per engine is never used by two queries.
 */
export class ScoreBuffer {
  readonly scores: Float64Array;
  private readonly marked: Uint8Array;
  private readonly list: number[] = [];

  constructor(size: number) {
    this.scores = new Float64Array(size);
    this.marked = new Uint8Array(size);
  }

  /** Documents with a score since the last reset (in first-touched order). */
  get touched(): readonly number[] {
    return this.list;
  }

  add(doc: number, score: number): void {
    if (this.marked[doc] === 0) {
      this.marked[doc] = 1;
      this.list.push(doc);
    }
    this.scores[doc]! += score;
  }

  get(doc: number): number {
    return this.scores[doc]!;
  }

  reset(): void {
    for (const d of this.list) {
      this.scores[d] = 0;
      this.marked[d] = 0;
    }
    this.list.length = 0;
  }

  /**
   * The k highest positive scores among documents `keep` accepts, best first; equal scores in
   * document order, as a full scan over all documents would give them.
   */
  top(k: number, keep: (doc: number) => boolean): number[] {
    const s = this.scores;
    const top: number[] = [];
    const better = (a: number, b: number) => s[a]! > s[b]! || (s[a] === s[b] && a < b);
    for (const d of this.list) {
      const score = s[d]!;
      if (!(score > 0)) continue;
      // Most touched documents score below the current k-th: rule them out before `keep`.
      if (top.length === k && !better(d, top[k - 1]!)) continue;
      if (!keep(d)) continue;
      let i = top.length < k ? top.length : k - 1;
      if (top.length < k) top.push(d);
      while (i > 0 && better(d, top[i - 1]!)) {
        top[i] = top[i - 1]!;
        i--;
      }
      top[i] = d;
    }
    return top;
  }
}
