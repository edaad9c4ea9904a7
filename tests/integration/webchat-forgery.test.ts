import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { updateUserSettings } from "../../src/core/people";
import { outgoingMessages, webchatMessages } from "../../src/db/schema";
import { translator } from "../../src/i18n";
import { startTestApp } from "../helpers/app";
import { WebchatClient } from "../helpers/webchat";

const ky = translator("ky");

/**
 * Cross-site request forgery against the web chat, as it was found: a page on the same site
 * (another port of the municipality's host) makes a logged-in staff member's browser run
 * /broadcast and walk it to "send" with blind POSTs. Browsers attach the cookie (same site) but
 * the attacker can neither read the page's token nor send a custom header without CORS.
 */
describe("web chat: forged requests", () => {
  let app: App;
  let base: string;
  let staff: WebchatClient;
  let municipalityId: number;

  beforeAll(async () => {
    ({ app, base, municipalityId } = await startTestApp());
    const db = app.database.db;

    staff = new WebchatClient(base);
    await staff.session();
    await staff.becomePerson(app.database.db);
    await updateUserSettings(db, staff.userId, { locale: "ky", municipalityId });
    const invite = await createInvite(db, { role: "staff", municipalityId });
    expect(await redeemInvite(db, invite.code, staff.userId)).toMatchObject({ ok: true });
  });
  afterAll(() => app.stop());

  const storedTexts = async () =>
    (
      await app.database.db
        .select({ payload: webchatMessages.payload })
        .from(webchatMessages)
        .where(eq(webchatMessages.userId, staff.userId))
    ).map((r) => r.payload.text);

  it("refuses the attacker's blind chain and changes nothing", async () => {
    const attacker = "http://127.0.0.1:8081";
    // What the victim's browser sends for the attacker's page: the cookie, the attacker's
    // origin, no token; text/plain so that no CORS preflight stops it.
    const crossSite = {
      cookie: staff.cookie,
      "content-type": "text/plain;charset=UTF-8",
      origin: attacker,
      "sec-fetch-site": "same-site",
    };
    const chain: (() => Promise<Response>)[] = [
      () => staff.send("/broadcast", crossSite),
      () => staff.send("Суу берилбейт эртең", crossSite),
      () => staff.send("Воды завтра не будет", crossSite),
      () => staff.press(1, "ann:skip", crossSite),
      () => staff.press(2, "ann:aud:all", crossSite),
      () => staff.press(3, "ann:now", crossSite),
      () => staff.press(4, "ann:confirm", crossSite),
    ];
    for (const step of chain) {
      const res = await step();
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toBe(ky("errors.forged_request"));
    }

    // Each missing proof alone is enough to refuse: the token, JSON, the page's own origin.
    const page = staff.pageHeaders();
    const { "x-aimak-csrf": _token, ...noToken } = page;
    const variants: Record<string, string>[] = [
      noToken,
      { ...page, "x-aimak-csrf": "forged-token-forged-token-forged-token-0123" },
      { ...page, "content-type": "text/plain" },
      { ...page, origin: attacker },
      { ...page, "sec-fetch-site": "same-site" },
      { ...page, "sec-fetch-site": "cross-site" },
    ];
    for (const headers of variants) {
      expect((await staff.send("/broadcast", headers)).status).toBe(403);
    }

    expect(await storedTexts()).toEqual([]);
    const sent = await app.database.db.select().from(outgoingMessages);
    expect(sent).toEqual([]);
  });

  it("accepts the same request from the page itself", async () => {
    const res = await staff.send("/broadcast", {
      ...staff.pageHeaders(),
      origin: base,
      "sec-fetch-site": "same-origin",
    });
    expect(res.status).toBe(202);
    // The bot started the broadcast flow for the page.
    await staff.waitFor((m) => m.fromBot);
    expect(await storedTexts()).toContain("/broadcast");
  });

  it("accepts a press only with data the bot put on that message", async () => {
    const resident = new WebchatClient(base, "ru-RU,ru;q=0.9");
    await resident.session();
    expect((await resident.send("/start")).status).toBe(202);
    const welcome = await resident.waitFor((m) => m.fromBot && (m.buttons?.length ?? 0) > 0);
    const data = welcome.buttons?.flat().map((b) => b.callbackData) ?? [];
    expect(data).toContain("lang:ru");

    for (const forged of ["ann:confirm", "settings:close", "lang:xx", "lang:ru "]) {
      expect((await resident.press(welcome.id, forged)).status).toBe(404);
    }
    // Someone else's message with its real data is refused too.
    expect((await staff.press(welcome.id, "lang:ru")).status).toBe(404);

    expect((await resident.press(welcome.id, "lang:ru")).status).toBe(202);
    await resident.waitFor((m) => m.fromBot && m.text === translator("ru")("language.saved"));
  });
});
