import { and, eq } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import en from "../../locales/en.json";
import ky from "../../locales/ky.json";
import ru from "../../locales/ru.json";
import type { App } from "../../src/app";
import { createInvite } from "../../src/core/invites";
import { createSyntheticUser, updateUserSettings } from "../../src/core/people";
import { deliveries, users } from "../../src/db/schema";
import { sendToUsers } from "../../src/delivery";
import { createAnnouncement } from "../../src/features/announcements/service";
import { startTestApp } from "../helpers/app";
import { canRunBrowser, DESKTOP, launchBrowser, PHONE, visible } from "../helpers/browser";
import { bubbles, onboardToTopics, openChat, type, waitForBot } from "../helpers/webchat-page";

/**
 * What hurt a newcomer on the web chat, in Chromium against the real app in this process (real
 * HTTP, bot, database, delivery engine and scheduler): replies after a reload, messages sent
 * while the tab was closed, messages arriving together, the length limit, button labels on a
 * phone and a desktop, and the page's own language.
 */

const PING_MS = 400;

describe.skipIf(!canRunBrowser)("web chat: a newcomer's first steps", () => {
  let app: App;
  let base: string;
  let browser: Browser;
  let municipalityId: number;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ app, base, municipalityId } = await startTestApp({ webchatPingMs: PING_MS }));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  async function open(
    options: { locale?: string; device?: typeof PHONE | typeof DESKTOP } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      ...(options.device ?? DESKTOP),
      locale: options.locale ?? "ky-KG",
      timezoneId: "Asia/Bishkek",
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    return { context, page };
  }

  const botTexts = (page: Page) => bubbles(page).allTextContents();

  /** A resident set up directly in the database (onboarding itself is tested elsewhere). */
  async function settle(userId: number, locale: "ky" | "ru" | "en" = "ky"): Promise<void> {
    await updateUserSettings(app.database.db, userId, {
      locale,
      municipalityId,
      consentAt: new Date(),
    });
  }

  it("keeps answering after a reload and a keep-alive, and heals a lost stream", async () => {
    const { page } = await open();
    const userId = await openChat(page, base);
    await waitForBot(page, visible(ky.onboarding.welcome));
    await settle(userId);

    await page.reload();
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("online");
    // Past several keep-alives of the old stream (the old code dropped the new tab's listener
    // when the old stream's loop ended after its sleep). Time passing is the point; the wait is
    // a lower bound (a slow machine only lets more pings pass), so it cannot race.
    await page.waitForTimeout(PING_MS * 4);
    // One connection, the new tab's; polled, as a page on a loaded machine may be between a
    // ping and its reconnect (the old bug left none, for good).
    await expect.poll(() => app.webchat.hub.connections, { timeout: 15_000 }).toBe(1);
    await type(page, "/privacy");
    await waitForBot(page, visible(ky.privacy.text.replace("{{days}}", "180")));

    // The server forgets the page (as a restart of its instance would): the stream ends at its
    // next ping, the page reconnects by itself and replies reach it again.
    app.webchat.hub.closeAll();
    await expect.poll(() => app.webchat.hub.isConnected(userId), { timeout: 15_000 }).toBe(true);
    const before = (await botTexts(page)).length;
    await type(page, "/help");
    await expect.poll(async () => (await botTexts(page)).length).toBeGreaterThan(before);
    expect(pageErrors).toEqual([]);
  });

  it("shows what arrived while the tab was closed, marked new, and counts it then", async () => {
    const { context, page: first } = await open({ device: PHONE });
    const userId = await openChat(first, base);
    await waitForBot(first, visible(ky.onboarding.welcome));
    await settle(userId);
    await first.close();
    await expect.poll(() => app.webchat.hub.isConnected(userId)).toBe(false);

    const staff = await createSyntheticUser(app.database.db, "web", "staff-e2e", "ky");
    const message = await createAnnouncement(
      app.database.db,
      { userId: staff.id, roles: [{ role: "staff", municipalityId }] },
      { municipalityId, text: { ky: "Бейшемби күнү суу болбойт" } },
    );
    const status = async () =>
      (
        await app.database.db
          .select({ status: deliveries.status })
          .from(deliveries)
          .where(and(eq(deliveries.messageId, message.id), eq(deliveries.userId, userId)))
      )[0]?.status;
    await expect.poll(status, { timeout: 20_000 }).toBe("held");

    // They come back (same browser, new tab): the announcement is there, after a divider.
    const page = await context.newPage();
    expect(await openChat(page, base)).toBe(userId);
    await waitForBot(page, "Бейшемби күнү суу болбойт");
    const divider = page.locator("li.unread-divider");
    await expect.poll(() => divider.isVisible()).toBe(true);
    expect(await divider.textContent()).toContain(ky.webchat.unread);
    expect(
      await page.locator("li.msg.unread", { hasText: "Бейшемби күнү суу болбойт" }).count(),
    ).toBe(1);
    await expect.poll(status).toBe("sent");
    await page.screenshot({ path: "/tmp/webchat-unread-phone.png" });

    // Seen once: after another reload nothing is new.
    await page.reload();
    await waitForBot(page, "Бейшемби күнү суу болбойт");
    expect(await page.locator("li.unread-divider").count()).toBe(0);
  });

  it("takes an invite code pasted at the language step and at the municipality step", async () => {
    const db = app.database.db;
    // At the language step, in a Russian browser: the code is redeemed and the question comes
    // again in Russian; the staff invite also settles the municipality.
    const staffInvite = await createInvite(db, { role: "staff", municipalityId });
    const { page } = await open({ locale: "ru-RU" });
    const staffId = await openChat(page, base);
    await waitForBot(page, visible(ru.onboarding.welcome));
    await type(page, staffInvite.code);
    await waitForBot(page, visible(ru.invite.redeemed));
    await waitForBot(page, ru.language.choose);
    await page.locator("li.msg.bot").last().getByRole("button", { name: ru.language.name }).click();
    await waitForBot(page, visible(ru.onboarding.topics_ask));
    const [staff] = await db.select().from(users).where(eq(users.id, staffId));
    expect(staff?.municipalityId).toBe(municipalityId);

    // At the municipality step: not searched as a place name, redeemed, and the flow goes on.
    const deputyInvite = await createInvite(db, { role: "deputy", municipalityId });
    const other = await open({ locale: "ky-KG", device: PHONE });
    await openChat(other.page, base);
    await waitForBot(other.page, visible(ky.onboarding.welcome));
    await other.page.getByRole("button", { name: ky.language.name }).click();
    await waitForBot(other.page, visible(ky.onboarding.municipality_ask));
    await type(other.page, deputyInvite.code.toLowerCase());
    await waitForBot(other.page, visible(ky.invite.redeemed));
    await waitForBot(other.page, visible(ky.onboarding.topics_ask));
    // Not searched as a place name ("«code» was not found").
    const code = deputyInvite.code.toLowerCase();
    expect((await botTexts(other.page)).filter((t) => t.includes(code))).toEqual([]);
  });

  it("ends an open /settings menu when the person types a question", async () => {
    const { page } = await open({ locale: "ru-RU" });
    const userId = await openChat(page, base);
    await waitForBot(page, visible(ru.onboarding.welcome));
    await settle(userId, "ru");
    await type(page, "/settings");
    await waitForBot(page, visible(ru.settings.menu));
    const menus = async () =>
      (await botTexts(page)).filter((t) => t.includes(visible(ru.settings.menu))).length;
    expect(await menus()).toBe(1);
    await type(page, "Сколько депутатов в айылном кенеше?");
    await waitForBot(page, visible(ru.faq.checked));
    expect(await menus()).toBe(1);
  });

  it("scrolls messages that arrive together into view, unless the person scrolled up", async () => {
    const { page } = await open({ device: { ...DESKTOP, viewport: { width: 1280, height: 600 } } });
    const userId = await openChat(page, base);
    await waitForBot(page, visible(ky.onboarding.welcome));
    await settle(userId);
    for (let i = 0; i < 3; i++) {
      await type(page, "/help");
      await expect.poll(async () => (await page.locator("li.msg.bot").count()) >= i + 2).toBe(true);
    }
    const [person] = await app.database.db.select().from(users).where(eq(users.id, userId));
    const burst = async (label: string) => {
      for (let i = 1; i <= 3; i++) {
        await sendToUsers(app.database.db, {
          kind: "system",
          municipalityId,
          createdByUserId: null,
          content: { text: { ky: `${label} ${i}\n${"Маалымат. ".repeat(30)}` } },
          userIds: [person!.id],
        });
      }
      await waitForBot(page, `${label} 3`);
    };
    await burst("Кабар");
    const lastInView = () =>
      page.evaluate(() => {
        const scroller = document.getElementById("scroller")!;
        const last = document.querySelector("#transcript li.msg:last-child")!;
        return last.getBoundingClientRect().bottom <= scroller.getBoundingClientRect().bottom + 1;
      });
    await expect.poll(lastInView).toBe(true);

    // Scrolled up to read: new messages do not pull the page down.
    await page.locator("#scroller").evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    await burst("Жаңылык");
    expect(await page.locator("#scroller").evaluate((el) => el.scrollTop)).toBeLessThan(50);
    expect(await lastInView()).toBe(false);
  });

  it("shows one length limit as the person types and never cuts a paste", async () => {
    const { page } = await open({ locale: "ru-RU" });
    const userId = await openChat(page, base);
    await waitForBot(page, visible(ru.onboarding.welcome));
    await settle(userId, "ru");
    await page.reload();
    await expect.poll(() => page.locator("#status").getAttribute("data-state")).toBe("online");

    const input = page.locator("#input");
    await input.fill("я".repeat(5000));
    expect((await input.inputValue()).length).toBe(5000);
    await expect.poll(() => page.locator("#counter").isVisible()).toBe(true);
    const counter = (await page.locator("#counter").textContent()) ?? "";
    expect(counter.replace(/\s/g, "")).toContain("5000/4096");
    expect(await page.locator("#send").isDisabled()).toBe(true);

    // A long, real question right at the limit is taken and answered (no "keep it under").
    const question = "Сколько депутатов в айылном кенеше? ";
    await input.fill(question.repeat(Math.floor(4096 / question.length)).trim());
    expect(await page.locator("#send").isDisabled()).toBe(false);
    const before = await page.locator("li.msg.bot").count();
    await input.press("Enter");
    await expect.poll(() => page.locator("li.msg.bot").count()).toBeGreaterThan(before);
    const reply = (await botTexts(page)).at(-1) ?? "";
    expect(reply).not.toContain(visible(ru.errors.too_long));
  });

  it("keeps whole words on buttons, on a phone and on a desktop", async () => {
    for (const device of [PHONE, DESKTOP]) {
      const { page } = await open({ device });
      await openChat(page, base);
      await onboardToTopics(page);
      const broken = await page.evaluate(() => {
        const out: string[] = [];
        for (const button of Array.from(document.querySelectorAll("button.kb, a.kb"))) {
          const text = button.firstChild;
          if (!text || text.nodeType !== Node.TEXT_NODE) continue;
          const value = text.textContent ?? "";
          for (const match of value.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(text, match.index);
            range.setEnd(text, match.index + match[0].length);
            const lines = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top)));
            if (lines.size > 1) out.push(match[0]);
          }
        }
        return out;
      });
      expect(broken).toEqual([]);
      await page.screenshot({
        path: `/tmp/webchat-buttons-${device === PHONE ? "phone" : "desktop"}.png`,
      });
    }
  });

  it("speaks the person's chosen language, not the browser's, once they chose", async () => {
    const { page } = await open({ locale: "en-US" });
    await openChat(page, base);
    await waitForBot(page, visible(en.onboarding.welcome));
    expect(await page.locator("#input").getAttribute("placeholder")).toBe(en.webchat.placeholder);
    await page.getByRole("button", { name: ru.language.name }).click();
    await waitForBot(page, ru.language.saved);
    await expect
      .poll(() => page.locator("#input").getAttribute("placeholder"))
      .toBe(ru.webchat.placeholder);
    await page.reload();
    await expect.poll(() => page.locator("html").getAttribute("lang")).toBe("ru");
    expect(await page.locator("#input").getAttribute("placeholder")).toBe(ru.webchat.placeholder);
  });
});
