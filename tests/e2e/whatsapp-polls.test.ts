import { eq, sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateUserSettings } from "../../src/core/people";
import { rowsOf } from "../../src/db/client";
import { conversationState, municipalities, users } from "../../src/db/schema";
import { POLL_CB } from "../../src/features/polls/callbacks";
import { maskPhone } from "../../src/features/polls/phone";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { CLI_ACTOR } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import { buttonsOf, textOf } from "../fixtures/fake-graph-api/server";
import {
  fakeTelegram,
  person,
  pressUpdate,
  TEST_BALLOT_SECRET,
  TEST_TOKEN,
  textUpdate,
} from "../helpers/bot";
import { seedUsers } from "../helpers/delivery-fixtures";
import { waitFor } from "../helpers/wait";
import { type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";
import { peopleOf } from "../helpers/whatsapp-people";

/**
 * A verified-residents poll through the real app with WhatsApp and Telegram both on: a WhatsApp
 * voter (their number is their wa_id, verified by WhatsApp itself) votes by pressing a reply
 * button; the same number verified on Telegram (the person's own shared contact) reaches the
 * same single ballot, so the poll still counts one voter; the result's chart arrives on
 * WhatsApp as an uploaded image.
 */

const ky = translator("ky");
const ru = translator("ru");
const PHONE = "+996700320001";
const WA_ID = PHONE.slice(1);

/** The Telegram person's own contact, as Telegram's contact button sends it: a message like
 *  any other from them, carrying the contact in place of text. */
function ownContact(from: ReturnType<typeof person>, phone: string): Update {
  const update = textUpdate(from, "");
  const { text: _text, ...message } = update.message!;
  return {
    ...update,
    message: {
      ...message,
      contact: { phone_number: phone, first_name: from.first_name, user_id: from.id },
    },
  };
}

describe("WhatsApp: one vote per phone across WhatsApp and Telegram", () => {
  let wa: RunningWhatsApp;
  let telegram: ReturnType<typeof fakeTelegram>;
  let service: PollsService;

  beforeAll(async () => {
    telegram = fakeTelegram();
    wa = await startWhatsAppApp({ env: { BOT_TOKEN: TEST_TOKEN }, telegramFetch: telegram.fetch });
    service = new PollsService(
      wa.app.database.db,
      pollSettingsOf({ timezone: "Asia/Bishkek", ballotSecret: TEST_BALLOT_SECRET, dataDir: "" }),
    );
  }, 60_000);
  afterAll(async () => {
    await wa?.stop();
  });

  const { settledResident, nextMessage, answerTo } = peopleOf(() => wa);

  it("takes the WhatsApp vote by button, counts the same number on Telegram once, sends the chart", async () => {
    const db = wa.app.database.db;
    const municipalityId = wa.municipalityId;

    // The WhatsApp voter: created by their first message, their number verified by WhatsApp;
    // settled as if onboarding had finished.
    const {
      p,
      user: voter,
      seen: welcomed,
    } = await settledResident({
      name: "Нургүл",
      waId: WA_ID,
      topics: ["polls"],
      municipalityId,
    });
    expect(voter.phone).toBe(PHONE);
    expect(voter.phoneVerifiedAt).not.toBeNull();

    // The same person on Telegram, in the same municipality, not yet verified there.
    const tg = person(73_001, "ru");
    const [tgUserId] = await seedUsers(db, [
      { chatId: tg.id, municipalityId, locale: "ru", topics: ["polls"] },
    ]);
    await updateUserSettings(db, tgUserId!, { consentAt: new Date() });

    await service.importResidents(CLI_ACTOR, municipalityId, [PHONE, "+996700320002"]);
    const poll = await service.create(CLI_ACTOR, {
      municipalityId,
      question: { ky: "Кайсы көчөнү биринчи оңдойбуз?" },
      options: [{ ky: "Ленин" }, { ky: "Токтогул" }, { ky: "Мектеп" }],
      audience: "verified",
      closesAt: new Date(Date.now() + 86_400_000),
    });

    // The opening reaches WhatsApp with the three options as reply buttons.
    const opening = await nextMessage(
      p,
      welcomed,
      (m) => buttonsOf(m).length > 0,
      "the poll's opening",
    );
    const shown = wa.fake.messagesTo(p).slice(welcomed).map(textOf).join("\n");
    expect(shown).toContain("Кайсы көчөнү биринчи оңдойбуз?");
    expect((opening.body.interactive as { type?: string }).type).toBe("button");
    const options = buttonsOf(opening);
    expect(options.map((b) => b.title)).toEqual(["Ленин", "Токтогул", "Мектеп"]);

    // A press on "Токтогул": counted, confirmed in Kyrgyz.
    const seen = wa.fake.messagesTo(p).length;
    await wa.fake.pressButton(p, options[1]!);
    await nextMessage(
      p,
      seen,
      (m) => textOf(m) === ky("polls.resident.answered_new", { choices: "Токтогул" }),
      "the vote's confirmation",
    );
    expect(await service.tally(poll)).toEqual({ counts: [0, 1, 0], voters: 1 });

    // On Telegram the same person shares their own contact: the same number, verified there.
    await wa.app.bot.handleUpdate(ownContact(tg, WA_ID));
    const [tgRow] = await db.select().from(users).where(eq(users.id, tgUserId!));
    expect(tgRow?.phone).toBe(PHONE);
    expect(tgRow?.phoneVerifiedAt).not.toBeNull();

    // Their press there changes the one ballot of that number; it adds no second voter.
    await wa.app.bot.handleUpdate(
      pressUpdate(tg, POLL_CB.vote.pack({ pollId: poll.id, option: 2 })),
    );
    const answer = [...telegram.calls].reverse().find((c) => c.method === "answerCallbackQuery");
    expect(answer?.payload.text).toBe(ru("polls.resident.answered_changed", { choices: "Мектеп" }));
    expect(await service.tally(poll)).toEqual({ counts: [0, 0, 1], voters: 1 });
    const [voters] = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from poll_voters where poll_id = ${poll.id}`),
    );
    expect(Number(voters?.n)).toBe(1);

    // The result: the chart uploaded through the media endpoint and sent as an image.
    const beforeResult = wa.fake.messagesTo(p).length;
    await service.close(CLI_ACTOR, poll.id);
    const chart = await nextMessage(
      p,
      beforeResult,
      (m) => m.body.type === "image",
      "the result's chart",
    );
    const image = chart.body.image as { id?: string; link?: string; caption?: string };
    expect(image.link).toBeUndefined();
    expect(image.caption ?? "").toContain("Кайсы көчөнү биринчи оңдойбуз?");
    const upload = wa.fake.uploads.find((u) => u.id === image.id);
    expect(upload?.mime).toBe("image/png");
    // PNG's signature: the bytes are the chart itself, not an error page.
    expect(upload?.bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  }, 120_000);

  // ---- contacts shared on WhatsApp ----

  /** The `n`th municipality of the directory: each case below has a poll of its own. */
  async function municipalityNo(n: number): Promise<number> {
    const rows = await wa.app.database.db
      .select({ id: municipalities.id })
      .from(municipalities)
      .orderBy(municipalities.id)
      .limit(1)
      .offset(n);
    const id = rows[0]?.id;
    if (id === undefined) throw new Error(`no municipality number ${n}`);
    return Number(id);
  }

  /** A verified-residents poll of the municipality with these numbers on its resident list. */
  async function verifiedPoll(municipalityId: number, listed: string[], question: string) {
    await service.importResidents(CLI_ACTOR, municipalityId, listed);
    return service.create(CLI_ACTOR, {
      municipalityId,
      question: { ky: question },
      options: [{ ky: "Ооба" }, { ky: "Жок" }],
      audience: "verified",
      closesAt: new Date(Date.now() + 86_400_000),
    });
  }

  /** The person's row now. */
  async function rowOf(userId: number) {
    const [row] = await wa.app.database.db.select().from(users).where(eq(users.id, userId));
    return row;
  }

  it("the person's own contact verifies their number; a verified-residents poll then takes the vote", async () => {
    const db = wa.app.database.db;
    const municipalityId = await municipalityNo(1);
    const phone = "+996700320011";
    const { p, userId, seen } = await settledResident({
      name: "Айбек",
      waId: phone.slice(1),
      topics: ["polls"],
      municipalityId,
    });
    // As if the number had never been recorded: what the shared contact does is then visible.
    await db.update(users).set({ phone: null, phoneVerifiedAt: null }).where(eq(users.id, userId));

    // Their own card, as WhatsApp writes it (spaces in the number, the wa_id alongside).
    const replies = await answerTo(p, () =>
      wa.fake.sendContact(p, { phone: "+996 700 32 00 11", waId: phone.slice(1), name: "Айбек" }),
    );
    expect(replies.map(textOf)).toEqual([ky("polls.verify.done", { phone: maskPhone(phone) })]);
    const verified = await rowOf(userId);
    expect(verified?.phone).toBe(phone);
    expect(verified?.phoneVerifiedAt).not.toBeNull();

    // The number is on the resident list: the vote is taken.
    const poll = await verifiedPoll(municipalityId, [phone], "Жаңы парк керекпи?");
    const opening = await nextMessage(
      p,
      seen + replies.length,
      (m) => buttonsOf(m).length > 0 && textOf(m).includes("Жаңы парк керекпи?"),
      "the poll's opening",
    );
    const before = wa.fake.messagesTo(p).length;
    await wa.fake.pressButton(p, buttonsOf(opening)[0]!);
    await nextMessage(
      p,
      before,
      (m) => textOf(m) === ky("polls.resident.answered_new", { choices: "Ооба" }),
      "the vote's confirmation",
    );
    expect(await service.tally(poll)).toEqual({ counts: [1, 0], voters: 1 });
  }, 120_000);

  it("someone else's contact verifies nothing: the person's own number stays, the vote is refused", async () => {
    const municipalityId = await municipalityNo(2);
    const own = "+996700320021";
    const neighbour = "+996700320029";
    const { p, userId, seen } = await settledResident({
      name: "Гүлзат",
      waId: own.slice(1),
      topics: ["polls"],
      municipalityId,
    });
    // Only the neighbour is on the list: taking their card as hers would let her vote.
    const poll = await verifiedPoll(municipalityId, [neighbour], "Базар жекшембиде болсунбу?");

    const replies = await answerTo(p, () =>
      wa.fake.sendContact(p, { phone: neighbour, waId: neighbour.slice(1), name: "Кошуна" }),
    );
    expect(replies.map(textOf).join("\n")).toContain(ky("polls.verify.not_own_whatsapp"));
    const row = await rowOf(userId);
    expect(row?.phone).toBe(own);

    const opening = await nextMessage(
      p,
      seen,
      (m) => buttonsOf(m).length > 0 && textOf(m).includes("Базар жекшембиде болсунбу?"),
      "the poll's opening",
    );
    await answerTo(p, () => wa.fake.pressButton(p, buttonsOf(opening)[0]!));
    expect(await service.tally(poll)).toEqual({ counts: [0, 0], voters: 0 });
  }, 120_000);

  it("a person known only by the business-scoped id is not verified by any shared contact", async () => {
    const db = wa.app.database.db;
    const municipalityId = await municipalityNo(3);
    const listed = "+996700320031";
    // Meta gives no number for this person (a username): the row holds the business-scoped id.
    const p = wa.fake.person("Username", { waId: null });
    await wa.fake.sendText(p, "Салам");
    await wa.fake.waitForMessages(p, 1);
    const [created] = await db.select().from(users).where(eq(users.channelUserId, p.userId));
    if (!created) throw new Error("the BSUID-only person was not created");
    expect(created.phone).toBeNull();
    await updateUserSettings(db, created.id, {
      locale: "ky",
      municipalityId,
      topics: ["polls"],
      consentAt: new Date(),
    });
    const flow = eq(conversationState.key, String(created.chatId));
    await waitFor(async () => (await db.select().from(conversationState).where(flow)).length > 0);
    await db.delete(conversationState).where(flow);
    const seen = wa.fake.messagesTo(p).length;
    const poll = await verifiedPoll(municipalityId, [listed], "Көпүрө оңдолсунбу?");

    // A card with a listed number (theirs or not: nothing proves it) changes nothing, and the
    // person is told why and where they can verify.
    const replies = await answerTo(p, () =>
      wa.fake.sendContact(p, { phone: listed, waId: listed.slice(1), name: "Мен" }),
    );
    expect(replies.map(textOf).join("\n")).toContain(ky("polls.verify.how_whatsapp_hidden"));
    const row = await rowOf(created.id);
    expect(row?.phone).toBeNull();
    expect(row?.phoneVerifiedAt).toBeNull();

    const opening = await nextMessage(
      p,
      seen,
      (m) => buttonsOf(m).length > 0 && textOf(m).includes("Көпүрө оңдолсунбу?"),
      "the poll's opening",
    );
    const refusal = await answerTo(p, () => wa.fake.pressButton(p, buttonsOf(opening)[0]!));
    expect(refusal.map(textOf).join("\n")).toContain(ky("polls.verify.intro_poll"));
    expect(refusal.map(textOf).join("\n")).not.toContain(ky("polls.verify.how_web"));
    expect(await service.tally(poll)).toEqual({ counts: [0, 0], voters: 0 });
  }, 120_000);
});
