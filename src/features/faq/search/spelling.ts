/**
 * The corpus's vocabulary and spelling correction against it: a question word the FAQ does not
 * know («депутаттардын» typed «дипутатардын») is replaced by the closest word it does know, when
 * their trigram similarity is high enough to be a typo rather than another word.
 */
import { type Term, trigrams } from "./analyze";

const CORRECTION_MIN_SIMILARITY = 0.7;

export class Vocabulary {
  /** Folded words of the corpus → their stems. */
  private readonly words = new Map<string, Set<string>>();
  /** Trigram → vocabulary words that contain it (words of 4+ letters without digits). */
  private readonly grams = new Map<string, string[]>();

  add(term: Term): void {
    let stems = this.words.get(term.surface);
    if (!stems) {
      stems = new Set();
      this.words.set(term.surface, stems);
      if (correctable(term.surface)) {
        for (const g of new Set(trigrams(term.surface))) {
          const list = this.grams.get(g);
          if (list) list.push(term.surface);
          else this.grams.set(g, [term.surface]);
        }
      }
    }
    for (const stem of term.stems) stems.add(stem);
  }

  has(word: string): boolean {
    return this.words.has(word);
  }

  /**
   * The closest known word to an unknown one, as a term with that word's stems; the term itself
   * when it is known (`knownStem` says whether the index has one of its stems) or nothing is
   * close enough.
   */
  correct(term: Term, knownStem: (stem: string) => boolean): Term {
    if (!correctable(term.surface)) return term;
    if (term.stems.some(knownStem) || this.words.has(term.surface)) return term;
    const grams = new Set(trigrams(term.surface));
    const shared = new Map<string, number>();
    for (const g of grams) {
      for (const word of this.grams.get(g) ?? []) shared.set(word, (shared.get(word) ?? 0) + 1);
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
    return { ...term, surface: best, stems: [...(this.words.get(best) ?? [])] };
  }
}

/** Short words and numbers are left alone: one letter off is another word there. */
function correctable(word: string): boolean {
  return word.length >= 4 && !/\d/.test(word);
}
