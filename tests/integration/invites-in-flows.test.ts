import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app";
import { createInvite, hashInviteCode } from "../../src/core/invites";
import { auditLog, invites, roleGrants, users } from "../../src/db/schema";
import {
  type MunicipalityDetails,
  searchMunicipalities,
  seedDemoDirectoryIfEmpty,
} from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { startTestApp } from "../helpers/app";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";
import { WebchatClient } from "../helpers/webchat";

const ru = translator("ru");
const ky = translator("ky");
const en = translator("en");
const LANGUAGE_BUTTONS = ["lang:ky", "lang:ru", "lang:en"];

/**
 * An invite code pasted before onboarding is finished: WhatsApp and the web chat have no deep
 * links, so people paste the code wherever the bot happens to be waiting.
 */
describe("invite codes typed inside a flow", () => {
  let sokuluk: MunicipalityDetails;
  let other: MunicipalityDetails;
  const handle = useTestDatabase(async (db) => {
    await seedDemoDirectoryIfEmpty(db);
    sokuluk = (await searchMunicipalities(db, "Сокулук", 1))[0]!.municipality;
    other = (await searchMunicipalities(db, "Джети-Огуз", 1))[0]!.municipality;
  });

  async function userOf(chatId: number) {
    const [row] = await handle.db.select().from(users).where(eq(users.chatId, chatId));
    return row!;
  }
  async function grantsOf(chatId: number) {
    const user = await userOf(chatId);
    return handle.db
      .select({ role: roleGrants.role, municipalityId: roleGrants.municipalityId })
      .from(roleGrants)
      .where(eq(roleGrants.userId, user.id));
  }

  it("redeems a code typed at the language step, re-asks in the app's language and skips the municipality", async () => {
    const t = createTestBot(handle.db);
    const p = person(4101, "ru");
    await t.send(textUpdate(p, "/start"));
    const code = (await createInvite(handle.db, { role: "staff", municipalityId: sokuluk.id }))
      .code;
    // Typed by hand: lower case, spaces instead of dashes.
    await t.send(textUpdate(p, code.toLowerCase().replace(/-/g, " ")));

    expect(await grantsOf(p.id)).toEqual([{ role: "staff", municipalityId: sokuluk.id }]);
    const [told, asked] = t.texts().slice(-2);
    expect(told).toContain(
      ru("invite.redeemed", {
        role: ru("roles.staff"),
        where: ru("invite.redeemed_where", { municipality: sokuluk.nameRu }),
      }),
    );
    expect(told).toContain(ru("invite.municipality_set", { municipality: sokuluk.nameRu }));
    // The language question again, in the language the person's app uses (not the default).
    expect(asked).toBe(ru("language.choose"));
    expect(t.lastButtons().map((b) => b.data)).toEqual(LANGUAGE_BUTTONS);

    // The flow goes on; the invite's municipality is theirs, so that step is skipped.
    await t.send(pressUpdate(p, "lang:ru"));
    expect(t.texts().at(-1)).toBe(ru("onboarding.topics_ask"));
    await t.send(pressUpdate(p, "topics:done"));
    await t.send(pressUpdate(p, "consent:yes"));
    expect(t.texts().at(-1)).toBe(ru("onboarding.finished", { name: sokuluk.nameRu }));
    const row = await userOf(p.id);
    expect(row.municipalityId).toBe(sokuluk.id);
    expect(row.consentAt).toBeInstanceOf(Date);

    // Redeemed once, although every later update replayed the step that redeemed it.
    const audits = await handle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "role.grant"), eq(auditLog.actorUserId, row.id)));
    expect(audits).toHaveLength(1);
  });

  it("says why a code does nothing and asks again, in Kyrgyz or English as the app is", async () => {
    const t = createTestBot(handle.db);
    const kyPerson = person(4102, "ky");
    await t.send(textUpdate(kyPerson, "/start"));
    await t.send(textUpdate(kyPerson, "AAAA-BBBB-CCC1"));
    expect(t.texts().slice(-2)).toEqual([ky("invite.invalid"), ky("language.choose")]);
    expect(t.lastButtons().map((b) => b.data)).toEqual(LANGUAGE_BUTTONS);

    const enPerson = person(4103, "en");
    const used = await createInvite(handle.db, { role: "deputy", municipalityId: sokuluk.id });
    await handle.db
      .update(invites)
      .set({ usedAt: new Date() })
      .where(eq(invites.codeHash, hashInviteCode(used.code)));
    await t.send(textUpdate(enPerson, "/start"));
    await t.send(textUpdate(enPerson, used.code));
    expect(t.texts().slice(-2)).toEqual([en("invite.used"), en("language.choose")]);
    expect(await grantsOf(enPerson.id)).toEqual([]);
  });

  it("redeems a code typed at the municipality step instead of searching it as a place", async () => {
    const t = createTestBot(handle.db);
    const p = person(4104, "ru");
    await t.send(textUpdate(p, "/start"));
    await t.send(pressUpdate(p, "lang:ky"));
    expect(t.texts().at(-1)).toBe(ky("onboarding.municipality_ask"));

    // A lawyer's invite has no municipality: the step asks its question again.
    const lawyer = await createInvite(handle.db, { role: "lawyer", municipalityId: null });
    await t.send(textUpdate(p, lawyer.code));
    expect(t.texts().slice(-2)).toEqual([
      ky("invite.redeemed", { role: ky("roles.lawyer"), where: "" }),
      ky("onboarding.municipality_ask"),
    ]);
    expect(t.texts()).not.toContain(
      ky("onboarding.municipality_not_found", { query: lawyer.code }),
    );

    // A deputy's invite answers the step: the flow goes on to the topics.
    const deputy = await createInvite(handle.db, { role: "deputy", municipalityId: other.id });
    await t.send(textUpdate(p, deputy.code));
    expect(t.texts().at(-2)).toContain(
      ky("invite.municipality_set", { municipality: other.nameKy }),
    );
    expect(t.texts().at(-1)).toBe(ky("onboarding.topics_ask"));
    expect(await grantsOf(p.id)).toEqual(
      expect.arrayContaining([
        { role: "lawyer", municipalityId: null },
        { role: "deputy", municipalityId: other.id },
      ]),
    );
    expect((await userOf(p.id)).municipalityId).toBe(other.id);
  });

  it("keeps a municipality the person chose; a code in the /settings menu redraws the menu", async () => {
    const t = createTestBot(handle.db);
    const p = person(4105, "ru");
    await t.send(textUpdate(p, "/start"));
    await t.send(pressUpdate(p, "lang:ru"));
    await t.send(textUpdate(p, "Сокулук"));
    await t.send(pressUpdate(p, t.lastButtons().find((b) => b.data.startsWith("mun:"))!.data));
    await t.send(pressUpdate(p, "topics:done"));
    await t.send(pressUpdate(p, "consent:yes"));

    await t.send(textUpdate(p, "/settings"));
    const menu = t.texts().at(-1)!;
    const code = (await createInvite(handle.db, { role: "staff", municipalityId: other.id })).code;
    await t.send(textUpdate(p, code));
    const [told, redrawn] = t.texts().slice(-2);
    expect(told).toBe(
      ru("invite.redeemed", {
        role: ru("roles.staff"),
        where: ru("invite.redeemed_where", { municipality: other.nameRu }),
      }),
    );
    expect(redrawn).toBe(menu);
    expect((await userOf(p.id)).municipalityId).toBe(sokuluk.id);
    expect(await grantsOf(p.id)).toEqual([{ role: "staff", municipalityId: other.id }]);
    // Still the menu's conversation: its buttons work.
    await t.send(pressUpdate(p, "settings:close"));
    expect(t.texts().at(-1)).toBe(ru("settings.closed"));
  });

  it("still redeems a code sent outside any flow", async () => {
    const t = createTestBot(handle.db);
    const p = person(4106, "ru");
    await t.send(textUpdate(p, "/help"));
    const code = (await createInvite(handle.db, { role: "deputy", municipalityId: other.id })).code;
    await t.send(textUpdate(p, code));
    expect(t.texts().at(-1)).toContain(
      ru("invite.redeemed", {
        role: ru("roles.deputy"),
        where: ru("invite.redeemed_where", { municipality: other.nameRu }),
      }),
    );
    expect(await grantsOf(p.id)).toEqual([{ role: "deputy", municipalityId: other.id }]);
    expect((await userOf(p.id)).municipalityId).toBe(other.id);
  });
});

describe("invite codes typed inside a flow, in the web chat", () => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startTestApp());
  });
  afterAll(() => app.stop());

  it("redeems a pasted code at the language step and asks again in the browser's language", async () => {
    const db = app.database.db;
    const m = (await searchMunicipalities(db, "Сокулук", 1))[0]!.municipality;
    const browser = new WebchatClient(base, "ru-RU,ru;q=0.9,en;q=0.5");
    await browser.session();
    await browser.send("/start");
    await browser.waitFor((msg) => msg.fromBot && (msg.buttons?.length ?? 0) > 0);
    const code = (await createInvite(db, { role: "staff", municipalityId: m.id })).code;
    await browser.send(code);
    await browser.waitFor((msg) => msg.fromBot && msg.text === ru("language.choose"));
    const redeemed = ru("invite.redeemed", {
      role: ru("roles.staff"),
      where: ru("invite.redeemed_where", { municipality: m.nameRu }),
    });
    const texts = (await browser.history()).filter((msg) => msg.fromBot).map((msg) => msg.text);
    expect(texts.some((text) => text?.startsWith(redeemed))).toBe(true);
    const grants = await db
      .select({ role: roleGrants.role, municipalityId: roleGrants.municipalityId })
      .from(roleGrants)
      .where(eq(roleGrants.userId, browser.userId));
    expect(grants).toEqual([{ role: "staff", municipalityId: m.id }]);
  });
});
