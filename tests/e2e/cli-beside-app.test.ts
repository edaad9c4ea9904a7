/**
 * `npm run cli` beside a running app on an embedded (PGlite) data folder, as real processes.
 * PGlite does not survive two processes on one folder (`RuntimeError: Aborted()` and a screen of
 * minified code); every command here must give a correct result or one clear sentence.
 * The children always use PGlite (DATABASE_URL emptied): that is the behaviour under test.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/db/data-dir-lock";
import { translator } from "../../src/i18n";
import {
  APP_START_MS,
  type AppProcess,
  type Finished,
  runScript,
  startAppProcess,
  stopAppProcesses,
} from "../helpers/process";
import { WebchatClient } from "../helpers/webchat";

const CODE = /([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/;
const en = translator("en");

/** A command of the CLI on a loaded machine: tsx's compile, PGlite's start and the command. */
const CLI_MS = 120_000;

function childEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: "",
    BOT_TOKEN: "",
    HOST: "127.0.0.1",
    PORT: "0",
    ...extra,
  };
}

/** Runs `npm run cli -- ...args` (as tsx runs it) to the end. */
function cli(dataDir: string, args: string[]): Promise<Finished> {
  return runScript("src/cli/index.ts", args, childEnv(dataDir, { LOG_LEVEL: "warn" }), CLI_MS);
}

/** Never a crash: no PGlite abort, no screen of code; at most a couple of lines on stderr. */
function expectNoCrash(result: Finished): void {
  expect(result.stderr).not.toMatch(/Aborted|RuntimeError|at .*\.js:\d+/);
  expect(result.stderr.length).toBeLessThan(600);
}

/** Starts `src/main.ts`; resolves once it answers /healthz, or when it exits first. */
function startApp(dataDir: string): Promise<AppProcess | Finished> {
  return startAppProcess(childEnv(dataDir, { LOG_LEVEL: "info" }));
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("the command line beside a running app on PGlite", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-beside-"));
  const files = mkdtempSync(join(tmpdir(), "aimak-beside-files-"));
  let app: AppProcess;
  let municipalityId = 0;

  beforeAll(async () => {
    const started = await startApp(dataDir);
    if (!("child" in started)) throw new Error(`app exited:\n${started.stdout}${started.stderr}`);
    app = started;
  }, APP_START_MS + 30_000);
  // Whatever failed, no app or command is left running on the folder.
  afterAll(async () => {
    await stopAppProcesses();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  it("prints a one-time admin invite on the first start", () => {
    const out = app.stdout();
    expect(out).toContain("Aimak has no admin yet. One-time admin invite:");
    expect(out).toMatch(/Code:\s+[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    expect(out).toContain(`open ${app.url} and send the message  /start `);
  });

  it("municipalities search, invite, admin create: correct results from the running app", async () => {
    const search = await cli(dataDir, ["municipalities", "search", "Бишкек"]);
    expectNoCrash(search);
    expect(search.code).toBe(0);
    municipalityId = Number(/id (\d+)\)/.exec(search.stdout)?.[1]);
    expect(municipalityId).toBeGreaterThan(0);

    const invite = await cli(dataDir, [
      "invite",
      "--role",
      "staff",
      "--municipality",
      String(municipalityId),
    ]);
    expectNoCrash(invite);
    expect(invite.code).toBe(0);
    expect(invite.stderr).toBe("");
    const staffCode = /code:\s+(\S+)/.exec(invite.stdout)?.[1] ?? "";
    expect(staffCode).toMatch(CODE);

    const admin = await cli(dataDir, ["admin", "create"]);
    expectNoCrash(admin);
    expect(admin.code).toBe(0);
    expect(/code:\s+(\S+)/.exec(admin.stdout)?.[1]).toMatch(CODE);

    // The running app accepts the code made beside it: redeemed in its web chat.
    const person = new WebchatClient(app.url.replace(/\/$/, ""), "en");
    await person.session();
    expect((await person.send(`/start ${staffCode}`)).status).toBe(202);
    await person.waitFor((m) => m.fromBot && m.text.includes(en("roles.staff")), 30_000);

    const roles = await cli(dataDir, ["roles", "list"]);
    expectNoCrash(roles);
    expect(roles.code).toBe(0);
    expect(roles.stdout).toContain(`user ${person.userId}\tstaff\t${municipalityId}\t`);

    expect((await fetch(`${app.url}healthz`)).status).toBe(200);
  }, 300_000);

  it("files named on the command line are read and written by the command line", async () => {
    const path = join(files, "faq.json");
    const exported = await cli(dataDir, ["faq", "export", path]);
    expectNoCrash(exported);
    expect(exported.code).toBe(0);
    const entries = JSON.parse(readFileSync(path, "utf8")) as unknown[];
    expect(exported.stdout).toContain(`Exported ${entries.length} entries to ${path}.`);
    const imported = await cli(dataDir, ["faq", "import", path]);
    expectNoCrash(imported);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`Imported ${entries.length} entries (0 new,`);
  }, 300_000);

  it(
    "a second app on the same folder stops with one sentence",
    async () => {
      const second = await startApp(dataDir);
      expect("code" in second && second.code).toBe(1);
      const { stderr } = second as Finished;
      expect(stderr).toMatch(
        /^Another Aimak app \(pid \d+\) is already running on the data folder .+; stop it first, or give this one its own DATA_DIR\.\n$/,
      );
      expect((await fetch(`${app.url}healthz`)).status).toBe(200);
    },
    APP_START_MS + 60_000,
  );

  it(
    "once the app stops, the command line opens the folder itself and sees the same data",
    async () => {
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
      const roles = await cli(dataDir, ["roles", "list"]);
      expectNoCrash(roles);
      expect(roles.code).toBe(0);
      expect(roles.stdout).toMatch(new RegExp(`\\tstaff\\t${municipalityId}\\t`));
    },
    2 * CLI_MS + 60_000,
  );

  it(
    "an app that is starting or does not answer gets one sentence, never the folder",
    async () => {
      const lock = join(dataDir, LOCK_FILE);
      // This test process stands in for an app that holds the folder.
      const holder = { pid: process.pid, holder: "app", startedAt: Date.now(), id: "test" };
      try {
        writeFileSync(lock, JSON.stringify(holder));
        const starting = await cli(dataDir, ["roles", "list"]);
        expect(starting.code).toBe(1);
        expect(starting.stderr).toBe(
          `The app is starting on the data folder ${dataDir} (pid ${process.pid}); try again in a few seconds.\n`,
        );

        const port = await closedPort();
        writeFileSync(
          lock,
          JSON.stringify({ ...holder, token: "t", http: { host: "127.0.0.1", port } }),
        );
        const silent = await cli(dataDir, ["invite", "--role", "admin"]);
        expect(silent.code).toBe(1);
        expect(silent.stderr).toMatch(
          /^The app \(pid \d+\) holds the data folder .+ but did not answer at http:\/\/127\.0\.0\.1:\d+\/admin\/cli \(ECONNREFUSED\); stop it \(Ctrl-C\) and run the command again\.\n$/,
        );
      } finally {
        rmSync(lock, { force: true });
      }
    },
    2 * CLI_MS + 60_000,
  );
});
