/**
 * npm run bench:faq-cv — refits the FAQ search's confidence model (src/features/faq/search/
 * confidence.ts) on the development queries and cross-validates it.
 *
 * - The engine is built over the shipped FAQ the way the service builds it (published entries,
 *   sorted by id, entryToSearchDoc); each dev query is searched as deputies/staff in its own
 *   language and its ConfidenceFeatures are kept.
 * - Logistic regression (L2 0.01 on the weights, not the bias; Newton's method) of "the first
 *   hit is the expected entry" over bias, coverage, agreement × coverage and missing;
 *   unanswerable queries and wrong first hits are the negatives. Queries without content
 *   words get confidence 0 from confidenceOf and are left out of the fit.
 * - Threshold: the lowest value that answers at most 5% of the unanswerable training questions,
 *   plus a safety margin of 0.05; and no lower than the confidence from which, on held-out
 *   folds, at least 90 % of first hits are right (the reliability table).
 * - Cross-validation: 5 folds × 10 seeded shuffles; model and threshold fitted on four fifths,
 *   judged on the held-out fifth; per shuffle the five held-out fifths are pooled.
 *   "answered wrongly" is the share of answerable questions answered with another entry.
 */
import { readFileSync } from "node:fs";
import { loadShippedFaq } from "../src/features/faq/entries";
import type { ConfidenceFeatures } from "../src/features/faq/search/confidence";
import { FaqSearchEngine } from "../src/features/faq/search/engine";
import { entryToSearchDoc } from "../src/features/faq/service";
import { rng } from "./lib/random";

const QUERIES = process.env.FAQ_CV_QUERIES ?? "tests/fixtures/faq-queries-dev.json";
const L2 = 0.01;
const MAX_UNANSWERABLE = 0.05;
const MARGIN = 0.05;
/** Share of right first hits a confidence bucket needs for the bot to answer in it. */
const RELIABLE = 0.9;
const FOLDS = 5;
const SHUFFLES = 10;

interface Query {
  q: string;
  lang: "ru" | "ky";
  expect: string | null;
}

interface Sample {
  q: string;
  features: ConfidenceFeatures;
  x: number[];
  /** Expected entry is the first hit. */
  top1: boolean;
  unanswerable: boolean;
}

const NAMES = ["bias", "coverage", "agreedCoverage", "missing", "uncovered"] as const;

function featuresOf(f: ConfidenceFeatures): number[] {
  return [1, f.coverage, f.agreement * f.coverage, f.missing, f.uncovered];
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function confidence(w: readonly number[], s: Sample): number {
  if (s.features.contentWords === 0) return 0;
  return sigmoid(s.x.reduce((z, xi, i) => z + w[i]! * xi, 0));
}

/** Solves A·v = b (small dense system, Gaussian elimination with partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const v = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * v[k]!;
    v[r] = s / m[r]![r]!;
  }
  return v;
}

/** Minimises mean log-loss + L2/2·|w|² (bias unpenalised) by Newton's method. */
function fitLogistic(samples: readonly Sample[]): number[] {
  const data = samples.filter((s) => s.features.contentWords > 0);
  const d = NAMES.length;
  const n = data.length;
  let w = new Array<number>(d).fill(0);
  for (let iter = 0; iter < 100; iter++) {
    const grad = new Array<number>(d).fill(0);
    const hess = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (const s of data) {
      const p = sigmoid(s.x.reduce((z, xi, i) => z + w[i]! * xi, 0));
      const y = s.top1 ? 1 : 0;
      for (let i = 0; i < d; i++) {
        grad[i]! += ((p - y) * s.x[i]!) / n;
        for (let j = 0; j < d; j++) hess[i]![j]! += (p * (1 - p) * s.x[i]! * s.x[j]!) / n;
      }
    }
    for (let i = 1; i < d; i++) {
      grad[i]! += L2 * w[i]!;
      hess[i]![i]! += L2;
    }
    const step = solve(hess, grad);
    w = w.map((wi, i) => wi - step[i]!);
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  return w;
}

/** Lowest threshold answering at most 5% of the unanswerable samples, plus the margin. */
function thresholdOf(w: readonly number[], samples: readonly Sample[], margin = MARGIN): number {
  const conf = samples
    .filter((s) => s.unanswerable)
    .map((s) => confidence(w, s))
    .sort((a, b) => b - a);
  const allowed = Math.floor(MAX_UNANSWERABLE * conf.length + 1e-9);
  // Answered means confidence ≥ threshold: just above the (allowed+1)-th highest confidence.
  const base = allowed < conf.length ? conf[allowed]! + 1e-9 : 0;
  return base + margin;
}

interface Outcome {
  unanswerableAnswered: number;
  answeredCorrectly: number;
  answeredWrongly: number;
}

/** Shares of unanswerable questions answered and of answerable ones answered right or wrong. */
function tally(judged: readonly { s: Sample; answered: boolean }[]): Outcome {
  let u = 0;
  let uAnswered = 0;
  let a = 0;
  let right = 0;
  let wrong = 0;
  for (const { s, answered } of judged) {
    if (s.unanswerable) {
      u++;
      if (answered) uAnswered++;
    } else {
      a++;
      if (answered && s.top1) right++;
      if (answered && !s.top1) wrong++;
    }
  }
  return {
    unanswerableAnswered: u === 0 ? 0 : uAnswered / u,
    answeredCorrectly: a === 0 ? 0 : right / a,
    answeredWrongly: a === 0 ? 0 : wrong / a,
  };
}

function judge(w: readonly number[], t: number, samples: readonly Sample[]): Outcome {
  return tally(samples.map((s) => ({ s, answered: confidence(w, s) >= t })));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function crossValidate(samples: readonly Sample[], margin: number): Outcome[] {
  const perShuffle: Outcome[] = [];
  for (let shuffle = 0; shuffle < SHUFFLES; shuffle++) {
    const order = shuffled(samples, rng(1000 + shuffle));
    const held: { w: number[]; t: number; s: Sample }[] = [];
    for (let k = 0; k < FOLDS; k++) {
      const test = order.filter((_, i) => i % FOLDS === k);
      const train = order.filter((_, i) => i % FOLDS !== k);
      const w = fitLogistic(train);
      const t = thresholdOf(w, train, margin);
      for (const s of test) held.push({ w, t, s });
    }
    // Pooled over the five held-out fifths, each judged by its own model and threshold.
    perShuffle.push(tally(held.map(({ w, t, s }) => ({ s, answered: confidence(w, s) >= t }))));
  }
  return perShuffle;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function summarise(label: string, outcomes: readonly Outcome[]): void {
  const mean = (f: (o: Outcome) => number) =>
    outcomes.reduce((s, o) => s + f(o), 0) / outcomes.length;
  const max = (f: (o: Outcome) => number) => Math.max(...outcomes.map(f));
  const min = (f: (o: Outcome) => number) => Math.min(...outcomes.map(f));
  console.log(`CV ${label} (${FOLDS} folds × ${SHUFFLES} shuffles, held-out, mean / worst):`);
  console.log(
    `  unanswerable answered   ${pct(mean((o) => o.unanswerableAnswered))} / ${pct(max((o) => o.unanswerableAnswered))}`,
  );
  console.log(
    `  answerable answered correctly ${pct(mean((o) => o.answeredCorrectly))} / ${pct(min((o) => o.answeredCorrectly))}`,
  );
  console.log(
    `  answerable answered wrongly   ${pct(mean((o) => o.answeredWrongly))} / ${pct(max((o) => o.answeredWrongly))}`,
  );
}

const entries = loadShippedFaq()
  .filter((e) => e.status === "published")
  .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const engine = new FaqSearchEngine(entries.map(entryToSearchDoc));
const queries = JSON.parse(readFileSync(QUERIES, "utf8")) as Query[];
const samples: Sample[] = queries.map(sampleOf);

function sampleOf(q: Query): Sample {
  const r = engine.search(q.q, { viewer: "deputies_staff", lang: q.lang, limit: 5 });
  return {
    q: q.q,
    features: r.features,
    x: featuresOf(r.features),
    top1: q.expect !== null && r.hits[0]?.id === q.expect,
    unanswerable: q.expect === null,
  };
}

const w = fitLogistic(samples);
const t = thresholdOf(w, samples);
const r2 = (x: number) => Math.round(x * 100) / 100;
console.log(
  `queries: ${samples.length} (${samples.filter((s) => s.unanswerable).length} unanswerable, ${samples.filter((s) => s.top1).length} with the expected first hit, ${samples.filter((s) => s.features.contentWords === 0).length} without content words)`,
);
console.log(`weights: ${JSON.stringify(Object.fromEntries(NAMES.map((k, i) => [k, r2(w[i]!)])))}`);
console.log(
  `threshold on all of dev: ${(t - MARGIN).toFixed(3)} + ${MARGIN} = ${t.toFixed(3)} (use ${(Math.ceil((t - MARGIN) * 100) / 100 + MARGIN).toFixed(2)})`,
);
for (const s of samples
  .filter((s) => s.unanswerable)
  .sort((a, b) => confidence(w, b) - confidence(w, a))
  .slice(0, 3))
  console.log(`  unanswerable ${confidence(w, s).toFixed(3)}  ${s.q}`);
const all = judge(w, t, samples);
console.log(
  `  on all of dev (in-sample): unanswerable answered ${pct(all.unanswerableAnswered)}, correctly ${pct(all.answeredCorrectly)}, wrongly ${pct(all.answeredWrongly)}`,
);
summarise("with margin", crossValidate(samples, MARGIN));
summarise("without margin", crossValidate(samples, 0));
const floor = reliability(samples);
const chosen = Math.max(Math.ceil((t - MARGIN) * 100) / 100 + MARGIN, floor);
console.log(`threshold to use: ${chosen.toFixed(2)} (the higher of the two rules)`);

/**
 * Calibration on held-out folds (one shuffle, 5 folds): by confidence bucket, how many
 * questions fell there, the mean confidence and how often the first hit was in fact right.
 * Returns the second rule for the threshold: the lower bound of the lowest bucket from which
 * on every bucket above at least RELIABLE of the first hits are right. A legal answer that is
 * right six times in ten is not worth giving, whatever share of unanswerable questions it keeps.
 */
function reliability(all: readonly Sample[]): number {
  const order = shuffled(all, rng(7));
  const judged: { p: number; right: boolean }[] = [];
  for (let k = 0; k < FOLDS; k++) {
    const w = fitLogistic(order.filter((_, i) => i % FOLDS !== k));
    for (const s of order.filter((_, i) => i % FOLDS === k)) {
      judged.push({ p: confidence(w, s), right: s.top1 });
    }
  }
  console.log("reliability (held-out folds): bucket  n  mean confidence  share right");
  let floor = 1;
  let reliableAbove = true;
  for (let b = 9; b >= 0; b--) {
    const inBucket = judged.filter((j) => Math.min(9, Math.floor(j.p * 10)) === b);
    if (inBucket.length === 0) continue;
    const right = inBucket.filter((j) => j.right).length / inBucket.length;
    reliableAbove &&= right >= RELIABLE;
    if (reliableAbove) floor = b / 10;
  }
  for (let b = 0; b < 10; b++) {
    const inBucket = judged.filter((j) => Math.min(9, Math.floor(j.p * 10)) === b);
    if (inBucket.length === 0) continue;
    const mean = inBucket.reduce((sum, j) => sum + j.p, 0) / inBucket.length;
    const right = inBucket.filter((j) => j.right).length / inBucket.length;
    console.log(
      `  ${(b / 10).toFixed(1)}–${((b + 1) / 10).toFixed(1)}  ${String(inBucket.length).padStart(3)}  ${mean.toFixed(2)}  ${right.toFixed(2)}`,
    );
  }
  console.log(`  reliable (≥ ${RELIABLE} right) from ${floor.toFixed(1)}`);
  return floor;
}

// A held-out set of our own (FAQ_HOLDOUT, default tests/fixtures/faq-queries-holdout.json) is
// judged with the model fitted on all of dev and the threshold to use, never fitted on.
const HOLDOUT = process.env.FAQ_HOLDOUT ?? "tests/fixtures/faq-queries-holdout.json";
if (HOLDOUT !== QUERIES) {
  const held = (JSON.parse(readFileSync(HOLDOUT, "utf8")) as Query[]).map(sampleOf);
  const h = judge(w, chosen, held);
  console.log(
    `held-out ${HOLDOUT} (${held.length}): unanswerable answered ${pct(h.unanswerableAnswered)}, correctly ${pct(h.answeredCorrectly)}, wrongly ${pct(h.answeredWrongly)}`,
  );
}
