import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import ky from "../../locales/ky.json";
import type { App } from "../../src/app";
import { type RunningTestApp, startTestApp } from "./app";
import { launchBrowser, visible } from "./browser";

/**
 * What a person does on the web chat page in Chromium (tests/e2e): open it, read the bot's
 * bubbles, type, press buttons, and the first steps of onboarding.
 */

/** The text of every bot message on the page. */
export const bubbles = (page: Page) => page.locator("li.msg.bot .text");

/** Waits until a bot message contains `text` (the bot answers asynchronously). */
export async function waitForBot(page: Page, text: string, timeout = 15_000): Promise<void> {
  await expect
    .poll(async () => (await bubbles(page).allTextContents()).some((x) => x.includes(text)), {
      timeout,
    })
    .toBe(true);
}

/** Types a message and sends it with Enter. */
export async function type(page: Page, text: string): Promise<void> {
  await page.locator("#input").fill(text);
  await page.locator("#input").press("Enter");
}

/** Presses a button on the latest message that has it. */
export async function press(page: Page, label: string): Promise<void> {
  await page
    .locator("li.msg.bot")
    .filter({ has: page.getByRole("button", { name: label, exact: true }) })
    .last()
    .getByRole("button", { name: label, exact: true })
    .click();
}

/**
 * Opens the web chat at `base`; returns the person behind the page's session. A new session
 * becomes a person (a users row) with its first message, the page's own "/start": this waits
 * for it, so the caller may set the person up in the database at once.
 */
export async function openChat(page: Page, base: string): Promise<number> {
  const session = page.waitForResponse(
    (r) => r.url() === `${base}/chat/session` && r.request().method() === "POST",
  );
  const firstSend = page.waitForResponse(
    (r) => r.url() === `${base}/chat/send` && r.request().method() === "POST",
  );
  await page.goto(base);
  const response = await session;
  const { userId } = (await response.json()) as { userId: number };
  if (await response.headerValue("set-cookie")) await firstSend;
  else void firstSend.catch(() => {});
  return userId;
}

/**
 * Onboarding in Kyrgyz up to the topics: the language, then the first municipality the search
 * finds. The topics question is on the page when this returns.
 */
export async function onboardToTopics(page: Page, municipality = "сокулук"): Promise<void> {
  await waitForBot(page, visible(ky.onboarding.welcome));
  await page.getByRole("button", { name: ky.language.name }).click();
  await waitForBot(page, visible(ky.onboarding.municipality_ask));
  await type(page, municipality);
  await waitForBot(page, visible(ky.onboarding.municipality_found));
  await page.locator("li.msg.bot").last().getByRole("button").first().click();
  await waitForBot(page, visible(ky.onboarding.topics_ask));
}

/** The rest of onboarding in Kyrgyz: the topics as chosen, then consent. */
export async function finishOnboarding(page: Page): Promise<void> {
  await press(page, ky.common.done);
  await waitForBot(page, visible(ky.onboarding.consent_text));
  await press(page, ky.onboarding.consent_agree);
  await waitForBot(page, visible(ky.onboarding.finished));
}

/** The whole app in this process (startTestApp) with Chromium in front of it. */
export interface WebchatBrowser {
  readonly app: App;
  readonly base: string;
  /** A new browser context (a new person, with their own cookie) and its page. */
  newPage(options: BrowserContextOptions): Promise<Page>;
}

/**
 * Starts the app and Chromium before the file's tests and stops both (and every page opened)
 * after them; `options` go to startTestApp (e.g. a faster scheduler tick).
 */
export function useWebchatBrowser(
  options: Parameters<typeof startTestApp>[0] = {},
): WebchatBrowser {
  let running: RunningTestApp | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    running = await startTestApp(options);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await running?.app.stop();
  });
  const started = (): RunningTestApp => {
    if (!running) throw new Error("the app starts in beforeAll: use it inside a test");
    return running;
  };
  return {
    get app() {
      return started().app;
    },
    get base() {
      return started().base;
    },
    async newPage(contextOptions) {
      if (!browser) throw new Error("the browser starts in beforeAll: use it inside a test");
      const context = await browser.newContext(contextOptions);
      contexts.push(context);
      return context.newPage();
    },
  };
}
