/**
 * Fails (exit 1) when a lower layer of src/ imports a higher one. Run by `npm run check`.
 *
 *   main → app (composition root)
 *   features/<name>                                   may import everything below, and each other
 *   bot · channels · delivery · scheduler · http · cli (infrastructure: no feature imports)
 *   core                                              people, roles, permissions, audit
 *   db · i18n · config · logger · locales             (base: import nothing above them)
 *
 * A file may import its own layer or any layer below it. Type-only imports count too: a type
 * from a feature in bot/ ties bot/ to that feature just as much. Only relative imports are
 * looked at (packages are not layers). Usage: tsx scripts/check-layers.ts [src dir].
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Top-level entries of src/ by layer, lowest first; a deeper path ("cli/index.ts") overrides the
 * entry it is in. A new top-level entry must be placed here.
 */
export const LAYERS: readonly { name: string; entries: readonly string[] }[] = [
  { name: "base", entries: ["db", "i18n", "config.ts", "logger.ts", "locales.ts"] },
  { name: "core", entries: ["core"] },
  {
    name: "infrastructure",
    entries: ["bot", "channels", "delivery", "scheduler", "http", "cli"],
  },
  { name: "features", entries: ["features"] },
  // Composition roots: the app, and the command line (its own process, reading the feature list).
  { name: "app", entries: ["app.ts", "cli/index.ts"] },
  { name: "main", entries: ["main.ts"] },
];

export interface Violation {
  /** Paths relative to the src directory, with forward slashes. */
  from: string;
  to: string;
  /** "src/bot/x.ts imports src/features/y.ts: layer bot may not import layer features". */
  message: string;
}

interface Placed {
  /** The top-level folder or file ("bot", "config.ts"): what the message names. */
  entry: string;
  rank: number;
}

function place(path: string): Placed | undefined {
  let best: Placed | undefined;
  LAYERS.forEach((layer, rank) => {
    for (const entry of layer.entries) {
      const inside = path === entry || path.startsWith(`${entry}/`);
      if (inside && (!best || entry.length > best.entry.length)) best = { entry, rank };
    }
  });
  return best;
}

// `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`. Comments are stripped
// first so that an example in a comment is not taken for an import.
const SPECIFIER =
  /(?:\bimport\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?|\bexport\s+(?:type\s+)?[^'"`;]*?\sfrom\s+|\bimport\s*\(\s*)["']([^"']+)["']/g;

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

export function importsOf(source: string): string[] {
  return [...stripComments(source).matchAll(SPECIFIER)].map((m) => m[1] ?? "");
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The file an import refers to, as written when it names a folder or leaves out ".ts". */
function resolveImport(fromFile: string, specifier: string): string {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return base;
}

const toPosix = (path: string) => path.split(sep).join("/");

/** "bot", "features", "config", "app": the entry without its extension. */
const layerName = (p: Placed) => p.entry.replace(/\.ts$/, "");

const unplaced = (path: string) =>
  `src/${path.split("/")[0]} is in no layer: add it to LAYERS in scripts/check-layers.ts`;

/** Every import in `srcDir` that goes up the layers. */
export function checkLayers(srcDir: string): Violation[] {
  const violations: Violation[] = [];
  for (const file of sourceFiles(srcDir)) {
    const from = toPosix(relative(srcDir, file));
    const importer = place(from);
    if (!importer) {
      violations.push({ from, to: from, message: unplaced(from) });
      continue;
    }
    for (const specifier of importsOf(readFileSync(file, "utf8"))) {
      if (!specifier.startsWith(".")) continue;
      const to = toPosix(relative(srcDir, resolveImport(file, specifier)));
      if (to.startsWith("../")) continue; // outside src (locale files, package.json)
      const imported = place(to);
      if (!imported) {
        violations.push({ from, to, message: unplaced(to) });
        continue;
      }
      if (imported.rank <= importer.rank) continue;
      const message = `src/${from} imports src/${to}: layer ${layerName(importer)} may not import layer ${layerName(imported)}`;
      violations.push({ from, to, message });
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = resolve(process.argv[2] ?? "src");
  const violations = checkLayers(srcDir);
  for (const v of violations) console.error(v.message);
  if (violations.length > 0) {
    console.error(`${violations.length} layering violation(s); see scripts/check-layers.ts`);
    process.exit(1);
  }
}
