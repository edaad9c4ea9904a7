/**
 * `npm run cli -- faq ...`: import/export the FAQ, search it, and evaluate retrieval on a
 * queries file against the shipped corpus in a fresh in-memory database.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import {
  type CliCommand,
  type CliContext,
  parseFlags,
  readCliFile,
  writeCliFile,
} from "../../cli/command";
import { openDatabase } from "../../db/client";
import { migrate } from "../../db/migrate";
import { LOCALES, type Locale } from "../../locales";
import { loadShippedFaq } from "./entries";
import { formatOfPath, parseFaqFile, serializeFaqFile } from "./files";
import { runGaps, runPublish } from "./gaps-cli";
import { FaqService, seedFaqIfEmpty } from "./service";

interface EvalQuery {
  q: string;
  lang: Locale;
  expect: string | null;
}

type EvalLanguage = Exclude<Locale, "en"> | "all";

export interface EvalSummary {
  n: number;
  // Per evaluated language (the eval queries are Kyrgyz and Russian) and overall.
  recall_at_1: Record<EvalLanguage, number>;
  mrr_at_5: Record<EvalLanguage, number>;
  accuracy: Record<EvalLanguage, number>;
  abstained_unanswerable: number;
  answered_unanswerable: number;
  p50_ms: number;
  p95_ms: number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs every query through the service and computes the figures of the eval JSON line. */
export async function evaluate(
  service: FaqService,
  queries: readonly EvalQuery[],
): Promise<{ summary: EvalSummary; table: string[] }> {
  type Acc = { answerable: number; top1: number; rr: number; n: number; correct: number };
  const acc = new Map<string, Acc>();
  const bucket = (k: string) => {
    let a = acc.get(k);
    if (!a) {
      a = { answerable: 0, top1: 0, rr: 0, n: 0, correct: 0 };
      acc.set(k, a);
    }
    return a;
  };
  let unanswerable = 0;
  let answeredUnanswerable = 0;
  const times: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const r = await service.search(q.q, { lang: q.lang, audience: "deputies_staff" });
    times.push(performance.now() - t0);
    for (const a of [bucket(q.lang), bucket("all")]) {
      a.n++;
      if (q.expect === null) {
        if (r.abstain) a.correct++;
      } else {
        a.answerable++;
        const rank = r.ranking.indexOf(q.expect);
        if (rank === 0) a.top1++;
        if (rank >= 0) a.rr += 1 / (rank + 1);
        if (!r.abstain && r.best?.id === q.expect) a.correct++;
      }
    }
    if (q.expect === null) {
      unanswerable++;
      if (!r.abstain) answeredUnanswerable++;
    }
  }
  times.sort((a, b) => a - b);
  const ratio = (x: number, n: number) => (n === 0 ? 0 : round(x / n));
  const per = (f: (a: Acc) => number) => ({
    ru: f(bucket("ru")),
    ky: f(bucket("ky")),
    all: f(bucket("all")),
  });
  const summary: EvalSummary = {
    n: queries.length,
    recall_at_1: per((a) => ratio(a.top1, a.answerable)),
    mrr_at_5: per((a) => ratio(a.rr, a.answerable)),
    accuracy: per((a) => ratio(a.correct, a.n)),
    abstained_unanswerable: ratio(unanswerable - answeredUnanswerable, unanswerable),
    answered_unanswerable: ratio(answeredUnanswerable, unanswerable),
    p50_ms: round(percentile(times, 50)),
    p95_ms: round(percentile(times, 95)),
  };
  const table = [
    "lang   n  answerable  recall@1  mrr@5  accuracy",
    ...[...acc.keys()]
      .sort((a, b) => (a === "all" ? 1 : b === "all" ? -1 : a.localeCompare(b)))
      .map((k) => {
        const a = acc.get(k)!;
        return [
          k.padEnd(4),
          String(a.n).padStart(4),
          String(a.answerable).padStart(11),
          ratio(a.top1, a.answerable).toFixed(3).padStart(9),
          ratio(a.rr, a.answerable).toFixed(3).padStart(6),
          ratio(a.correct, a.n).toFixed(3).padStart(9),
        ].join(" ");
      }),
    `unanswerable: ${unanswerable}, answered: ${answeredUnanswerable}; latency p50 ${summary.p50_ms} ms, p95 ${summary.p95_ms} ms`,
  ];
  return { summary, table };
}

export function parseQueries(content: string): EvalQuery[] {
  const data = JSON.parse(content) as unknown;
  if (!Array.isArray(data)) throw new Error("queries file must be a JSON array");
  return data.map((raw, i) => {
    const q = raw as Partial<EvalQuery>;
    if (typeof q.q !== "string" || !LOCALES.includes(q.lang as Locale)) {
      throw new Error(`query ${i + 1}: needs "q" (text) and "lang" (ky, ru or en)`);
    }
    if (q.expect !== null && typeof q.expect !== "string") {
      throw new Error(`query ${i + 1}: "expect" must be an entry id or null`);
    }
    return { q: q.q, lang: q.lang as Locale, expect: q.expect };
  });
}

async function runEval(flags: Map<string, string | true>, ctx: CliContext): Promise<number> {
  const file = flags.get("queries");
  if (typeof file !== "string") {
    ctx.err("faq eval: --queries FILE is required");
    return 2;
  }
  const queries = parseQueries(readFileSync(file, "utf8"));
  // A fresh embedded database, loaded through the same import path the app uses.
  const handle = await openDatabase({});
  try {
    await migrate(handle.db);
    const service = new FaqService(handle.db);
    await service.importEntries(loadShippedFaq());
    const { summary, table } = await evaluate(service, queries);
    for (const line of table) ctx.out(line);
    ctx.out(JSON.stringify(summary));
    return 0;
  } finally {
    await handle.close();
  }
}

async function runImport(path: string | undefined, ctx: CliContext): Promise<number> {
  if (!path) {
    ctx.err("faq import: FILE is required");
    return 2;
  }
  const parsed = parseFaqFile(await readCliFile(ctx, path), formatOfPath(path));
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) ctx.err(`${path}: ${e}`);
    ctx.err(`Nothing imported: ${parsed.errors.length} problem(s).`);
    return 1;
  }
  const service = new FaqService((await ctx.database()).db);
  const { inserted, updated } = await service.importEntries(parsed.entries);
  ctx.out(`Imported ${parsed.entries.length} entries (${inserted} new, ${updated} updated).`);
  return 0;
}

async function runExport(path: string | undefined, ctx: CliContext): Promise<number> {
  if (!path) {
    ctx.err("faq export: FILE is required");
    return 2;
  }
  const format = formatOfPath(path);
  const service = new FaqService((await ctx.database()).db);
  const entries = await service.exportEntries();
  await writeCliFile(ctx, path, serializeFaqFile(entries, format));
  ctx.out(`Exported ${entries.length} entries to ${path}.`);
  return 0;
}

async function runSearch(
  text: string | undefined,
  flags: Map<string, string | true>,
  ctx: CliContext,
): Promise<number> {
  if (!text) {
    ctx.err('faq search: "text" is required');
    return 2;
  }
  const lang = (typeof flags.get("lang") === "string" ? flags.get("lang") : "ru") as Locale;
  if (!LOCALES.includes(lang)) {
    ctx.err("faq search: --lang must be ky, ru or en");
    return 2;
  }
  const audience = flags.get("citizen") ? "everyone" : "deputies_staff";
  const { db } = await ctx.database();
  const service = new FaqService(db);
  await seedFaqIfEmpty(db, service);
  const r = await service.search(text, { lang, audience });
  if (flags.get("json")) {
    ctx.out(JSON.stringify(r));
    return 0;
  }
  ctx.out(`confidence ${r.confidence.toFixed(2)}${r.abstain ? " — not sure, would abstain" : ""}`);
  if (r.best && !r.abstain) {
    ctx.out(`${r.best.id}: ${r.best.question}`);
    ctx.out(r.best.answer);
    const source = r.best.lang === "ky" && r.best.sourceKy ? r.best.sourceKy : r.best.source;
    ctx.out(`Source: ${source} (checked ${r.best.lastChecked})`);
    for (const h of r.related) ctx.out(`related: ${h.id}: ${h.question}`);
  }
  for (const h of r.didYouMean) ctx.out(`did you mean: ${h.id}: ${h.question}`);
  return 0;
}

export const faqCommand: CliCommand = {
  name: "faq",
  usage: [
    "faq import FILE                     import entries from .json or .csv (upsert by id)",
    "faq export FILE                     export all entries to .json or .csv",
    'faq search "text" [--lang ru|ky|en] [--citizen] [--json]',
    "faq eval --queries FILE             evaluate retrieval on the shipped FAQ",
    "faq gaps [--days N] [--json]        unanswered questions of the last N days (30), grouped",
    "faq publish ID                      publish a draft entry (e.g. one drafted from /gaps)",
  ],
  // eval loads the shipped FAQ into its own in-memory database.
  usesDatabase: (args) => args[0] !== "eval",
  async run(args, ctx) {
    const [sub, ...rest] = args;
    const { positional, flags } = parseFlags(rest);
    switch (sub) {
      case "import":
        return runImport(positional[0], ctx);
      case "export":
        return runExport(positional[0], ctx);
      case "search":
        return runSearch(positional.join(" ") || undefined, flags, ctx);
      case "eval":
        return runEval(flags, ctx);
      case "gaps":
        return runGaps(flags, ctx);
      case "publish":
        return runPublish(positional[0], ctx);
      default:
        for (const u of faqCommand.usage) ctx.err(`  ${u}`);
        return 2;
    }
  },
};
