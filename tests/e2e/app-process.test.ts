import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/db";
import { APP_START_MS, startRunningApp, stopAppProcesses, urlFrom } from "../helpers/process";
import { waitFor } from "../helpers/wait";

describe("the app as a process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-app-"));
  // A failed expectation leaves no app running (nor holding the data folder).
  afterAll(async () => {
    await stopAppProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    "serves /healthz and the page, stops cleanly on SIGTERM, and keeps people across restarts",
    async () => {
      const server = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
      const env: Record<string, string> = server?.url
        ? { DATABASE_URL: server.url }
        : { DATA_DIR: dataDir, DATABASE_URL: "" };
      try {
        const first = await startRunningApp(env);
        expect((await fetch(`${first.url}healthz`)).status).toBe(200);
        expect((await fetch(first.url)).status).toBe(200);
        const session = await fetch(`${first.url}chat/session`, { method: "POST" });
        const cookie = session.headers.get("set-cookie")?.split(";")[0] ?? "";
        const { userId, csrf } = (await session.json()) as { userId: number; csrf: string };
        const sent = await fetch(`${first.url}chat/send`, {
          method: "POST",
          headers: { cookie, "content-type": "application/json", "x-aimak-csrf": csrf },
          body: JSON.stringify({ text: "/start" }),
        });
        expect(sent.status).toBe(202);
        const started = Date.now();
        expect(await first.stop("SIGTERM")).toBe(0);
        expect(Date.now() - started).toBeLessThan(10_000);

        const second = await startRunningApp(env);
        const again = await fetch(`${second.url}chat/session`, {
          method: "POST",
          headers: { cookie },
        });
        expect(((await again.json()) as { userId: number }).userId).toBe(userId);
        const history = (await (
          await fetch(`${second.url}chat/history`, { headers: { cookie } })
        ).json()) as {
          messages: { fromBot: boolean; text: string }[];
        };
        // What was said before the restart: the person's /start and the bot's answer to it.
        expect(history.messages).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ fromBot: false, text: "/start" }),
            expect.objectContaining({ fromBot: true }),
          ]),
        );
        expect(await second.stop("SIGINT")).toBe(0);
      } finally {
        await stopAppProcesses();
        await server?.close();
      }
    },
    2 * APP_START_MS + 30_000,
  );
});

/**
 * `npm start` under a process supervisor: SIGTERM to npm reaches the app itself (the script
 * `exec`s node, so no shell stands between them), which stops gracefully; nothing is left
 * running on the data folder.
 */
describe("npm start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-npm-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(
    "stops the app, not only npm, on SIGTERM",
    async () => {
      const npm = spawn("npm", ["start", "--silent"], {
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          DATABASE_URL: "",
          HOST: "127.0.0.1",
          PORT: "0",
          LOG_LEVEL: "info",
          BOT_TOKEN: "",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      npm.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
      });
      npm.stderr.resume();
      const exited = new Promise<number | null>((resolve) => npm.once("exit", resolve));
      try {
        const url = await waitFor(() => urlFrom(stdout), APP_START_MS, "the app's URL in its log");
        expect((await fetch(`${url}healthz`)).status).toBe(200);
        // The app is npm's own child: no shell in between.
        const children = readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8")
          .trim()
          .split(/\s+/)
          .map(Number)
          .filter((pid) => pid > 0);
        expect(children).toHaveLength(1);
        const app = children[0]!;
        // node running the launcher, which runs the app in its own process (scripts/start.mjs).
        expect(readFileSync(`/proc/${app}/cmdline`, "utf8")).toContain("scripts/start.mjs");

        npm.kill("SIGTERM");
        expect(await exited).toBe(0);
        await waitFor(() => !existsSync(`/proc/${app}`), 15_000, "the app process to end");
      } finally {
        if (npm.exitCode === null) npm.kill("SIGKILL");
      }
    },
    APP_START_MS + 30_000,
  );
});
