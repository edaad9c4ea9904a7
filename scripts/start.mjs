/**
 * `npm start`: runs src/main.ts from one esbuild bundle instead of through tsx.
 *
 * Why: tsx compiles and loads ~220 TypeScript files one by one on every start (its cache is per
 * machine and per user, so a newcomer pays the compile too); one bundled file loads several
 * times faster, and esbuild (tsx's own dependency, so no new package) bundles src/ in well under
 * a second. A bundle must never be older than the sources: each start compares the size and
 * modification time of every file the bundle was built from (esbuild's metafile) and rebuilds
 * first when any differs or is gone. If the bundle cannot be built or written (a read-only
 * node_modules), the app runs through tsx as before — slower, never stale.
 *
 * Plain JavaScript so that node runs it without a loader; the process stays the app's (no child),
 * so SIGTERM to `npm start` (which `exec`s node) reaches the app. `node scripts/start.mjs
 * --prepare` (npm's `prepare`, the Dockerfile) only builds the bundle and the new-database
 * template (src/db/client.ts: a fresh data folder is copied from it instead of running initdb and
 * every migration).
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, "node_modules", ".cache", "aimak");
const BUNDLE = join(CACHE, "main.mjs");
const STAMP = join(CACHE, "main.inputs.json");
const ENTRY = join(ROOT, "src", "main.ts");

/** "size:mtime" of a file, or undefined when it is gone. */
function signature(path) {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** True when the bundle exists and every file it was built from is unchanged. */
function bundleIsCurrent() {
  if (!existsSync(BUNDLE)) return false;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, "utf8"));
    if (stamp.builder !== signature(fileURLToPath(import.meta.url))) return false;
    return Object.entries(stamp.inputs).every(([file, sig]) => signature(join(ROOT, file)) === sig);
  } catch {
    return false;
  }
}

/** Bundles src/main.ts (packages stay external: node_modules is loaded as installed). */
async function buildBundle() {
  const { build } = await import("esbuild");
  const { readFile } = await import("node:fs/promises");
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile: tmp,
    sourcemap: "linked",
    metafile: true,
    logLevel: "silent",
    plugins: [
      {
        // Sources find their files (locales, migrations, the page, data) next to themselves with
        // `new URL(…, import.meta.url)`; in the bundle that would be the bundle's folder, so each
        // source's import.meta.url becomes its own path, relative to the bundle (relocatable).
        name: "source-import-meta-url",
        setup(b) {
          b.onLoad({ filter: /\.ts$/ }, async (args) => {
            let contents = await readFile(args.path, "utf8");
            if (contents.includes("import.meta.url")) {
              const rel = relative(CACHE, args.path).split("\\").join("/");
              contents = contents.replaceAll(
                "import.meta.url",
                `new URL(${JSON.stringify(rel)}, import.meta.url).href`,
              );
            }
            return { contents, loader: "ts" };
          });
        },
      },
    ],
  });
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) {
    const rel = relative(ROOT, resolve(process.cwd(), file)).split("\\").join("/");
    inputs[rel] = signature(join(ROOT, rel));
  }
  // The source map is named after the temporary file inside the bundle: renamed alongside.
  const code = readFileSync(tmp, "utf8").replace(
    /\/\/# sourceMappingURL=.*$/m,
    "//# sourceMappingURL=main.mjs.map",
  );
  writeFileSync(tmp, code);
  renameSync(`${tmp}.map`, `${BUNDLE}.map`);
  renameSync(tmp, BUNDLE);
  writeFileSync(
    STAMP,
    JSON.stringify({ builder: signature(fileURLToPath(import.meta.url)), inputs }),
  );
}

/**
 * A new, migrated database: PGlite's initdb and the migrations cost seconds of CPU at every first
 * start otherwise. Its folder and template.json follow src/db/client.ts (emptyDatabaseTemplate),
 * which copies it into a data folder that has no database yet.
 */
async function buildDatabaseTemplate() {
  const pglite = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json"), "utf8"),
  ).version;
  const templateDir = join(CACHE, `pgdata-${pglite}`);
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const { readMigrationFiles } = await import("drizzle-orm/migrator");
  const migrationsFolder = join(ROOT, "drizzle");
  const migrations = readMigrationFiles({ migrationsFolder }).map((m) => m.hash);
  const marker = JSON.stringify({ pglite, migrations });
  try {
    // Already made for this PGlite and these migrations: nothing to do (and nothing replaced
    // under a start that is copying it).
    if (readFileSync(join(templateDir, "template.json"), "utf8") === marker) return;
  } catch {
    // Not made yet.
  }
  const tmp = `${templateDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // The same extensions and migrator as the app (src/db/client.ts, src/db/migrate.ts).
  const client = await PGlite.create(tmp, { extensions: { pg_trgm } });
  await migrate(drizzle(client), { migrationsFolder });
  await client.close();
  writeFileSync(join(tmp, "template.json"), marker);
  rmSync(templateDir, { recursive: true, force: true });
  renameSync(tmp, templateDir);
}

if (process.argv.includes("--build")) {
  // Only the bundle (npm run bench:startup times it: what the first start after an edit adds).
  await buildBundle();
} else if (process.argv.includes("--prepare")) {
  // npm runs `prepare` at every `npm ci`, also where src/ is not there yet (a Docker layer
  // with only package.json): then there is nothing to prepare, and that is not an error.
  if (existsSync(ENTRY)) {
    await buildBundle();
    // Only a speed-up: without it a new data folder runs initdb and the migrations itself.
    await buildDatabaseTemplate().catch((error) => {
      process.stderr.write(`aimak: no new-database template (${error?.message ?? error})\n`);
    });
  }
} else {
  let ready = bundleIsCurrent();
  if (!ready) {
    try {
      await buildBundle();
      ready = true;
    } catch (error) {
      if (Array.isArray(error?.errors) && error.errors.length > 0) {
        // A syntax or import error in the sources: the same error tsx would stop on.
        const { formatMessages } = await import("esbuild");
        const lines = await formatMessages(error.errors, { kind: "error" });
        process.stderr.write(`aimak failed to start:\n${lines.join("")}`);
        process.exit(1);
      }
      // No esbuild, or node_modules not writable: run the sources through tsx instead.
    }
  }
  if (ready) {
    // Stack traces name src/ files and lines, as they do under tsx.
    process.setSourceMapsEnabled(true);
    await import(pathToFileURL(BUNDLE).href);
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    await import(pathToFileURL(ENTRY).href);
  }
}
