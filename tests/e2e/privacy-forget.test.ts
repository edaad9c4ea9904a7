import { and, eq, sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app";
import { parseConfig } from "../../src/config";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { createSyntheticUser, updateUserSettings } from "../../src/core/people";
import { rowsOf } from "../../src/db/client";
import { auditLog, outgoingMessages, users } from "../../src/db/schema";
import { faqEscalations, faqPendingQuestions } from "../../src/db/schema/faq";
import { createAnnouncement } from "../../src/features/announcements/service";
import { answer, take } from "../../src/features/faq/escalation";
import { hearingQuestions, hearingRsvps } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import { CLI_ACTOR as HEARING_CLI, hearingSettingsOf } from "../../src/features/hearings/types";
import { POLLS_TICK_JOB } from "../../src/features/polls/jobs";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { CLI_ACTOR as POLL_CLI, voterOf } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import {
  fakeTelegram,
  person,
  pressUpdate,
  TEST_BALLOT_SECRET,
  TEST_TOKEN,
  textUpdate,
} from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { findPerson } from "../helpers/personal-data";
import { drainDeliveries, waitFor } from "../helpers/wait";

/**
 * /mydata and /forgetme end to end on Telegram, through the real app (bot, conversations,
 * delivery engine, scheduler): a person onboards, becomes a deputy, verifies their phone, rates
 * an answer, sends a question to the lawyers (answered by a Telegram lawyer, noticed by a web
 * chat lawyer), leaves another waiting, answers "going" to a hearing and sends it a question,
 * votes, receives an announcement. /mydata shows it; /forgetme deletes it. Then every table of
 * the database, read from the catalogue, is searched for the person's id, chat id, phone, name
 * and texts: a table added later without a deletion rule fails here. Counts stay.
 */

const ru = translator("ru");
const CHAT_ID = 5_550_123_987;
const NAME = "Гүлнара Тестова";
const PHONE = "+996700123987";
const ESCALATED = "Можно ли депутату совмещать мандат с работой в школе?";
const WAITING = "Можно ли депутату совмещать мандат с работой в больнице?";
const ANSWERABLE = "на каком языке можно подать обращение";
const HEARING_QUESTION = "Сколько денег выделят на ремонт школы на улице Токтогула?";
const LAWYER_ANSWER = "Нет, совмещение не допускается.";

describe("a person's data: /mydata shows it, /forgetme deletes it everywhere", () => {
  let app: App;
  const telegram = fakeTelegram();
  const me = { ...person(CHAT_ID, "ru"), first_name: NAME };
  const lawyer = person(5_550_123_001, "ru");
  const neighbour = person(5_550_123_002, "ru");
  let municipalityId: number;

  beforeAll(async () => {
    app = await createApp({
      config: parseConfig({
        LOG_LEVEL: "silent",
        PORT: "0",
        BOT_TOKEN: TEST_TOKEN,
        BALLOT_SECRET: TEST_BALLOT_SECRET,
      }),
      logger: createLogger("silent"),
      fetch: telegram.fetch,
      database: await createTestDatabase(),
      jobSchedules: { [POLLS_TICK_JOB]: "* * * * * *" },
    });
    await app.start();
  }, 60_000);
  afterAll(() => app?.stop());

  const send = (u: Update) => app.bot.handleUpdate(u);
  const callsTo = (chatId: number) =>
    telegram.calls.filter((c) => c.payload.chat_id === chatId && c.method.startsWith("send"));
  const textsTo = (chatId: number) =>
    callsTo(chatId)
      .filter((c) => c.method === "sendMessage")
      .map((c) => String(c.payload.text));
  const buttonsOf = (call: { payload: Record<string, unknown> } | undefined) =>
    (
      (call?.payload.reply_markup as { inline_keyboard?: { callback_data?: string }[][] })
        ?.inline_keyboard ?? []
    )
      .flat()
      .map((b) => b.callback_data ?? "");
  const lastButtons = (chatId: number) => buttonsOf(callsTo(chatId).at(-1));
  const userOf = async (chatId: number) =>
    (await app.database.db.select().from(users).where(eq(users.chatId, chatId)))[0];

  /** Waits for a message to the chat whose text contains `part`; returns it. */
  const messageTo = (chatId: number, part: string) =>
    waitFor(
      () => callsTo(chatId).find((c) => String(c.payload.text ?? "").includes(part)),
      undefined,
      `a message to ${chatId} containing ${part}`,
    );

  it("onboards, asks, answers going, votes; /mydata; /forgetme; nothing of them is left", async () => {
    const db = app.database.db;

    // Onboarding through the bot, in Russian.
    await send(textUpdate(me, "/start"));
    await send(pressUpdate(me, "lang:ru"));
    await send(textUpdate(me, "Сокулук"));
    const choice = lastButtons(CHAT_ID).find((d) => d.startsWith("mun:"));
    expect(choice).toBeDefined();
    await send(pressUpdate(me, choice!));
    await send(pressUpdate(me, "topics:done"));
    await send(pressUpdate(me, "consent:yes"));
    const onboarded = await userOf(CHAT_ID);
    municipalityId = onboarded!.municipalityId!;
    expect(municipalityId).toEqual(expect.any(Number));

    // A deputy, by an invite code; a verified phone (their own contact).
    const invite = await createInvite(db, { role: "deputy", municipalityId });
    await send(textUpdate(me, `/start ${invite.code}`));
    await send(textUpdate(me, "/verify"));
    await send({
      update_id: 990_001,
      message: {
        message_id: 990_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: CHAT_ID, type: "private", first_name: NAME },
        from: me,
        contact: { phone_number: PHONE, user_id: CHAT_ID, first_name: NAME },
      },
    });
    expect((await userOf(CHAT_ID))?.phone).toBe(PHONE);

    // Lawyers: one on Telegram (answers), one in the web chat (gets the notice there).
    await send(textUpdate(lawyer, "/help"));
    const lawyerRow = await userOf(lawyer.id);
    const webLawyer = await createSyntheticUser(db, "web", "privacy-web-lawyer", "ru");
    for (const id of [lawyerRow!.id, webLawyer.id]) {
      const code = await createInvite(db, { role: "lawyer", municipalityId: null });
      expect(await redeemInvite(db, code.code, id)).toMatchObject({ ok: true });
    }

    // The FAQ: an answer rated helpful; a question sent to the lawyers; one left waiting.
    await send(textUpdate(me, ANSWERABLE));
    const rate = lastButtons(CHAT_ID).find((d) => d.startsWith("faq:fb:") && d.endsWith(":1"));
    expect(rate, "the FAQ should answer with rating buttons").toBeDefined();
    await send(pressUpdate(me, rate!));
    await send(textUpdate(me, ESCALATED));
    const escalate = lastButtons(CHAT_ID).find((d) => d.startsWith("faq:esc:"));
    expect(escalate, "the search should abstain and offer the lawyers").toBeDefined();
    await send(pressUpdate(me, escalate!));
    const [question] = await db.select().from(faqEscalations);
    expect(question?.text).toBe(ESCALATED);
    // The web chat lawyer's transcript quotes it once the engine delivered the notice.
    await waitFor(async () => {
      const rows = rowsOf(
        await db.execute(sql`select 1 from webchat_messages
          where user_id = ${webLawyer.id} and payload->>'text' like ${`%${ESCALATED.slice(0, 30)}%`}`),
      );
      return rows.length > 0;
    });
    expect(await take(db, question!.id, lawyerRow!.id)).toBeTruthy();
    expect(await answer(db, question!.id, lawyerRow!.id, LAWYER_ANSWER)).toBeTruthy();
    await messageTo(CHAT_ID, LAWYER_ANSWER);
    await send(textUpdate(me, WAITING));
    expect(
      await db.select().from(faqPendingQuestions).where(eq(faqPendingQuestions.text, WAITING)),
    ).toHaveLength(1);

    // A published hearing: "going" and a question, by the notice's buttons.
    const hearings = new HearingsService(
      db,
      hearingSettingsOf(parseConfig({ LOG_LEVEL: "silent", PORT: "0" })),
    );
    const draft = await hearings.create(HEARING_CLI, {
      municipalityId,
      kind: "draft_budget",
      title: { ru: "Проект бюджета на 2027 год" },
      startsAt: new Date(Date.now() + 7 * 86_400_000),
      durationMin: 60,
      place: { ru: "Зал айыл окмоту" },
      reminderOffsets: [1440],
    });
    const hearing = await hearings.publish(HEARING_CLI, draft.id);
    const notice = await messageTo(CHAT_ID, "Проект бюджета на 2027 год");
    const going = buttonsOf(notice).find((d) => d.startsWith("hr:go:"));
    const ask = buttonsOf(notice).find((d) => d.startsWith("hr:ask:"));
    expect(going && ask).toBeTruthy();
    await send(pressUpdate(me, going!));
    await send(pressUpdate(me, ask!));
    await send(textUpdate(me, HEARING_QUESTION));
    expect(
      await db.select().from(hearingQuestions).where(eq(hearingQuestions.hearingId, hearing.id)),
    ).toHaveLength(1);
    // A neighbour goes too.
    await send(textUpdate(neighbour, "/help"));
    const neighbourRow = await userOf(neighbour.id);
    await updateUserSettings(db, neighbourRow!.id, { municipalityId });
    await hearings.answer(neighbourRow!.id, hearing.id, "going");

    // An open poll: the opening's first option; the neighbour votes too.
    const polls = new PollsService(
      db,
      pollSettingsOf({ timezone: "Asia/Bishkek", ballotSecret: TEST_BALLOT_SECRET, dataDir: "" }),
    );
    const poll = await polls.create(POLL_CLI, {
      municipalityId,
      question: { ru: "Какую улицу ремонтировать первой?" },
      options: [{ ru: "Ленина" }, { ru: "Токтогула" }],
      audience: "subscribers",
      closesAt: new Date(Date.now() + 86_400_000),
    });
    const opening = await messageTo(CHAT_ID, "Какую улицу ремонтировать первой?");
    const vote = buttonsOf(opening).find((d) => d.startsWith(`pv:${poll.id}:`));
    await send(pressUpdate(me, vote!));
    await polls.vote(voterOf((await userOf(neighbour.id))!), poll.id, [1]);
    expect(await polls.tally(poll)).toEqual({ counts: [1, 1], voters: 2 });

    // An announcement reaches them (a delivery row with Telegram's message id).
    const announcement = await createAnnouncement(
      db,
      { userId: lawyerRow!.id, roles: [{ role: "admin", municipalityId: null }] },
      { municipalityId, text: { ru: "Завтра отключат воду с 10:00 до 14:00." } },
    );
    await messageTo(CHAT_ID, "Завтра отключат воду");
    await drainDeliveries(db);
    // Its totals are stored when the scheduler's tick finishes it: compared after /forgetme.
    await waitFor(
      async () =>
        (
          await db.select().from(outgoingMessages).where(eq(outgoingMessages.id, announcement.id))
        )[0]?.totals,
      30_000,
      "the announcement to be finished with its totals",
    );

    // /mydata: the summary in Russian and the file; their data, nobody else's.
    const before = telegram.calls.length;
    await send(textUpdate(me, "/mydata"));
    const replies = telegram.calls.slice(before).filter((c) => c.payload.chat_id === CHAT_ID);
    const summary = replies
      .filter((c) => c.method === "sendMessage")
      .map((c) => String(c.payload.text))
      .join("\n");
    expect(summary).toContain(ru("privacy.mydata_title"));
    expect(summary).toContain("Сокулук");
    expect(summary).toContain(ESCALATED);
    expect(summary).toContain(LAWYER_ANSWER);
    expect(summary).toContain("+996 *** *** 987");
    expect(summary).not.toContain(PHONE);
    const file = replies.find((c) => c.method === "sendDocument")?.payload.document as
      | { filename: string; content: string }
      | undefined;
    expect(file?.filename).toBe("aimak-my-data.json");
    const doc = JSON.parse(file!.content) as {
      profile: Record<string, unknown>;
      faq: unknown;
      roles: unknown;
      hearings: { answers: { answer: string }[] };
      polls: { votedIn: { poll: number }[] };
    };
    expect(doc.profile).toMatchObject({
      name: NAME,
      language: "ru",
      verifiedPhone: "+996 *** *** 987",
    });
    expect(JSON.stringify(doc.faq)).toContain(ESCALATED);
    expect(JSON.stringify(doc.faq)).toContain(WAITING);
    expect(JSON.stringify(doc.hearings)).toContain(HEARING_QUESTION);
    expect(doc.hearings.answers.map((a) => a.answer)).toEqual(["going"]);
    expect(doc.polls.votedIn.map((v) => v.poll)).toEqual([poll.id]);
    expect(JSON.stringify(doc.roles)).toContain("deputy");
    // What they chose is not in it; the neighbour is not in it.
    expect(JSON.stringify(doc.polls)).not.toContain("Ленина");
    expect(file!.content).not.toContain(String(neighbour.id));

    // /forgetme, then "cancel": nothing changes.
    await send(textUpdate(me, "/forgetme"));
    await send(pressUpdate(me, "forget:no"));
    expect(textsTo(CHAT_ID).at(-1)).toBe(ru("privacy.forget_cancelled"));
    expect(await userOf(CHAT_ID)).toBeDefined();
    // /forgetme: the question, with the roles named; "yes" deletes.
    await send(textUpdate(me, "/forgetme"));
    expect(textsTo(CHAT_ID).at(-1)).toContain(
      ru("privacy.forget_roles", { roles: ru("roles.deputy") }),
    );
    const yes = lastButtons(CHAT_ID).find((d) => d.startsWith("forget:yes:"));
    expect(yes).toBeDefined();
    const person = (await userOf(CHAT_ID))!;
    const texts = [
      NAME,
      PHONE,
      PHONE.slice(1),
      ESCALATED,
      WAITING,
      HEARING_QUESTION,
      LAWYER_ANSWER,
    ];
    const deliveredBefore = (
      await db.select().from(outgoingMessages).where(eq(outgoingMessages.id, announcement.id))
    )[0];
    await send(pressUpdate(me, yes!));
    expect(textsTo(CHAT_ID).at(-1)).toBe(ru("privacy.forget_done"));
    expect(await userOf(CHAT_ID)).toBeUndefined();

    // Every table, from the catalogue: no row holds their id, chat id, phone, name or words.
    const leftovers = await findPerson(app.database.db, { id: person.id, chatId: CHAT_ID, texts });
    expect(leftovers).toEqual([]);

    // Counts stay: going, the poll's votes and turnout, the announcement's deliveries.
    expect((await hearings.counts([hearing.id])).get(hearing.id)).toMatchObject({
      going: 2,
      questions: 1,
    });
    expect(
      await db.select().from(hearingRsvps).where(eq(hearingRsvps.hearingId, hearing.id)),
    ).toHaveLength(2);
    expect(await polls.tally(poll)).toEqual({ counts: [1, 1], voters: 2 });
    const [after] = await db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, announcement.id));
    expect(after?.totals).toEqual(deliveredBefore?.totals);
    // The answered question still counts, without words.
    expect(await db.select().from(faqEscalations)).toMatchObject([
      { status: "answered", askerUserId: null, text: "", answerText: null },
    ]);

    // The audit log says it happened, not who.
    const [forgot] = await db.select().from(auditLog).where(eq(auditLog.action, "privacy.forget"));
    expect(forgot).toMatchObject({ actorUserId: null, actorLabel: "person", municipalityId: null });
    expect(forgot?.details).toMatchObject({ channel: "telegram", roles: 1 });

    // Their Telegram menu went back to the default.
    expect(
      telegram.calls.some(
        (c) =>
          c.method === "deleteMyCommands" &&
          (c.payload.scope as { chat_id?: number } | undefined)?.chat_id === CHAT_ID,
      ),
    ).toBe(true);

    // /start greets them as new: the language choice, a new row with a new id.
    await send(textUpdate(me, "/start"));
    expect(textsTo(CHAT_ID).at(-1)).toBe(ru("onboarding.welcome"));
    const fresh = await userOf(CHAT_ID);
    expect(fresh?.id).not.toBe(person.id);
    expect(fresh).toMatchObject({ municipalityId: null, phone: null, locale: null });
    // A second tap on the old "yes" deletes nothing of the new person.
    await send(pressUpdate(me, yes!));
    expect(await userOf(CHAT_ID)).toBeDefined();
    expect(
      await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, "privacy.forget"))),
    ).toHaveLength(1);
  }, 180_000);
});
