/**
 * Confidence that the best hit answers the question: a logistic model over a few features of
 * the ranking, fitted on the development queries (tests/fixtures/faq-queries-dev.json).
 * Fused score, margin and the number of content words are kept for diagnostics; they did not
 * improve the cross-validated fit.
 */
export interface ConfidenceFeatures {
  /** IDF-weighted share of the question's content words found in the best entry (0..1). */
  coverage: number;
  /** IDF of the most specific question word the best entry lacks, relative to the rarest (0..1). */
  missing: number;
  /** How closely the question matches the best entry's closest phrase as a whole (0..1). */
  similarity: number;
  /** Share of rankers whose first result is the fused best entry (0..1). */
  agreement: number;
  /** Fused score of the best entry relative to the maximum possible (0..1). */
  fused: number;
  /** (best − second) / best fused score (0..1). */
  margin: number;
  /** Number of content words (not question words) in the question. */
  contentWords: number;
  /** 1 when the question asks about a point the best entry does not answer (./scope). */
  uncovered: number;
}

// Logistic regression (L2 0.01) of "the first hit is the expected entry" on the 692 dev queries
// (bench/faq-confidence-cv.ts refits it); unanswerable queries and wrong first hits are the
// negatives. Agreement enters only multiplied by coverage: when most of a question is foreign to
// the corpus («курс доллара», «штраф за парковку») every ranker agrees on the same weak match,
// and agreement alone then reads as confidence. `uncovered` (./scope) is what keeps questions
// about a head's salary or a servant's leave from borrowing the confidence of the entry whose
// words they share.
const WEIGHTS = {
  bias: 0.36,
  coverage: 1.46,
  agreedCoverage: 2.14,
  missing: -0.75,
  uncovered: -2.07,
};

/**
 * Below this the search abstains rather than risk a wrong legal answer. Two rules, the higher
 * wins (`npm run bench:faq-cv`): the lowest confidence that answers at most 5 % of the
 * unanswerable dev questions, plus 0.05 for safety (0.70); and the confidence from which, on
 * held-out folds, at least 9 in 10 first hits are right (0.70: the 0.6–0.7 bucket is right 57 %
 * of the time, 0.7–0.8 94 %). Cross-validated (5 folds × 10 shuffles): 0.9 % of unanswerable
 * questions answered, 91.7 % of answerable ones answered correctly, 2.7 % wrongly. On our own
 * held-out set (never fitted on, 240 questions): 8.3 % of unanswerable answered, 93.8 % of
 * answerable answered correctly, 1.0 % wrongly.
 */
export const ABSTAIN_THRESHOLD = 0.7;

export function confidenceOf(f: ConfidenceFeatures): number {
  if (f.contentWords === 0) return 0;
  const z =
    WEIGHTS.bias +
    WEIGHTS.coverage * f.coverage +
    WEIGHTS.agreedCoverage * f.agreement * f.coverage +
    WEIGHTS.missing * f.missing +
    WEIGHTS.uncovered * f.uncovered;
  return 1 / (1 + Math.exp(-z));
}
