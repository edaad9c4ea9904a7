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
 * template (src/db/client.ts: a fresh data folder is copied from it instead of running initdb,
 * every migration and the seeds).
 */
import { createHash } from "node:crypto";
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
const SEED_ENTRY = join(ROOT, "src", "features", "seed-template.ts");

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

/**
 * Sources find their files (locales, migrations, the page, data) next to themselves with
 * `new URL(…, import.meta.url)`; in a bundle that would be the bundle's folder (CACHE), so each
 * source's import.meta.url becomes its own path, relative to the bundle (relocatable).
 */
function sourceImportMetaUrl() {
  return {
    name: "source-import-meta-url",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const { readFile } = await import("node:fs/promises");
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
  };
}

/** Bundles src/main.ts (packages stay external: node_modules is loaded as installed). */
async function buildBundle() {
  const { build } = await import("esbuild");
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
    plugins: [sourceImportMetaUrl()],
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
 * A new, migrated and seeded database: PGlite's initdb, the migrations and the seeds of the
 * shipped directory and FAQ corpus cost seconds of CPU at every first start otherwise. Its folder
 * and template.json follow src/db/client.ts (newDatabaseTemplate), which copies it into a data
 * folder that has no database yet. The seeding is TypeScript (src/features/seed-template.ts):
 * bundled here like the app and run in this process.
 *
 * The marker names everything the template was made from, and it is made again when any of it
 * changed: the PGlite version, the migrations, the seed code (the seeding bundle's text: every
 * source it runs) and the files the seeds read (sha256 of each; client.ts checks these too, so
 * that a template older than a checkout's data is never copied, also before the next `npm ci`).
 */
async function buildDatabaseTemplate() {
  const pglite = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json"), "utf8"),
  ).version;
  const templateDir = join(CACHE, `pgdata-${pglite}`);
  const { build } = await import("esbuild");
  const { readMigrationFiles } = await import("drizzle-orm/migrator");
  const migrations = readMigrationFiles({ migrationsFolder: join(ROOT, "drizzle") }).map(
    (m) => m.hash,
  );
  mkdirSync(CACHE, { recursive: true });
  // In CACHE: the sources' import.meta.url is made relative to it (sourceImportMetaUrl).
  const seeder = join(CACHE, `seed-template.${process.pid}.mjs`);
  const { outputFiles } = await build({
    entryPoints: [SEED_ENTRY],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile: seeder,
    write: false,
    logLevel: "silent",
    plugins: [sourceImportMetaUrl()],
  });
  const code = outputFiles[0].text;
  writeFileSync(seeder, code);
  try {
    const { SEED_FILES, seedTemplate } = await import(pathToFileURL(seeder).href);
    const seed = Object.fromEntries(
      SEED_FILES.map((file) => [
        relative(ROOT, file).split("\\").join("/"),
        sha256(readFileSync(file)),
      ]),
    );
    const marker = JSON.stringify({ pglite, migrations, seeder: sha256(code), seed });
    try {
      // Already made from all of this: nothing to do (and nothing replaced under a start that
      // is copying it).
      if (readFileSync(join(templateDir, "template.json"), "utf8") === marker) return;
    } catch {
      // Not made yet.
    }
    const tmp = `${templateDir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await seedTemplate(tmp);
    writeFileSync(join(tmp, "template.json"), marker);
    rmSync(templateDir, { recursive: true, force: true });
    renameSync(tmp, templateDir);
  } finally {
    rmSync(seeder, { force: true });
  }
}

/** Hex SHA-256 of a file's bytes (src/db/client.ts hashes the seed files the same way). */
function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

if (process.argv.includes("--build")) {
  // Only the bundle (npm run bench:startup times it: what the first start after an edit adds).
  await buildBundle();
} else if (process.argv.includes("--prepare")) {
  // npm runs `prepare` at every `npm ci`, also where src/ is not there yet (a Docker layer
  // with only package.json): then there is nothing to prepare, and that is not an error.
  if (existsSync(ENTRY)) {
    await buildBundle();
    // Only a speed-up: without it a new data folder runs initdb, the migrations and the seeds
    // itself.
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
