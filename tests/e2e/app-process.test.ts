import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/db";
import { APP_START_MS, startRunningApp, stopAppProcesses } from "../helpers/process";

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
