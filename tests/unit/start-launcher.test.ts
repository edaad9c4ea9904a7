import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
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
