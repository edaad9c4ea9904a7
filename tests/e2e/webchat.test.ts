import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { canRunBrowser, launchBrowser, PHONE, visible } from "../helpers/browser";

/**
 * The web chat end to end: the real app (`src/main.ts`) in a child process without a bot token,
 * Debian's chromium driven by playwright-core, and a person completing onboarding in Kyrgyz
 * with taps, typing and the keyboard, then reloading the page and finding the same session.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCREENSHOT = "/tmp/webchat-e2e.png";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A brand-new database on the PostgreSQL server of DATABASE_URL, as tests/helpers/db.ts does. */
async function createServerDatabase(serverUrl: string) {
  const name = `aimak_e2e_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template template0 encoding 'UTF8'`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

class App {
  private output: string[] = [];
  private exited: string | undefined;

  constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (this.output.length > 300) this.output.splice(0, this.output.length - 300);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("exit", (code, signal) => {
      this.exited = `exited with ${signal ?? `code ${code}`}`;
    });
  }

  log(): string {
    return this.output.slice(-60).join("\n");
  }

  async waitHealthy(baseUrl: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    while (Date.now() < deadline) {
      if (this.exited)
        throw new Error(`the app ${this.exited} before /healthz answered:\n${this.log()}`);
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        if (response.status === 200) return;
        last = `HTTP ${response.status}: ${await response.text()}`;
      } catch (error) {
        last = String(error);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`/healthz did not answer 200 within ${timeoutMs} ms (${last}):\n${this.log()}`);
  }

  async stop(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return;
    const done = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 12_000);
    await done;
    clearTimeout(timer);
  }
}

describe.skipIf(!canRunBrowser)("web chat in a browser", () => {
  let dataDir: string;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let app: App;
  let baseUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "aimak-e2e-"));
    if (process.env.DATABASE_URL) database = await createServerDatabase(process.env.DATABASE_URL);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;

    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of [
      "BOT_TOKEN",
      "WEBHOOK_URL",
      "WEBHOOK_SECRET",
      "TELEGRAM_API_ROOT",
      "DATABASE_URL",
    ]) {
      delete env[name];
    }
    Object.assign(env, {
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "warn",
      NODE_ENV: "test",
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    app = new App(child);
    await app.waitHealthy(baseUrl, 45_000);

    browser = await launchBrowser();
    context = await browser.newContext({
      ...PHONE,
      locale: "ky-KG",
      timezoneId: "Asia/Bishkek",
    });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(baseUrl) && !url.startsWith("data:")) foreignRequests.push(url);
    });
  }, 90_000);

  afterAll(async () => {
    // The last state of the page, whether the test passed or not.
    await page?.screenshot({ path: SCREENSHOT }).catch(() => {});
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.stop();
    await database?.drop().catch(() => {});
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  /** The newest message from the bot. */
  const lastBot = () => page.locator("li.msg.bot").last();

  /** Waits for a bot message containing `text` and pins it by id (edits keep the id). */
  async function botMessage(text: string) {
    await expect.poll(() => lastBot().textContent(), { timeout: 15_000 }).toContain(text);
    const id = await page.locator("li.msg.bot", { hasText: text }).last().getAttribute("data-id");
    return page.locator(`li.msg[data-id="${id}"]`);
  }

  it("completes onboarding in Kyrgyz and keeps the session over a reload", async () => {
    const firstSession = page.waitForResponse(
      (r) => r.url() === `${baseUrl}/chat/session` && r.request().method() === "POST",
    );
    await page.goto(baseUrl);
    const session = (await (await firstSession).json()) as { userId: number; locale: string };
    expect(session.userId).toEqual(expect.any(Number));

    // The session cookie identifies the person and is out of reach of scripts.
    const cookies = await context.cookies(baseUrl);
    expect(cookies.some((c) => c.httpOnly)).toBe(true);

    // An empty transcript: the page says /start by itself and the bot greets with languages.
    await expect
      .poll(() => page.locator("li.msg.me").allTextContents())
      .toEqual([expect.stringContaining("/start")]);
    const greeting = await botMessage(visible(ky.onboarding.welcome));
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("online");

    // Language, with the press held back a moment to see the buttons disabled meanwhile.
    await page.route("**/chat/press", async (route) => {
      await new Promise((r) => setTimeout(r, 600));
      await route.continue();
    });
    const kyrgyz = greeting.getByRole("button", { name: ky.language.name });
    const pressed = page.waitForResponse((r) => r.url() === `${baseUrl}/chat/press`);
    await kyrgyz.click();
    await expect.poll(() => kyrgyz.getAttribute("aria-disabled")).toBe("true");
    await expect
      .poll(() => greeting.getByRole("button", { name: "English" }).getAttribute("aria-disabled"))
      .toBe("true");
    expect((await pressed).status()).toBe(202);
    await page.unroute("**/chat/press");

    // Municipality: typed by keyboard, in lower case; Enter sends.
    await botMessage(visible(ky.onboarding.municipality_ask));
    const input = page.getByRole("textbox", { name: ky.webchat.input_label });
    await expect.poll(() => input.getAttribute("placeholder")).toBe(ky.webchat.placeholder);
    await input.fill("сокулук");
    await input.press("Enter");
    await expect.poll(() => page.locator("li.msg.me").last().textContent()).toContain("сокулук");
    await expect.poll(() => input.inputValue()).toBe("");

    const results = await botMessage(visible(ky.onboarding.municipality_found));
    await results
      .getByRole("button", { name: /^Сокулук/ })
      .first()
      .click();

    // Topics: everything on by default; done.
    const topics = await botMessage(visible(ky.onboarding.topics_ask));
    for (const topic of ["hearings", "polls", "announcements"] as const) {
      await expect
        .poll(() =>
          topics.getByRole("button", { name: ky.onboarding[`topic_${topic}`] }).isVisible(),
        )
        .toBe(true);
    }
    await topics.getByRole("button", { name: ky.common.done, exact: true }).click();

    // Consent, with the keyboard only: focus the button and press Enter.
    const consent = await botMessage(visible(ky.onboarding.consent_text));
    await consent.getByRole("button", { name: ky.onboarding.consent_agree }).focus();
    await page.keyboard.press("Enter");

    const finished = await botMessage(visible(ky.onboarding.finished));
    expect(await finished.textContent()).toContain("Сокулук");

    // New bot messages were announced to screen readers.
    expect(await page.locator("#announcer").textContent()).toContain(
      visible(ky.onboarding.finished),
    );
    // The chrome speaks Kyrgyz.
    expect(await page.locator("html").getAttribute("lang")).toBe("ky");
    await expect
      .poll(() => page.getByRole("button", { name: ky.webchat.send }).isVisible())
      .toBe(true);

    const transcript = await page.locator("li.msg").allTextContents();
    expect(transcript.length).toBeGreaterThanOrEqual(6);
    // Each step was said once (replays must not re-send), and the greeting became the choice.
    const botTexts = await page.locator("li.msg.bot .text").allTextContents();
    expect(botTexts.filter((text) => text.includes(visible(ky.onboarding.welcome)))).toEqual([]);
    expect(botTexts.filter((text) => text.includes(ky.language.saved))).toHaveLength(1);
    expect(botTexts.filter((text, i) => botTexts.indexOf(text) !== i)).toEqual([]);

    // Reload: same person, same transcript, and no second /start.
    const secondSession = page.waitForResponse(
      (r) => r.url() === `${baseUrl}/chat/session` && r.request().method() === "POST",
    );
    await page.reload();
    const again = (await (await secondSession).json()) as { userId: number; locale: string };
    expect(again.userId).toBe(session.userId);
    expect(again.locale).toBe("ky");
    await expect.poll(() => page.locator("li.msg").allTextContents()).toEqual(transcript);
    await page.waitForTimeout(500);
    expect(await page.locator("li.msg").count()).toBe(transcript.length);
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("online");

    // The transcript is scrolled to the newest message.
    await expect
      .poll(() =>
        page.locator("main").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight),
      )
      .toBeLessThan(2);

    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
