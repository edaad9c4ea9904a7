import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { canRunBrowser, launchBrowser, PHONE, visible } from "../helpers/browser";
import { createServerDatabase } from "../helpers/db";
import {
  APP_START_MS,
  type AppProcess,
  startRunningApp,
  stopAppProcesses,
} from "../helpers/process";

/**
 * The web chat end to end: the real app (`src/main.ts`) in a child process without a bot token,
 * Debian's chromium driven by playwright-core, and a person completing onboarding in Kyrgyz
 * with taps, typing and the keyboard, then reloading the page and finding the same session.
 */

const SCREENSHOT = "/tmp/webchat-e2e.png";

describe.skipIf(!canRunBrowser)("web chat in a browser", () => {
  let dataDir: string;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let app: AppProcess | undefined;
  let baseUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "aimak-e2e-"));
    if (process.env.DATABASE_URL) database = await createServerDatabase(process.env.DATABASE_URL);
    // The app picks a free port itself (PORT=0) and logs it: no port chosen here that another
    // process could take before the app binds it.
    app = await startRunningApp({
      BOT_TOKEN: undefined,
      WEBHOOK_URL: undefined,
      WEBHOOK_SECRET: undefined,
      TELEGRAM_API_ROOT: undefined,
      DATABASE_URL: database?.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "info",
      NODE_ENV: "test",
    });
    baseUrl = app.url.replace(/\/$/, "");

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
  }, APP_START_MS + 30_000);

  afterAll(async () => {
    // The last state of the page, whether the test passed or not.
    await page?.screenshot({ path: SCREENSHOT }).catch(() => {});
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.stop();
    await stopAppProcesses();
    await database?.drop().catch(() => {});
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

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

    // Language, with the press held back until the test has seen the buttons disabled meanwhile
    // (held on a gate, not for a fixed time a slow machine could outlast).
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    await page.route("**/chat/press", async (route) => {
      await gate;
      await route.continue();
    });
    const kyrgyz = greeting.getByRole("button", { name: ky.language.name });
    const pressed = page.waitForResponse((r) => r.url() === `${baseUrl}/chat/press`);
    await kyrgyz.click();
    await expect.poll(() => kyrgyz.getAttribute("aria-disabled")).toBe("true");
    await expect
      .poll(() => greeting.getByRole("button", { name: "English" }).getAttribute("aria-disabled"))
      .toBe("true");
    release();
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
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("online");
    // Time passing is the point: a second /start would add messages after the page settled.
    // Online (history loaded, stream open) comes first, so the watch starts where the old code
    // sent it; 500 ms is a lower bound, and a slow machine can only miss it, never fail here.
    await page.waitForTimeout(500);
    expect(await page.locator("li.msg").count()).toBe(transcript.length);

    // The transcript is scrolled to the newest message.
    await expect
      .poll(() =>
        page.locator("main").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight),
      )
      .toBeLessThan(2);

    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
