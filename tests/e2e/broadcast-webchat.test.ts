import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import type { App } from "../../src/app";
import { updateUserSettings } from "../../src/core/people";
import { roleGrants } from "../../src/db/schema";
import { senderNames } from "../../src/features/announcements/service";
import { startTestApp } from "../helpers/app";
import { canRunBrowser, DESKTOP, launchBrowser, visible } from "../helpers/browser";
import { openChat, press, type, waitForBot } from "../helpers/webchat-page";

/**
 * A broadcast composed by a staff member in the web chat, in Chromium against the real app
 * (HTTP, bot, conversations, delivery engine): `<b>` typed into the announcement is shown as
 * typed — in the staff member's preview and in a resident's web chat alike — under the sender
 * line, which is bold in both.
 */
describe.skipIf(!canRunBrowser)("a broadcast in the web chat", () => {
  let app: App;
  let base: string;
  let browser: Browser;
  let municipalityId: number;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    ({ app, base, municipalityId } = await startTestApp());
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  /** A person's page, set up as a resident of the municipality (onboarding is tested elsewhere). */
  async function resident(): Promise<{ page: Page; userId: number }> {
    const context = await browser.newContext({ ...DESKTOP, locale: "ky-KG" });
    contexts.push(context);
    const page = await context.newPage();
    const userId = await openChat(page, base);
    await updateUserSettings(app.database.db, userId, {
      locale: "ky",
      municipalityId,
      consentAt: new Date(),
    });
    return { page, userId };
  }

  it("shows typed markup as typed in the preview and in the resident's copy", async () => {
    const staff = await resident();
    await app.database.db
      .insert(roleGrants)
      .values({ userId: staff.userId, role: "staff", municipalityId });
    const neighbour = await resident();
    const sender = (await senderNames(app.database.db, municipalityId)).ky;

    await type(staff.page, "/broadcast");
    await waitForBot(staff.page, visible(ky.announcements.ask_text_ky));
    const typed = "Эртең <b>суу</b> & жарык өчөт";
    await type(staff.page, typed);
    await waitForBot(staff.page, visible(ky.announcements.ask_text_ru));
    await press(staff.page, ky.announcements.skip);
    await waitForBot(staff.page, visible(ky.announcements.ask_media));
    await press(staff.page, ky.announcements.no_media);
    await waitForBot(staff.page, visible(ky.announcements.ask_audience));
    await press(staff.page, ky.announcements.audience_all);

    // The preview in the staff member's chat, as the page shows it.
    const shown = `📢 ${sender}\n\n${typed}`;
    await waitForBot(staff.page, typed);
    const preview = staff.page.locator("li.msg.bot", { hasText: typed }).last();
    expect(await preview.locator(".text").textContent()).toBe(shown);
    expect(await preview.locator(".text b").allTextContents()).toEqual([sender]);

    await press(staff.page, ky.announcements.send_now);
    await press(staff.page, ky.announcements.confirm);

    // The resident's copy: the same, character for character.
    await waitForBot(neighbour.page, typed);
    const copy = neighbour.page.locator("li.msg.bot", { hasText: typed }).last();
    expect(await copy.locator(".text").textContent()).toBe(shown);
    expect(await copy.locator(".text b").allTextContents()).toEqual([sender]);
    await neighbour.page.screenshot({ path: "/tmp/webchat-broadcast-as-typed.png" });
  });
});
