import { extname } from "node:path";
import { eq } from "drizzle-orm";
import type { CliCommand, CliContext } from "../../cli/command";
import { parseFlags, readCliFile } from "../../cli/command";
import { regions } from "../../db/schema";
import {
  countDirectory,
  formatProblem,
  type ImportFormat,
  type ImportSummary,
  importDirectory,
  listDistricts,
  listMunicipalities,
  listRegions,
  searchMunicipalities,
  seedDemoDirectory,
  type UpsertCounts,
} from "./service";

/** Problems printed before "... and N more". */
const MAX_PROBLEMS_SHOWN = 100;

function counts(label: string, c: UpsertCounts): string {
  return `${label}: ${c.added} added, ${c.updated} updated, ${c.unchanged} unchanged`;
}

function printSummary(ctx: CliContext, summary: ImportSummary): void {
  ctx.out(counts("regions", summary.regions));
  ctx.out(counts("districts", summary.districts));
  ctx.out(counts("municipalities", summary.municipalities));
  if (summary.notInFile > 0) {
    ctx.out(
      `${summary.notInFile} municipalities in the database are not in the file; kept as they are`,
    );
  }
}

function formatOf(file: string, flag: string | true | undefined): ImportFormat | undefined {
  const value =
    typeof flag === "string" ? flag.toLowerCase() : extname(file).slice(1).toLowerCase();
  return value === "csv" || value === "json" ? value : undefined;
}

async function runImport(args: string[], ctx: CliContext): Promise<number> {
  const { positional, flags } = parseFlags(args);
  const file = positional[0];
  if (!file) {
    ctx.err("Usage: municipalities import FILE.csv|FILE.json [--format csv|json]");
    return 2;
  }
  const format = formatOf(file, flags.get("format"));
  if (!format) {
    ctx.err(`Cannot tell the format of ${file}: use a .csv or .json file, or --format csv|json`);
    return 2;
  }
  let content: string;
  try {
    content = await readCliFile(ctx, file);
  } catch (error) {
    ctx.err(`Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const { db } = await ctx.database();
  const result = await importDirectory(db, content, format);
  if (!result.ok) {
    ctx.err(`${file}: nothing imported, ${result.problems.length} problem(s):`);
    for (const p of result.problems.slice(0, MAX_PROBLEMS_SHOWN)) ctx.err(`  ${formatProblem(p)}`);
    if (result.problems.length > MAX_PROBLEMS_SHOWN) {
      ctx.err(`  ... and ${result.problems.length - MAX_PROBLEMS_SHOWN} more`);
    }
    return 1;
  }
  ctx.out(`Imported ${file}`);
  printSummary(ctx, result.summary);
  return 0;
}

async function runList(args: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseFlags(args);
  const { db } = await ctx.database();
  const regionCode = flags.get("region");
  if (regionCode === true) {
    ctx.err("Usage: municipalities list [--region CODE]");
    return 2;
  }
  if (regionCode === undefined) {
    for (const r of await listRegions(db)) {
      const ds = await listDistricts(db, r.id);
      let total = (await listMunicipalities(db, { regionId: r.id, districtId: null })).length;
      for (const d of ds) {
        total += (await listMunicipalities(db, { regionId: r.id, districtId: d.id })).length;
      }
      ctx.out(
        `${r.code}\t${r.nameKy} / ${r.nameRu}\t${ds.length} districts, ${total} municipalities`,
      );
    }
    const c = await countDirectory(db);
    ctx.out(
      `total: ${c.regions} regions, ${c.districts} districts, ${c.municipalities} municipalities`,
    );
    return 0;
  }
  const [region] = await db
    .select()
    .from(regions)
    .where(eq(regions.code, regionCode.trim().toLowerCase()));
  if (!region) {
    ctx.err(`No region with code "${regionCode}"`);
    return 1;
  }
  ctx.out(`${region.code}\t${region.nameKy} / ${region.nameRu}`);
  let total = 0;
  for (const m of await listMunicipalities(db, { regionId: region.id, districtId: null })) {
    ctx.out(`  ${m.code}\t${m.kind}\t${m.nameKy} / ${m.nameRu}\t(id ${m.id})`);
    total++;
  }
  const ds = await listDistricts(db, region.id);
  for (const d of ds) {
    ctx.out(`  ${d.code}\t${d.nameKy} / ${d.nameRu}`);
    for (const m of await listMunicipalities(db, { regionId: region.id, districtId: d.id })) {
      ctx.out(`    ${m.code}\t${m.kind}\t${m.nameKy} / ${m.nameRu}\t(id ${m.id})`);
      total++;
    }
  }
  ctx.out(`${ds.length} districts, ${total} municipalities`);
  return 0;
}

async function runSearch(args: string[], ctx: CliContext): Promise<number> {
  const text = parseFlags(args).positional.join(" ");
  if (!text.trim()) {
    ctx.err("Usage: municipalities search TEXT");
    return 2;
  }
  const { db } = await ctx.database();
  const hits = await searchMunicipalities(db, text, 10);
  for (const { municipality: m, score } of hits) {
    const where = m.district ? `${m.district.nameKy}, ${m.region.nameKy}` : m.region.nameKy;
    ctx.out(`${score.toFixed(2)}\t${m.code}\t${m.nameKy} / ${m.nameRu}\t(${where}; id ${m.id})`);
  }
  if (hits.length === 0) ctx.out("no match");
  return 0;
}

export const municipalitiesCommand: CliCommand = {
  name: "municipalities",
  usage: [
    "municipalities import FILE [--format csv|json]   load a full directory (upsert by code)",
    "municipalities list [--region CODE]              regions with counts, or one region's units",
    "municipalities search TEXT                       try the typo-tolerant search",
    "municipalities seed                              load the shipped directory of the whole country",
  ],
  async run(args, ctx) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "import":
        return runImport(rest, ctx);
      case "list":
        return runList(rest, ctx);
      case "search":
        return runSearch(rest, ctx);
      case "seed":
      // The name it had while the shipped directory was a 51-unit demo.
      case "seed-demo": {
        const { db } = await ctx.database();
        printSummary(ctx, await seedDemoDirectory(db));
        return 0;
      }
      default:
        ctx.err(sub ? `Unknown sub-command: municipalities ${sub}` : "Missing sub-command");
        for (const u of municipalitiesCommand.usage) ctx.err(`  ${u}`);
        return 2;
    }
  },
};
