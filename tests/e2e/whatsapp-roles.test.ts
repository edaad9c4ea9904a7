import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import ru from "../../locales/ru.json";
import { createInvite } from "../../src/core/invites";
import { municipalities, roleGrants } from "../../src/db/schema";
import { translator } from "../../src/i18n";
import { type Person, textOf } from "../fixtures/fake-graph-api/server";
import { META_PAIR_BURST, type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";
import { peopleOf } from "../helpers/whatsapp-people";

const tru = translator("ru");
const tky = translator("ky");

/**
 * Invite codes on WhatsApp, which has no deep links: people paste the code they were given as a
 * message, as their very first one (onboarding starts and the code is redeemed), in the middle
 * of onboarding, or any time after.
 */
describe("WhatsApp: invite codes typed as text", () => {
  let wa: RunningWhatsApp;

  beforeAll(async () => {
    wa = await startWhatsAppApp({ fake: { pairLimit: META_PAIR_BURST } });
  });
  afterAll(async () => {
    await wa?.stop();
  });

  const { answerTo, choose, option, userOf, greetAndChoose, onboardInRussian } = peopleOf(() => wa);

  async function rolesOf(p: Person) {
    const user = await userOf(p);
    return (
      await wa.app.database.db.select().from(roleGrants).where(eq(roleGrants.userId, user.id))
    ).map((g) => ({ role: g.role, municipalityId: g.municipalityId }));
  }

  async function municipality(index: number) {
    const rows = await wa.app.database.db
      .select()
      .from(municipalities)
      .orderBy(municipalities.id)
      .limit(index + 1);
    return rows[index]!;
  }

  it("takes a code as a newcomer's first message: onboarding starts and the code is redeemed", async () => {
    const m = await municipality(3);
    const invite = await createInvite(wa.app.database.db, { role: "deputy", municipalityId: m.id });
    const p = wa.person("Жаныл", "996700777888");
    // Pasted in lower case, with spaces: still the code.
    const typed = invite.code.toLowerCase().replaceAll("-", " ");
    const first = await answerTo(p, () => wa.fake.sendText(p, typed));
    // Nobody has chosen a language yet: Kyrgyz, the default.
    const where = tky("invite.redeemed_where", { municipality: m.nameKy });
    expect(first.map(textOf)).toEqual([
      expect.stringContaining("*Аймак*"),
      `${tky("invite.redeemed", { role: ky.roles.deputy, where })}\n\n${tky(
        "invite.municipality_set",
        { municipality: m.nameKy },
      )}`,
      ky.language.choose,
    ]);
    expect(await rolesOf(p)).toEqual([{ role: "deputy", municipalityId: m.id }]);
    expect((await userOf(p)).municipalityId).toBe(m.id);

    // The invite gave them their municipality: onboarding does not ask for it.
    const [saved, topics] = await answerTo(p, () =>
      choose(p, first[2]!, option(first[2], ru.language.name)),
    );
    expect(textOf(saved!)).toBe(ru.language.saved);
    expect(textOf(topics!)).toBe(ru.onboarding.topics_ask);
    const [, consent] = await answerTo(p, () => choose(p, topics!, option(topics, ru.common.done)));
    const finished = await answerTo(p, () =>
      wa.fake.pressButton(p, option(consent, ru.onboarding.consent_agree)),
    );
    expect(finished.map(textOf)).toEqual([tru("onboarding.finished", { name: m.nameRu })]);
    expect(wa.fake.stats().refused).toEqual({});
  });

  it("takes a code in the middle of onboarding, and answers it in place of the municipality", async () => {
    const m = await municipality(5);
    const invite = await createInvite(wa.app.database.db, { role: "staff", municipalityId: m.id });
    const p = wa.person("Эрмек", "996700888999");
    const [, ask] = await greetAndChoose(p, "Салам", ru.language.name);
    expect(textOf(ask!)).toBe(ru.onboarding.municipality_ask);
    const redeemed = await answerTo(p, () => wa.fake.sendText(p, invite.code));
    const where = tru("invite.redeemed_where", { municipality: m.nameRu });
    expect(redeemed.map(textOf)).toEqual([
      `${tru("invite.redeemed", { role: ru.roles.staff, where })}\n\n${tru(
        "invite.municipality_set",
        { municipality: m.nameRu },
      )}`,
      ru.onboarding.topics_ask,
    ]);
    expect(await rolesOf(p)).toEqual([{ role: "staff", municipalityId: m.id }]);
    expect((await userOf(p)).municipalityId).toBe(m.id);
    expect(wa.fake.stats().refused).toEqual({});
  });

  it("takes a code after onboarding; the menu then shows the role; a used or wrong code is refused", async () => {
    const p = wa.person("Айбек", "996700999000");
    await onboardInRussian(p);

    const before = await answerTo(p, () => wa.fake.sendText(p, "menu"));
    expect(textOf(before[0]!)).not.toContain(ru.help.lawyer);

    const invite = await createInvite(wa.app.database.db, { role: "lawyer", municipalityId: null });
    const redeemed = await answerTo(p, () => wa.fake.sendText(p, ` ${invite.code} `));
    expect(redeemed.map(textOf)).toEqual([
      tru("invite.redeemed", { role: ru.roles.lawyer, where: "" }),
    ]);
    expect(await rolesOf(p)).toEqual([{ role: "lawyer", municipalityId: null }]);
    const after = await answerTo(p, () => wa.fake.sendText(p, "меню"));
    expect(textOf(after[0]!)).toContain(ru.help.lawyer);
    expect(textOf(after[0]!)).toContain("/queue");

    const again = await answerTo(p, () => wa.fake.sendText(p, invite.code));
    expect(again.map(textOf)).toEqual([ru.invite.used]);
    const wrong = await answerTo(p, () => wa.fake.sendText(p, "ABCD-1234-EFGH"));
    expect(wrong.map(textOf)).toEqual([ru.invite.invalid]);
    expect(await rolesOf(p)).toHaveLength(1);
    expect(wa.fake.stats().refused).toEqual({});
  });
});
