import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/db";

/** Starts `src/main.ts` as a real process and resolves with its URL once it logs that it runs. */
function startApp(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "info",
        BOT_TOKEN: "",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`app did not start:\n${buffer}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.includes("aimak is running"));
      if (line) {
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url });
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => (buffer += chunk.toString()));
    child.on("exit", (code) => reject(new Error(`app exited with ${code}:\n${buffer}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("the app as a process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-app-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("serves /healthz and the page, stops cleanly on SIGTERM, and keeps people across restarts", async () => {
    const server = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    const env: Record<string, string> = server?.url
      ? { DATABASE_URL: server.url }
      : { DATA_DIR: dataDir, DATABASE_URL: "" };
    try {
      const first = await startApp(env);
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
      const exited = exitCode(first.child);
      first.child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);

      const second = await startApp(env);
      const again = await fetch(`${second.url}chat/session`, {
        method: "POST",
        headers: { cookie },
      });
      expect(((await again.json()) as { userId: number }).userId).toBe(userId);
      const history = (await (
        await fetch(`${second.url}chat/history`, { headers: { cookie } })
      ).json()) as {
        messages: unknown[];
      };
      expect(history.messages.length).toBeGreaterThanOrEqual(2);
      const stopped = exitCode(second.child);
      second.child.kill("SIGINT");
      expect(await stopped).toBe(0);
    } finally {
      await server?.close();
    }
  });
});
