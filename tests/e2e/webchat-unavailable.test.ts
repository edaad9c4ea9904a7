import type { Page, Route } from "playwright-core";
import { describe, expect, it } from "vitest";
import ru from "../../locales/ru.json";
import { canRunBrowser, DESKTOP, visible } from "../helpers/browser";
import { bubbles, openChat, type, useWebchatBrowser, waitForBot } from "../helpers/webchat-page";

/**
 * The web chat page while the server cannot work (its database is away, tests/e2e/db-outage.test.ts
 * shows the server's side): the server's 503 is played here by the browser's network layer, so
 * this runs on either database. The page keeps what was typed, says so in the person's language,
 * stops claiming "connected", and the same text goes once the server works again.
 */
describe.skipIf(!canRunBrowser)("web chat: the server briefly unavailable", () => {
  const chat = useWebchatBrowser();

  const state = (page: Page) => page.locator("#status").getAttribute("data-state");
  const unavailable = (route: Route) =>
    route.fulfill({
      status: 503,
      contentType: "application/json",
      headers: { "retry-after": "5" },
      body: JSON.stringify({ error: "server words" }),
    });

  it("keeps the text, tells why, shows reconnecting, and sends it again after", async () => {
    const page = await chat.newPage({ ...DESKTOP, locale: "ru-RU", timezoneId: "Asia/Bishkek" });
    await openChat(page, chat.base);
    await waitForBot(page, visible(ru.onboarding.welcome));
    await expect.poll(() => state(page)).toBe("online");
    const before = (await bubbles(page).allTextContents()).length;

    await page.route("**/chat/send", unavailable);
    await page.route("**/chat/history", unavailable);
    await type(page, "/help");
    // The notice in the page's language (the page's own words, not whatever the server said).
    await expect.poll(() => page.locator("#toast").textContent()).toBe(ru.webchat.unavailable);
    await expect.poll(() => page.locator("#input").inputValue()).toBe("/help");
    await expect.poll(() => state(page)).toBe("reconnecting");
    await expect
      .poll(() => page.locator("#status-text").textContent())
      .toBe(ru.webchat.reconnecting);
    expect(await page.locator("#send").isDisabled()).toBe(false);

    // The server works again: the page finds out by itself, and the kept text goes.
    await page.unroute("**/chat/history");
    await page.unroute("**/chat/send");
    await expect.poll(() => state(page), { timeout: 20_000 }).toBe("online");
    await page.locator("#input").press("Enter");
    await expect.poll(() => page.locator("#input").inputValue()).toBe("");
    await expect
      .poll(async () => (await bubbles(page).allTextContents()).length, { timeout: 20_000 })
      .toBeGreaterThan(before);
    await expect.poll(() => page.locator("li.msg.me .text").last().textContent()).toBe("/help");
  });

  it("keeps the text when the network itself fails", async () => {
    const page = await chat.newPage({ ...DESKTOP, locale: "ru-RU", timezoneId: "Asia/Bishkek" });
    await openChat(page, chat.base);
    await waitForBot(page, visible(ru.onboarding.welcome));
    await page.route("**/chat/send", (route) => route.abort("connectionrefused"));
    await type(page, "салам");
    await expect.poll(() => page.locator("#toast").textContent()).toBe(ru.webchat.unavailable);
    await expect.poll(() => page.locator("#input").inputValue()).toBe("салам");
  });
});
