import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ru from "../../locales/ru.json";
import { users } from "../../src/db/schema";
import { textOf } from "../fixtures/fake-graph-api/server";
import { findPerson } from "../helpers/personal-data";
import { type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";
import { peopleOf } from "../helpers/whatsapp-people";

const ANSWERABLE = "на каком языке можно подать обращение";
const UNANSWERABLE = "Можно ли депутату совмещать мандат с работой в школе?";
const NAME = "Айжамал Өчүрүлсүн";
const WA_ID = "996700777888";

/**
 * /mydata and /forgetme on WhatsApp, through the real app and the fake Graph API: the JSON
 * document arrives as an uploaded document; after "yes", nothing of the person is left in any
 * table — not in the webhook's inbox either, which kept their messages with their number and
 * name — and their next message starts onboarding as a newcomer's.
 */
describe("WhatsApp: a person's data on request and on deletion", () => {
  let wa: RunningWhatsApp;
  beforeAll(async () => {
    wa = await startWhatsAppApp({});
  });
  afterAll(async () => {
    await wa?.stop();
  });
  const { answerTo, choose, option, onboardInRussian: onboard } = peopleOf(() => wa);

  it("sends the summary and the file, then deletes everything after the button", async () => {
    const db = wa.app.database.db;
    const p = wa.person(NAME, WA_ID);
    const { userId } = await onboard(p);
    const [answer] = await answerTo(p, () => wa.fake.sendText(p, ANSWERABLE));
    await answerTo(p, () => choose(p, answer!, option(answer, ru.faq.helpful)));
    await answerTo(p, () => wa.fake.sendText(p, UNANSWERABLE));

    const mydata = await answerTo(p, () => wa.fake.sendText(p, "/mydata"));
    const summary = mydata
      .filter((m) => m.body.type === "text")
      .map(textOf)
      .join("\n");
    expect(summary).toContain("Сокулук");
    expect(summary).toContain("+996 *** *** 888");
    expect(summary).not.toContain(WA_ID);
    const file = mydata.find((m) => m.body.type === "document");
    expect((file?.body.document as { filename?: string } | undefined)?.filename).toBe(
      "aimak-my-data.json",
    );

    const [ask] = await answerTo(p, () => wa.fake.sendText(p, "/forgetme"));
    expect(textOf(ask!)).toContain("Аймак");
    const done = await answerTo(p, () => choose(p, ask!, option(ask, ru.privacy.forget_yes)));
    expect(done.map(textOf)).toContain(ru.privacy.forget_done);
    expect(await db.select().from(users).where(eq(users.id, userId))).toEqual([]);

    const leftovers = await findPerson(db, {
      id: userId,
      chatId: 2 ** 52 + userId,
      texts: [NAME, WA_ID, UNANSWERABLE, p.userId ?? "no-bsuid"].filter((t) => t.length > 0),
    });
    expect(leftovers).toEqual([]);

    // Whatever they write next starts onboarding: they are new.
    const [welcome] = await answerTo(p, () => wa.fake.sendText(p, "Салам"));
    expect(textOf(welcome!)).toContain("Тилди тандаңыз");
    const [fresh] = await db.select().from(users).where(eq(users.channelUserId, WA_ID));
    expect(fresh?.id).not.toBe(userId);
  }, 120_000);
});
