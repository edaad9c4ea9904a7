import { eq } from "drizzle-orm";
import type { MessageEntity } from "grammy/types";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { roleGrants, users } from "../../src/db/schema";
import { createAnnouncement } from "../../src/features/announcements/service";
import { parseEntry } from "../../src/features/faq/entries";
import { escalate } from "../../src/features/faq/escalation";
import { faqServiceOf } from "../../src/features/faq/service";
import { canRunBrowser, DESKTOP, visible } from "../helpers/browser";
import {
  finishOnboarding,
  onboardToTopics,
  openChat,
  press,
  type,
  useWebchatBrowser,
  waitForBot,
} from "../helpers/webchat-page";

/**
 * Whatever a person or an FAQ entry writes stays text in the web chat page (Chromium against
 * the real app): markup and script payloads in a visitor's own message and in the bot's reply
 * quoting it, in a person's name (/mydata), in a question a lawyer receives, in an FAQ entry
 * and in a broadcast. In each case nothing ran (window.__xss), no element came out of the
 * payload (no img, script, svg, iframe, no on* attribute, no javascript: link), the CSP saw
 * nothing to block, and the payload's characters are on the page as typed. The page's headers
 * and its cookie are checked in the browser too.
 */

const PAYLOADS = [
  `<img src=x onerror="window.__xss=1">`,
  `<script>window.__xss=1</script>`,
  `"><svg onload=window.__xss=1>`,
  `<a href="javascript:window.__xss=1">link</a>`,
  `javascript:window.__xss=1`,
  `<b>bold</b>`,
  `&lt;i&gt; &amp;amp; &#60;u&#62; &quot;`,
  `<iframe src="javascript:window.__xss=1"></iframe>`,
] as const;
const ALL = PAYLOADS.join(" ");

/** Elements a payload could become that run code or load something. */
const ACTIVE = "img, script, svg, iframe, object, embed, style, link, form, input, frame, video";

interface Probe {
  __xss?: unknown;
  __violations?: string[];
}

/** Notes every CSP violation of the page: an injected handler or script would cause one. */
async function watchViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as Probe;
    w.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      w.__violations?.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

/** `texts` are on the page as typed, and nothing in the transcript came out of markup. */
async function expectShownAsText(page: Page, texts: readonly string[]): Promise<void> {
  const transcript = page.locator("#transcript");
  const shown = (await transcript.textContent()) ?? "";
  for (const text of texts) expect(shown).toContain(text);
  const found = await transcript.evaluate((root, active) => {
    const elements = Array.from(root.querySelectorAll("*"));
    return {
      active: Array.from(root.querySelectorAll(active)).map((el) => el.outerHTML),
      handlers: elements.flatMap((el) =>
        Array.from(el.attributes)
          .filter((a) => a.name.toLowerCase().startsWith("on"))
          .map((a) => `${el.localName} ${a.name}`),
      ),
      links: elements
        .filter((el): el is HTMLAnchorElement => el instanceof HTMLAnchorElement)
        .map((a) => a.href)
        .filter((href) => !/^(https?|tg):/.test(href)),
    };
  }, ACTIVE);
  expect(found).toEqual({ active: [], handlers: [], links: [] });
  const probe = await page.evaluate(() => {
    const w = window as unknown as Probe;
    return { xss: w.__xss, violations: w.__violations };
  });
  expect(probe).toEqual({ xss: undefined, violations: [] });
}

/** The visitor's own messages, as the page shows them. */
const mine = (page: Page) => page.locator("li.msg.me .text");

/** Types `text` and waits for the page to show it as the visitor's message. */
async function send(page: Page, text: string): Promise<void> {
  const before = await mine(page).count();
  await type(page, text);
  await expect.poll(() => mine(page).count(), { timeout: 15_000 }).toBeGreaterThan(before);
}

describe.skipIf(!canRunBrowser)("markup and script in the web chat stay text", () => {
  const chat = useWebchatBrowser();

  /** A page of a new visitor, watched for CSP violations. */
  async function visitor(): Promise<{ page: Page; userId: number }> {
    const page = await chat.newPage({ ...DESKTOP, locale: "ky-KG" });
    await watchViolations(page);
    const userId = await openChat(page, chat.base);
    await waitForBot(page, visible(ky.onboarding.welcome));
    return { page, userId };
  }

  /** A visitor who went through onboarding; returns their municipality too. */
  async function resident(): Promise<{ page: Page; userId: number; municipalityId: number }> {
    const person = await visitor();
    await onboardToTopics(person.page);
    await finishOnboarding(person.page);
    const [row] = await chat.app.database.db
      .select({ municipalityId: users.municipalityId })
      .from(users)
      .where(eq(users.id, person.userId));
    return { ...person, municipalityId: Number(row?.municipalityId) };
  }

  it("shows a visitor's messages, and the bot's reply quoting one, as typed", async () => {
    // During onboarding the bot quotes what was typed as the municipality (up to 200 characters).
    const { page } = await visitor();
    await page.getByRole("button", { name: ky.language.name }).click();
    await waitForBot(page, visible(ky.onboarding.municipality_ask));
    const query = [...PAYLOADS.slice(0, 4), PAYLOADS[5]].join(" ");
    await send(page, query);
    await waitForBot(page, `«${query}»`);
    expect(await mine(page).last().textContent()).toBe(query);
    await expectShownAsText(page, [query]);

    // Each payload alone, as a resident's question.
    const other = await resident();
    for (const payload of PAYLOADS) {
      await send(other.page, payload);
      expect(await mine(other.page).last().textContent()).toBe(payload);
    }
    await waitForBot(other.page, visible(ky.faq.no_answer));
    await expectShownAsText(other.page, PAYLOADS);
  });

  it("shows a person's name in /mydata, and a question in a lawyer's chat, as written", async () => {
    const { db } = chat.app.database;
    const asker = await resident();
    await db.update(users).set({ firstName: ALL }).where(eq(users.id, asker.userId));
    await send(asker.page, "/mydata");
    await waitForBot(asker.page, ALL);
    await expectShownAsText(asker.page, [ALL]);

    const lawyer = await resident();
    await db.insert(roleGrants).values({ userId: lawyer.userId, role: "lawyer" });
    const question = await escalate(db, {
      askerUserId: asker.userId,
      municipalityId: asker.municipalityId,
      text: ALL,
      lang: "ky",
      searchSnapshot: {},
    });
    await waitForBot(lawyer.page, visible(ky.faq.new_question));
    await waitForBot(lawyer.page, ALL);
    // Taken, the question is quoted once more.
    await press(lawyer.page, ky.faq.take_button.replace("{{id}}", String(question.id)));
    await expect
      .poll(
        async () =>
          (await lawyer.page.locator("li.msg.bot .text").allTextContents()).filter((x) =>
            x.includes(ALL),
          ).length,
        { timeout: 15_000 },
      )
      .toBe(2);
    await expectShownAsText(lawyer.page, [ALL]);
  });

  it("shows an FAQ entry's question, answer and source as written", async () => {
    const question = `Жайыт ижарасы кантип төлөнөт ${PAYLOADS.slice(0, 3).join(" ")} ${PAYLOADS[5]}`;
    const answer = `Жайыт комитетине төлөнөт. ${ALL}`;
    const source = `<a href="javascript:window.__xss=1">Жайыттар жөнүндө мыйзам</a>`;
    await faqServiceOf(chat.app.database.db).publish(
      parseEntry({
        id: "xss-probe",
        topic: "test",
        question: { ky: question },
        answer: { ky: answer },
        source,
        phrasings: { ky: [question] },
      }),
    );
    const { page } = await resident();
    await send(page, question);
    await waitForBot(page, answer);
    const reply = page.locator("li.msg.bot", { hasText: answer }).last();
    // The bot's own formatting stays (the question in bold), the entry's markup is text.
    expect(await reply.locator(".text > b").allTextContents()).toEqual([question]);
    expect(await reply.locator(".text b b, .text a").count()).toBe(0);
    await expectShownAsText(page, [question, answer, source]);
  });

  it("shows a broadcast as typed, with only the sender's formatting and web links kept", async () => {
    const { db } = chat.app.database;
    const neighbour = await resident();
    const municipality = neighbour.municipalityId;
    const staff = await resident();
    await db
      .insert(roleGrants)
      .values({ userId: staff.userId, role: "staff", municipalityId: municipality });

    const text = `Эртең суу өчөт. ${ALL} Толугу: сайтта, шилтеме`;
    const at = (part: string) => ({ offset: text.indexOf(part), length: part.length });
    const bold = PAYLOADS[5];
    const hostileLink = `https://example.org/" onmouseover="window.__xss=1`;
    const entities: MessageEntity[] = [
      { type: "bold", ...at(bold) },
      { type: "text_link", ...at("сайтта"), url: hostileLink },
      { type: "text_link", ...at("шилтеме"), url: "javascript:window.__xss=1" },
      { type: "text_link", ...at(PAYLOADS[4]), url: "javascript:window.__xss=1" },
    ];
    await createAnnouncement(
      db,
      { userId: staff.userId, roles: [{ role: "staff", municipalityId: municipality }] },
      { municipalityId: municipality, text: { ky: text }, entities: { ky: entities }, topic: null },
    );

    await waitForBot(neighbour.page, text);
    const copy = neighbour.page.locator("li.msg.bot", { hasText: text }).last();
    // Bold as the sender made it bold: the typed tags inside are characters.
    expect(await copy.locator(".text b").allTextContents()).toContain(bold);
    // The one web link is a link, its address whole (the quote cannot start an attribute).
    const links = await copy.locator(".text a").evaluateAll((as) =>
      as.map((a) => ({
        text: a.textContent,
        href: a.getAttribute("href"),
        attrs: a.attributes.length,
      })),
    );
    expect(links).toEqual([{ text: "сайтта", href: new URL(hostileLink).href, attrs: 3 }]);
    await expectShownAsText(neighbour.page, [text]);
  });

  it("sends its security headers and keeps the session cookie from scripts", async () => {
    const page = await chat.newPage({ ...DESKTOP, locale: "ky-KG" });
    await watchViolations(page);
    const response = await page.goto(chat.base);
    const headers = response?.headers() ?? {};
    const csp = headers["content-security-policy"] ?? "";
    const directives = new Map(
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([name, ...values]) => [name!, values]),
    );
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    // No external origin anywhere: only 'self', 'none' and the page's own data:/blob: images.
    for (const [name, values] of directives) {
      for (const value of values) {
        expect(["'self'", "'none'", "data:", "blob:"], `${name} ${value}`).toContain(value);
      }
    }
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");

    // The policy is in force: markup put into the live page cannot run inline code.
    await page.locator("#input").waitFor({ state: "visible" });
    await page.evaluate(() => {
      const box = document.createElement("div");
      box.innerHTML = `<img src="/nothing-here" onerror="window.__xss=1">`;
      document.body.append(box);
      const script = document.createElement("script");
      script.textContent = "window.__xss=2";
      document.body.append(script);
    });
    await expect
      .poll(() => page.evaluate(() => (window as unknown as Probe).__violations?.length ?? 0))
      .toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => (window as unknown as Probe).__xss)).toBeUndefined();

    // The session cookie: HttpOnly (not in document.cookie), SameSite=Lax, not Secure over http.
    await expect.poll(async () => (await page.context().cookies()).length).toBeGreaterThan(0);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({
      name: "aimak_chat",
      httpOnly: true,
      sameSite: "Lax",
      secure: false,
    });
    expect(await page.evaluate(() => document.cookie)).not.toContain("aimak_chat");

    // Behind a proxy that terminated https the cookie is Secure as well.
    const behindHttps = await fetch(`${chat.base}/chat/session`, {
      method: "POST",
      headers: { "x-forwarded-proto": "https" },
    });
    const setCookie = behindHttps.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^aimak_chat=/);
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*SameSite=Lax/i);
    expect(setCookie).toMatch(/;\s*Secure/i);
  });

  it("cannot be shown in a frame by another site when no site is configured", async () => {
    const page = await chat.newPage(DESKTOP);
    const site = "https://sokuluk.gov.kg";
    await page.route(`${site}/**`, (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><iframe src="${chat.base}/?framed=${route.request().url().endsWith("control") ? "control" : "real"}"></iframe>`,
      }),
    );
    // The control: the very same page, its two framing headers taken away, loads in the frame
    // (so what stops the real one is frame-ancestors, not the network or mixed content).
    await page.route(`${chat.base}/?framed=control`, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers["content-security-policy"];
      delete headers["x-frame-options"];
      await route.fulfill({ response, headers });
    });
    const framed = async (path: string) => {
      await page.goto(`${site}/${path}`, { waitUntil: "load" });
      const frame = await (await page.locator("iframe").elementHandle())?.contentFrame();
      return { url: frame?.url(), page: await frame?.locator("#transcript").count() };
    };
    expect(await framed("control")).toEqual({ url: `${chat.base}/?framed=control`, page: 1 });
    expect(await framed("real")).toEqual({ url: "chrome-error://chromewebdata/", page: 0 });
  });
});
