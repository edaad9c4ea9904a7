import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * scripts/start.mjs (`npm start`) in a throw-away project of its own (its cache is that
 * project's node_modules/.cache, never the repository's): the bundle it runs always matches
 * the sources, also right after an edit of a file that the entry only imports.
 */
describe("npm start's launcher", () => {
  const project = mkdtempSync(join(tmpdir(), "aimak-launcher-"));
  afterAll(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, "scripts"));
  mkdirSync(join(project, "src"));
  mkdirSync(join(project, "node_modules"));
  copyFileSync(join(ROOT, "scripts/start.mjs"), join(project, "scripts/start.mjs"));
  for (const pkg of ["esbuild", "tsx"]) {
    symlinkSync(join(ROOT, "node_modules", pkg), join(project, "node_modules", pkg));
  }
  let clock = Date.now() / 1000;
  const write = (file: string, text: string) => {
    const path = join(project, "src", file);
    writeFileSync(path, text);
    // A new modification time even within the file system's timestamp resolution.
    clock += 10;
    utimesSync(path, clock, clock);
  };
  const start = () =>
    execFileSync(process.execPath, ["scripts/start.mjs"], { cwd: project, encoding: "utf8" });

  it("builds the bundle, runs it, and rebuilds it when a source changes", () => {
    write("greeting.ts", 'export const greeting: string = "one";\n');
    write(
      "main.ts",
      'import { greeting } from "./greeting";\nconsole.log(greeting, new URL(".", import.meta.url).pathname);\n',
    );
    const first = start();
    expect(first).toContain("one");
    // import.meta.url is the source's own place, not the bundle's.
    expect(first).toContain(`${join(project, "src")}/`);
    expect(existsSync(join(project, "node_modules/.cache/aimak/main.mjs"))).toBe(true);

    write("greeting.ts", 'export const greeting: string = "two";\n');
    expect(start()).toContain("two");
    expect(start()).toContain("two");
  });

  it("stops with the compile error instead of running an old bundle", () => {
    write("greeting.ts", "export const greeting: string = ;\n");
    expect(() => start()).toThrow(/greeting\.ts/);
  });
});

/**
 * `node scripts/start.mjs --prepare` (npm's `prepare`) and src/db/client.ts in a throw-away copy
 * of the project (its own src/, so a seed file can be edited, and its own template cache): the
 * new-database template holds the shipped directory and FAQ corpus, a new data folder starts
 * with them, and a template older than the files the seeds read is never copied, and is made
 * again by the next prepare.
 */
describe("the new-database template", () => {
  const project = mkdtempSync(join(tmpdir(), "aimak-template-"));
  afterAll(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, "scripts"));
  copyFileSync(join(ROOT, "scripts/start.mjs"), join(project, "scripts/start.mjs"));
  // "type": "module", as the sources are written.
  copyFileSync(join(ROOT, "package.json"), join(project, "package.json"));
  cpSync(join(ROOT, "src"), join(project, "src"), { recursive: true });
  cpSync(join(ROOT, "drizzle"), join(project, "drizzle"), { recursive: true });
  mkdirSync(join(project, "node_modules"));
  for (const name of readdirSync(join(ROOT, "node_modules"))) {
    // Not the cache: the template made here is this project's own.
    if (name !== ".cache") {
      symlinkSync(join(ROOT, "node_modules", name), join(project, "node_modules", name));
    }
  }
  const node = (args: string[]) =>
    execFileSync(process.execPath, args, { cwd: project, encoding: "utf8" });
  const prepare = () => node(["scripts/start.mjs", "--prepare"]);
  const pglite = (
    JSON.parse(
      readFileSync(join(ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8"),
    ) as { version: string }
  ).version;
  const templateDir = join(project, "node_modules/.cache/aimak", `pgdata-${pglite}`);
  const marker = () =>
    JSON.parse(readFileSync(join(templateDir, "template.json"), "utf8")) as {
      pglite: string;
      seeder: string;
      seed: Record<string, string>;
    };
  let folders = 0;
  /** What a new data folder holds right after openDatabase (before any migration or seed). */
  const newDataFolder = () => {
    const dataDir = join(project, `data-${++folders}`);
    const script = `
      import { sql } from "drizzle-orm";
      import { openDatabase, rowsOf } from "./src/db/client.ts";
      const handle = await openDatabase({ dataDir: ${JSON.stringify(dataDir)} });
      const [row] = rowsOf(await handle.db.execute(sql\`
        select to_regclass('public.faq_entries') is not null as tables\`));
      let counts = {};
      if (row.tables) {
        [counts] = rowsOf(await handle.db.execute(sql\`select
          (select count(*) from faq_entries)::int as faq,
          (select count(*) from municipalities)::int as municipalities\`));
      }
      await handle.close();
      console.log(JSON.stringify({ tables: row.tables, ...counts }));`;
    const out = node(["--import", "tsx", "--input-type=module", "-e", script]);
    return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      tables: boolean;
      faq?: number;
      municipalities?: number;
    };
  };
  const faqFile = "src/features/faq/data/faq.json";
  const shipped = JSON.parse(readFileSync(join(ROOT, faqFile), "utf8")) as unknown[];

  it("is migrated and seeded, and a new data folder starts with the seeded data", () => {
    prepare();
    const made = marker();
    expect(made.pglite).toBe(pglite);
    expect(Object.keys(made.seed).sort()).toEqual([
      faqFile,
      "src/features/faq/data/phrasings.json",
      "src/features/municipalities/data/kyrgyzstan.json",
    ]);
    expect(newDataFolder()).toEqual({
      tables: true,
      faq: shipped.length,
      municipalities: expect.any(Number),
    });
    // Nothing changed: the next prepare keeps it as it is.
    const madeAt = statSync(join(templateDir, "template.json")).mtimeMs;
    prepare();
    expect(statSync(join(templateDir, "template.json")).mtimeMs).toBe(madeAt);
  }, 180_000);

  it("is not copied once a seed file changed, and the next prepare makes it again", () => {
    const before = marker().seed[faqFile];
    // One entry fewer: a template with the old corpus would show the shipped count.
    writeFileSync(join(project, faqFile), JSON.stringify(shipped.slice(1)));
    expect(newDataFolder()).toEqual({ tables: false });
    prepare();
    expect(marker().seed[faqFile]).not.toBe(before);
    expect(newDataFolder()).toEqual({
      tables: true,
      faq: shipped.length - 1,
      municipalities: expect.any(Number),
    });
  }, 180_000);
});
