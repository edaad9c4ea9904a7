/**
 * Whole-phrase similarity between a question and an entry's question-like phrases (its
 * question, each phrasing, each tag). The rankers score words wherever they occur in an entry;
 * a question that says what one phrasing says («кеңештин ыйгарым укуктары») should beat one
 * whose words are scattered over another entry's question, phrasings and tags.
 */

/** A typed content word of the question: its stems (and its synonyms'), and its weight. */
export interface QueryWord {
  stems: ReadonlySet<string>;
  idf: number;
}

export class PhraseIndex {
  /** Per document, its phrases; per phrase, its content words; per word, its stems. */
  private readonly docs: string[][][][] = [];

  /** Adds the next document's phrases (each the stems of its content words, in order). */
  add(doc: number, phrases: readonly (readonly (readonly string[])[])[]): void {
    if (doc !== this.docs.length) throw new Error("documents must be added in order");
    this.docs.push(phrases.filter((p) => p.length > 0).map((p) => p.map((w) => [...w])));
  }

  /**
   * Best, over the phrases of document `d`, of (IDF share of the question found in the
   * phrase) × (IDF share of the phrase found in the question): 1 when both say the same words.
   */
  similarity(query: readonly QueryWord[], d: number, idf: (stem: string) => number): number {
    const queryMass = query.reduce((s, w) => s + w.idf, 0);
    if (queryMass === 0) return 0;
    let best = 0;
    for (const phrase of this.docs[d] ?? []) {
      let phraseMass = 0;
      let phraseFound = 0;
      const stems = new Set<string>();
      for (const word of phrase) {
        const weight = Math.max(...word.map(idf));
        phraseMass += weight;
        if (word.some((s) => query.some((q) => q.stems.has(s)))) phraseFound += weight;
        for (const s of word) stems.add(s);
      }
      let queryFound = 0;
      for (const q of query) if ([...q.stems].some((s) => stems.has(s))) queryFound += q.idf;
      const sim = (queryFound / queryMass) * (phraseMass === 0 ? 0 : phraseFound / phraseMass);
      if (sim > best) best = sim;
    }
    return best;
  }
}
