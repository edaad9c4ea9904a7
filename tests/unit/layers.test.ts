import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { checkLayers, importsOf } from "../../scripts/check-layers";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

const trees: string[] = [];

/** A throwaway src/ tree: path → contents. */
function tree(files: Record<string, string>): string {
  const src = join(mkdtempSync(join(tmpdir(), "layers-")), "src");
  trees.push(dirname(src));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  return src;
}

afterEach(() => {
  for (const dir of trees.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const messages = (src: string) => checkLayers(src).map((v) => v.message);

describe("layering check", () => {
  it("passes on the project's own src/", () => {
    expect(messages(join(ROOT, "src"))).toEqual([]);
  });

  it("reports a lower layer importing a higher one, type-only imports included", () => {
    const src = tree({
      "bot/context.ts": 'import type { FaqService } from "../features/faq/service";\n',
      "features/faq/service.ts": "export class FaqService {}\n",
      "core/people.ts": 'import { hub } from "../channels/webchat";\n',
      "channels/webchat/index.ts": "export const hub = 1;\n",
      "db/schema/delivery.ts": 'export type { MessageContent } from "../../delivery/content";\n',
      "delivery/content.ts": "export interface MessageContent {}\n",
      "features/faq/handlers.ts": 'import { start } from "../../app";\n',
      "app.ts": "export const start = 1;\n",
    });
    expect(messages(src).sort()).toEqual([
      "src/bot/context.ts imports src/features/faq/service.ts: layer bot may not import layer features",
      "src/core/people.ts imports src/channels/webchat/index.ts: layer core may not import layer channels",
      "src/db/schema/delivery.ts imports src/delivery/content.ts: layer db may not import layer delivery",
      "src/features/faq/handlers.ts imports src/app.ts: layer features may not import layer app",
    ]);
  });

  it("allows imports downwards, within a layer, and between features", () => {
    const src = tree({
      "main.ts": 'import "./app";\n',
      "app.ts":
        'import { f } from "./features/onboarding/steps";\nimport { db } from "./db/client";\n',
      "features/onboarding/steps.ts":
        'import { m } from "../municipalities/service";\nimport { p } from "../../core/people";\nexport const f = 1;\n',
      "features/municipalities/service.ts":
        'import { bot } from "../../bot/context";\nexport const m = 1;\n',
      "bot/context.ts":
        'import { p } from "../core/people";\nimport { c } from "../channels/types";\n',
      "channels/types.ts": 'export * from "../db/schema/users";\nexport const c = 1;\n',
      "core/people.ts":
        'import { users } from "../db/schema/users";\nimport { LOCALES } from "../locales";\n',
      "db/schema/users.ts": 'import { LOCALES } from "../../locales";\nimport { x } from "zod";\n',
      "db/client.ts": 'import { config } from "../config";\n',
      "config.ts": 'import { LOCALES } from "./locales";\n',
      "locales.ts": "export const LOCALES = [];\n",
    });
    expect(messages(src)).toEqual([]);
  });

  it("asks for a new top-level folder to be placed in a layer", () => {
    const src = tree({ "polls/service.ts": 'import { db } from "../db/client";\n' });
    expect(messages(src)).toEqual([
      "src/polls is in no layer: add it to LAYERS in scripts/check-layers.ts",
    ]);
  });

  it("treats the command line's entry point as a composition root, the rest of cli/ not", () => {
    const src = tree({
      "cli/index.ts": 'import { features } from "../features";\nimport { run } from "./run";\n',
      "cli/run.ts": 'import { faq } from "../features/faq/cli";\nexport const run = 1;\n',
      "features/index.ts": "export const features = [];\n",
      "features/faq/cli.ts": "export const faq = 1;\n",
    });
    expect(messages(src)).toEqual([
      "src/cli/run.ts imports src/features/faq/cli.ts: layer cli may not import layer features",
    ]);
  });

  it("reads every import form and skips comments", () => {
    const source = [
      'import type { A } from "./a";',
      "import {",
      "  b,",
      "  c,",
      '} from "./bc";',
      'import "./side-effect";',
      'export * from "./all";',
      'export { d } from "./d";',
      'const e = await import("./e");',
      '// import { no } from "./commented";',
      '/* export * from "./commented-too"; */',
      'const text = "not an import";',
    ].join("\n");
    expect(importsOf(source)).toEqual(["./a", "./bc", "./side-effect", "./all", "./d", "./e"]);
  });

  it("exits 1 and names the violation when run as a script", async () => {
    const src = tree({
      "delivery/engine.ts": 'import { faq } from "../features/faq/service";\n',
      "features/faq/service.ts": "export const faq = 1;\n",
    });
    const failure = await run(
      process.execPath,
      ["--import", "tsx", join(ROOT, "scripts/check-layers.ts"), src],
      { cwd: ROOT },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      "src/delivery/engine.ts imports src/features/faq/service.ts: layer delivery may not import layer features",
    );
    // And the real tree passes the same way `npm run check` runs it.
    await expect(
      run(process.execPath, ["--import", "tsx", "scripts/check-layers.ts"], { cwd: ROOT }),
    ).resolves.toBeTruthy();
  });
});
