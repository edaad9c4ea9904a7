import { eq, sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateUserSettings } from "../../src/core/people";
import { rowsOf } from "../../src/db/client";
import { users } from "../../src/db/schema";
import { POLL_CB } from "../../src/features/polls/callbacks";
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

  const { settledResident, nextMessage } = peopleOf(() => wa);

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
});
