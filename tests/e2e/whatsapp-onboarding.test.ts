import { and, count, desc, eq, isNotNull } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import en from "../../locales/en.json";
import ky from "../../locales/ky.json";
import ru from "../../locales/ru.json";
import {
  conversationState,
  districts,
  municipalities,
  regions,
  users,
  whatsappInbox,
} from "../../src/db/schema";
import { translator } from "../../src/i18n";
import { buttonsOf, type SentMessage, textOf } from "../fixtures/fake-graph-api/server";
import { META_PAIR_BURST, type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";
import { peopleOf } from "../helpers/whatsapp-people";

/**
 * A newcomer on WhatsApp, through the real app (webhook in, Graph API out, real bot and
 * database): their first "hello" starts onboarding; they browse region → district → a district
 * with more municipalities than one WhatsApp list holds, paging with its "more" rows; then
 * topics, consent and the menu. The fake Graph API refuses anything over WhatsApp's limits, so
 * `refused` staying empty is the check that every message fit.
 */
describe("WhatsApp: onboarding", () => {
  let wa: RunningWhatsApp;
  const tru = translator("ru");

  beforeAll(async () => {
    wa = await startWhatsAppApp({ fake: { pairLimit: META_PAIR_BURST } });
  });
  afterAll(async () => {
    await wa?.stop();
  });

  /** Requests the fake refused (over a WhatsApp limit) since `from`: each test wants none. */
  let refusedAtStart = 0;
  beforeEach(() => {
    refusedAtStart = wa.fake.refused.length;
  });
  const refusedSince = (from: number) =>
    wa.fake.refused.slice(from).map((r) => `${r.code}: ${r.details}`);

  const { answerTo, choose, option, greetAndChoose } = peopleOf(() => wa);

  /** WhatsApp markup and Telegram HTML both reduced to the words a person reads. */
  const visible = (text: string) => text.replace(/<[^>]+>/g, "").replace(/[*_~]/g, "");

  it("starts onboarding on the first message and stores both identifiers", async () => {
    const p = wa.person("Айгуль", "996700111222");
    const { status } = await wa.fake.sendText(p, "Салам");
    expect(status).toBe(200);
    const [welcome] = await wa.fake.waitForMessages(p, 1);
    expect(textOf(welcome!)).toContain("*Аймак*");
    const languages = buttonsOf(welcome!);
    expect(languages.length).toBeGreaterThanOrEqual(3);
    const [row] = await wa.app.database.db
      .select()
      .from(users)
      .where(eq(users.channelUserId, "996700111222"));
    expect(row?.channel).toBe("whatsapp");
    expect(row?.channelAltId).toBe(p.userId);
    expect(row?.phone).toBe("+996700111222");
    expect(row?.lastMessageAt).not.toBeNull();

    const russian = languages.find((b) => /Рус/i.test(b.title));
    expect(russian).toBeDefined();
    await wa.fake.pressButton(p, russian!);
    const next = await wa.fake.waitForMessages(p, 3);
    expect(next.map(textOf).join("\n")).toContain(ru.onboarding.municipality_ask.slice(0, 20));
  });

  it("keeps a question sent as the first message and answers it once onboarding is done", async () => {
    const p = wa.person("Нурлан", "996700111299");
    const first = await answerTo(p, () =>
      wa.fake.sendText(p, "Сколько депутатов в айылном кенеше?"),
    );
    // The welcome, then, in the language the app guesses before a choice, that the question is
    // kept, and the language asked again.
    const held = [ky, ru, en].map((l) => l.onboarding.question_held);
    expect(first.map(textOf)[0]).toContain("*Аймак*");
    expect(held).toContain(first.map(textOf)[1]);
    const welcome = first.at(-1);
    await answerTo(p, () => wa.fake.pressButton(p, option(welcome, ru.language.name)));
    const [found] = await answerTo(p, () => wa.fake.sendText(p, "Сокулук"));
    const [, topics] = await answerTo(p, () => choose(p, found!, buttonsOf(found!)[0]!));
    const [, consent] = await answerTo(p, () => choose(p, topics!, option(topics, ru.common.done)));
    const finished = await answerTo(p, () =>
      wa.fake.pressButton(p, option(consent, ru.onboarding.consent_agree)),
    );
    const texts = finished.map((m) => visible(textOf(m)));
    expect(texts[0]).toContain(ru.onboarding.finished.slice(0, 6));
    // The FAQ's answer (its source and buttons in a message of their own: an interactive body
    // holds 1,024 characters), after the last step.
    expect(texts.slice(1).join("\n")).toContain("Сколько депутатов в айылном и городском кенеше?");
    expect(buttonsOf(finished.at(-1)!).length).toBeGreaterThan(0);
    expect(refusedSince(refusedAtStart)).toEqual([]);
  });

  it("goes to the end: pages through a long district, topics, consent, then the menu", async () => {
    const db = wa.app.database.db;
    // The district with the most municipalities: more than one list (10 rows) can show.
    const [big] = await db
      .select({ id: districts.id, regionId: districts.regionId, n: count(municipalities.id) })
      .from(districts)
      .innerJoin(municipalities, eq(municipalities.districtId, districts.id))
      .groupBy(districts.id)
      .orderBy(desc(count(municipalities.id)))
      .limit(1);
    expect(Number(big?.n)).toBeGreaterThan(10);
    const [district] = await db.select().from(districts).where(eq(districts.id, big!.id));
    const [region] = await db.select().from(regions).where(eq(regions.id, big!.regionId));
    const inDistrict = await db
      .select()
      .from(municipalities)
      .where(eq(municipalities.districtId, big!.id));

    const p = wa.person("Бакыт", "996700222333");
    const [saved, ask] = await greetAndChoose(p, "Саламатсызбы", ru.language.name);
    expect(textOf(saved!)).toBe(ru.language.saved);
    expect(textOf(ask!)).toBe(ru.onboarding.municipality_ask);

    // "Choose by region": the message becomes the list of regions (a new WhatsApp message).
    const browse = option(ask, ru.onboarding.municipality_browse);
    const [regionList] = await answerTo(p, () => wa.fake.pressButton(p, browse));
    expect(textOf(regionList!)).toBe(ru.onboarding.region_choose);

    // The superseded message's button is stale now: it says so and changes nothing.
    const stale = await answerTo(p, () => wa.fake.pressButton(p, browse));
    expect(stale.map(textOf)).toEqual([ru.errors.stale_button]);

    const [districtList] = await answerTo(p, () =>
      choose(p, regionList!, option(regionList, region!.nameRu)),
    );
    expect(textOf(districtList!)).toBe(ru.onboarding.district_choose);

    // Municipalities of the district, then « Back »: more than 10 buttons, so pages of 9 rows
    // and a "more" row, the last page up to 10.
    const [firstPage] = await answerTo(p, () =>
      choose(p, districtList!, option(districtList, district!.nameRu)),
    );
    expect(textOf(firstPage!)).toBe(ru.onboarding.municipality_choose);
    const pages: SentMessage[] = [firstPage!];
    for (;;) {
      const rows = buttonsOf(pages.at(-1)!);
      const more = rows.find((r) => r.title === ru.whatsapp.channel.more);
      if (!more) break;
      expect(rows).toHaveLength(10);
      const page = await answerTo(p, () => wa.fake.pickRow(p, more));
      expect(page).toHaveLength(1);
      pages.push(page[0]!);
    }
    const expectedPages = Math.ceil((inDistrict.length + 1 - 10) / 9) + 1;
    expect(pages).toHaveLength(expectedPages);
    for (const [i, page] of pages.entries()) {
      expect(textOf(page)).toBe(
        i === 0
          ? ru.onboarding.municipality_choose
          : tru("whatsapp.channel.page", { page: i + 1, pages: expectedPages }),
      );
    }
    // Every municipality of the district is offered once across the pages, with « Back ».
    const offered = pages
      .flatMap(buttonsOf)
      .filter((b) => b.title !== ru.whatsapp.channel.more)
      .map((b) => b.description ?? b.title);
    expect(offered.sort()).toEqual([...inDistrict.map((m) => m.nameRu), ru.common.back].sort());

    // A municipality from the last page.
    const lastPage = pages.at(-1)!;
    const pick = buttonsOf(lastPage).find((b) => b.title !== ru.common.back)!;
    const chosen = inDistrict.find((m) => m.nameRu === (pick.description ?? pick.title))!;
    const [savedMunicipality, topicsAsk] = await answerTo(p, () => wa.fake.pickRow(p, pick));
    expect(visible(textOf(savedMunicipality!))).toBe(
      visible(tru("onboarding.municipality_saved", { name: chosen.nameRu })),
    );
    expect(textOf(topicsAsk!)).toBe(ru.onboarding.topics_ask);

    // Topics (all on at first): a tap toggles one (the list comes again with its mark), "Done"
    // goes on.
    const polls = option(topicsAsk, `✅ ${ru.onboarding.topic_polls}`);
    const [toggled] = await answerTo(p, () => choose(p, topicsAsk!, polls));
    expect(option(toggled, `⬜ ${ru.onboarding.topic_polls}`)).toBeDefined();
    const [topicsSaved, consent] = await answerTo(p, () =>
      choose(p, toggled!, option(toggled, ru.common.done)),
    );
    expect(textOf(topicsSaved!)).toBe(
      `${ru.settings.topics}: ${ru.onboarding.topic_hearings}, ${ru.onboarding.topic_announcements}`,
    );
    expect(textOf(consent!)).toBe(ru.onboarding.consent_text);

    const finished = await answerTo(p, () =>
      wa.fake.pressButton(p, option(consent, ru.onboarding.consent_agree)),
    );
    expect(finished.map(textOf)).toEqual([tru("onboarding.finished", { name: chosen.nameRu })]);
    const [row] = await db.select().from(users).where(eq(users.channelUserId, "996700222333"));
    expect(row).toMatchObject({
      locale: "ru",
      municipalityId: chosen.id,
      topics: ["hearings", "announcements"],
    });
    expect(row?.consentAt).not.toBeNull();

    // "menu" in any language lists what the person can do (/help).
    for (const word of ["menu", "меню", "Меню "]) {
      const help = await answerTo(p, () => wa.fake.sendText(p, word));
      expect(help).toHaveLength(1);
      expect(textOf(help[0]!)).toContain(ru.help.intro);
      expect(textOf(help[0]!)).toContain(ru.help.citizen.split("\n")[1]);
    }

    expect(refusedSince(refusedAtStart)).toEqual([]);
  });

  it("answers a picture, a sticker, a location and a reaction in the person's language", async () => {
    const p = wa.person("Alex", "996700333444");
    await greetAndChoose(p, "Hello", en.language.name);
    for (const kind of ["image", "sticker", "location", "reaction"] as const) {
      const replies = await answerTo(p, () => wa.fake.sendMedia(p, kind));
      expect(replies.map(textOf), kind).toEqual([en.whatsapp.channel.only_text]);
    }
    // The onboarding still waits where it was: the name of a place is searched.
    const [found] = await answerTo(p, () => wa.fake.sendText(p, "Sokuluk"));
    expect(textOf(found!)).toBe(en.onboarding.municipality_found);
    expect(refusedSince(refusedAtStart)).toEqual([]);
  });

  it("starts onboarding again for someone who wrote once and left it unfinished", async () => {
    const p = wa.person("Гүлнара", "996700555666");
    const [welcome] = await answerTo(p, () => wa.fake.sendText(p, "Салам"));
    expect(buttonsOf(welcome!).length).toBeGreaterThanOrEqual(3);
    // The flow is gone (it expired, or the app lost it): the person is known but not set up.
    const user = await wa.app.database.db
      .select()
      .from(users)
      .where(eq(users.channelUserId, "996700555666"));
    await wa.app.database.db
      .delete(conversationState)
      .where(eq(conversationState.key, String(user[0]?.chatId)));
    // Onboarding starts over, and what they wrote, a question, is kept for its end.
    const replies = await answerTo(p, () => wa.fake.sendText(p, "Депутаттар канча?"));
    expect(replies.map(textOf)).toEqual([textOf(welcome!), ky.onboarding.question_held]);
    expect(buttonsOf(replies[0]!).map((b) => b.title)).toEqual(
      buttonsOf(welcome!).map((b) => b.title),
    );
  });

  it("processes a message Meta delivers twice once", async () => {
    const p = wa.person("Нурлан", "996700444555");
    await greetAndChoose(p, "Салам", ru.language.name);
    let wamid = "";
    const replies = await answerTo(p, async () => {
      const result = await wa.fake.sendText(p, "Сокулук", { twice: true });
      expect(result.statuses).toEqual([200, 200]);
      wamid = result.wamid;
    });
    expect(replies.map(textOf)).toEqual([ru.onboarding.municipality_found]);
    const stored = await wa.app.database.db
      .select()
      .from(whatsappInbox)
      .where(and(eq(whatsappInbox.wamid, wamid), isNotNull(whatsappInbox.processedAt)));
    expect(stored).toHaveLength(1);
    expect(refusedSince(refusedAtStart)).toEqual([]);
  });

  it("sends an edit again when the Graph API refused it for the pair rate (131056)", async () => {
    const p = wa.person("Медер", "996700555000");
    const [, ask] = await greetAndChoose(p, "Салам", ru.language.name);
    // The region list is an edit of the "where do you live?" message; Meta refuses it once.
    wa.fake.failNext(131056);
    const regionList = await answerTo(p, () =>
      wa.fake.pressButton(p, option(ask, ru.onboarding.municipality_browse)),
    );
    expect(refusedSince(refusedAtStart)).toEqual(["131056: Injected by failNext"]);
    // Retried after the pause the error asks for, the person gets the list all the same (the
    // adapter stores an edit only once it is sent, so the retry is not taken for "not modified").
    expect(regionList.map(textOf)).toEqual([ru.onboarding.region_choose]);
  });
});
