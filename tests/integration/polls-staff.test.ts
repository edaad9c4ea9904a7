import { parse } from "csv-parse/sync";
import { count, desc, eq } from "drizzle-orm";
import { Composer } from "grammy";
import type { Update } from "grammy/types";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../src/bot/context";
import { createBot } from "../../src/bot/create-bot";
import type { Feature } from "../../src/bot/feature";
import { ChannelDirectory } from "../../src/channels/directory";
import { parseConfig } from "../../src/config";
import { outgoingMessages } from "../../src/db/schema";
import { features } from "../../src/features";
import { formatTyped } from "../../src/features/hearings/time";
import { pollAudiences } from "../../src/features/polls/audiences";
import { POLL_CB } from "../../src/features/polls/callbacks";
import { pollsConversations } from "../../src/features/polls/conversations";
import { type PollRow, polls } from "../../src/features/polls/schema";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { showStaffPolls, staffPollsHandlers } from "../../src/features/polls/staff";
import { type PollInput, voterOf } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import {
  fakeTelegram,
  person,
  pressUpdate,
  TEST_BOT_INFO,
  TEST_TOKEN,
  testDeps,
  textUpdate,
  type UploadedFile,
} from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";
import { grantRole, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

/**
 * The staff side of polls in the real bot (grammY, conversations stored in the database) with
 * Telegram faked at the HTTP client, on PGlite or PostgreSQL: staff create polls through the flow
 * (bad input refused on the way, nothing written), preview them as residents get them, open or
 * schedule them; close early, export counts; forged presses and other municipalities' staff
 * change nothing.
 */

const ru = translator("ru");
const DAY = 86_400_000;
const TZ = "Asia/Bishkek";

const handle = useTestDatabase();
let sokuluk: number;
let karakol: number;
let staffUserId: number;
let residentUserId: number;

const staff = person(81_001, "ru");
const resident = person(81_002, "ky");
const deputy = person(81_003, "ru");
const otherStaff = person(81_004, "ru");

const config = parseConfig({
  LOG_LEVEL: "silent",
  BALLOT_SECRET: "polls-staff-test-secret-0123456789",
});

/** The staff side as a feature, until the lead's `polls` feature is in the list. */
const staffSide: Feature = {
  name: "polls",
  conversations: pollsConversations,
  handlers(deps) {
    const composer = new Composer<AppContext>();
    composer.command("polls", (ctx) => showStaffPolls(ctx, deps));
    composer.use(staffPollsHandlers(deps));
    return composer;
  },
  audiences: pollAudiences,
};

function pollsBot() {
  const telegram = fakeTelegram();
  const deps = { ...testDeps(handle.db), config };
  const withPolls = features.some((f) => f.name === "polls") ? features : [...features, staffSide];
  const bot = createBot({
    deps,
    features: withPolls,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: telegram.fetch,
    directory: new ChannelDirectory(handle.db),
  });
  const calls = telegram.calls;
  const to = (chatId: number) => calls.filter((c) => c.payload.chat_id === chatId);
  const textsOf = (chatId: number) =>
    to(chatId)
      .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
      .map((c) => String(c.payload.text));
  return {
    calls,
    to,
    send: (update: Update) => bot.handleUpdate(update),
    texts: textsOf,
    lastText: (chatId: number) => textsOf(chatId).at(-1),
    lastAnswer: () =>
      [...calls].reverse().find((c) => c.method === "answerCallbackQuery")?.payload as
        | { text?: string; show_alert?: boolean }
        | undefined,
    lastButtons: (chatId: number) => {
      const call = [...to(chatId)]
        .reverse()
        .find((c) => (c.payload.reply_markup as { inline_keyboard?: unknown })?.inline_keyboard);
      const kb = (call?.payload.reply_markup as { inline_keyboard: { callback_data?: string }[][] })
        ?.inline_keyboard;
      return (kb ?? []).flat().map((b) => b.callback_data ?? "");
    },
  };
}

type Bot = ReturnType<typeof pollsBot>;

let service: PollsService;

beforeAll(async () => {
  [sokuluk, karakol] = (await seedMunicipalities(handle.db, 2)) as [number, number];
  const [staffId, residentId, deputyId, otherStaffId] = await seedUsers(handle.db, [
    { chatId: staff.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: resident.id, municipalityId: sokuluk, locale: "ky", topics: ["polls"] },
    { chatId: deputy.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: otherStaff.id, municipalityId: karakol, locale: "ru" },
  ]);
  staffUserId = staffId!;
  residentUserId = residentId!;
  await grantRole(handle.db, staffId!, "staff", sokuluk);
  await grantRole(handle.db, deputyId!, "deputy", sokuluk);
  await grantRole(handle.db, otherStaffId!, "staff", karakol);
  service = new PollsService(handle.db, pollSettingsOf(config));
});

async function pollRow(id: number): Promise<PollRow> {
  const [row] = await handle.db.select().from(polls).where(eq(polls.id, id));
  return row!;
}

/** The newest poll the staff member made in the chat. */
async function newestByStaff(): Promise<PollRow | undefined> {
  const rows = await handle.db
    .select()
    .from(polls)
    .where(eq(polls.createdByUserId, staffUserId))
    .orderBy(desc(polls.id))
    .limit(1);
  return rows[0];
}

async function pollCount(): Promise<number> {
  const [row] = await handle.db.select({ n: count() }).from(polls);
  return Number(row?.n ?? 0);
}

/** A poll of Sokuluk made by the service directly (for the card and press tests). */
async function seedPoll(extra: Partial<PollInput> = {}): Promise<PollRow> {
  const actor = { userId: undefined, roles: [{ role: "admin" as const, municipalityId: null }] };
  return service.create(actor, {
    municipalityId: sokuluk,
    question: { ky: "Парк керекпи?", ru: "Нужен ли парк?" },
    options: [
      { ky: "Ооба", ru: "Да" },
      { ky: "Жок", ru: "Нет" },
    ],
    audience: "subscribers",
    closesAt: new Date(Date.now() + 3 * DAY),
    ...extra,
  });
}

/** Starts the create flow from /polls for the staff member. */
async function startCreate(bot: Bot) {
  await bot.send(textUpdate(staff, "/polls"));
  expect(bot.lastButtons(staff.id)).toContain(POLL_CB.create.pack());
  await bot.send(pressUpdate(staff, POLL_CB.create.pack()));
  // Staff of one municipality are not asked which one.
  expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_question_ky", { max: 300 }));
}

async function messageOf(key: string) {
  const [row] = await handle.db
    .select()
    .from(outgoingMessages)
    .where(eq(outgoingMessages.dedupeKey, key));
  return row;
}

/** The steps up to the options, with the question in both languages. */
async function upToOptions(bot: Bot) {
  await startCreate(bot);
  await bot.send(textUpdate(staff, "Жолду оңдойлубу?"));
  await bot.send(textUpdate(staff, "Ремонтировать дорогу?"));
  expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_options", { max: 40, count: 10 }));
}

describe("staff create polls in the chat", () => {
  it("creates a single-choice poll that opens now, after a preview as residents get it", async () => {
    const bot = pollsBot();
    const before = await pollCount();
    await upToOptions(bot);
    await bot.send(textUpdate(staff, "Ооба | Да\nЖок | Нет"));
    expect(bot.lastButtons(staff.id)).toContain(POLL_CB.done.pack());
    await bot.send(pressUpdate(staff, POLL_CB.done.pack()));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_mode"));
    await bot.send(pressUpdate(staff, POLL_CB.mode.pack({ mode: "single" })));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_audience"));
    await bot.send(pressUpdate(staff, POLL_CB.audience.pack({ audience: "subscribers" })));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_opens"));
    await bot.send(pressUpdate(staff, POLL_CB.opensNow.pack()));
    await bot.send(pressUpdate(staff, POLL_CB.closesIn.pack({ days: 3 })));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_live"));
    const mark = bot.calls.length;
    await bot.send(pressUpdate(staff, POLL_CB.live.pack({ live: false })));

    // The preview: the residents' card in the staff's language, with the residents' buttons.
    const preview = bot.calls
      .slice(mark)
      .find(
        (c) =>
          c.method === "sendMessage" && String(c.payload.text).includes("Ремонтировать дорогу?"),
      );
    expect(String(preview?.payload.text)).toContain(ru("polls.notice.choose_one"));
    const markup = preview?.payload.reply_markup as
      | { inline_keyboard: { text: string; callback_data: string }[][] }
      | undefined;
    const previewButtons = markup?.inline_keyboard.flat() ?? [];
    expect(previewButtons.map((b) => b.text)).toEqual(["Да", "Нет"]);
    expect(previewButtons[0]?.callback_data).toBe(POLL_CB.vote.pack({ pollId: 0, option: 0 }));
    // Opening now: "Open now" and Cancel, no "Schedule".
    expect(bot.lastButtons(staff.id)).toEqual([
      POLL_CB.save.pack({ mode: "open" }),
      POLL_CB.abort.pack(),
    ]);
    expect(await pollCount()).toBe(before);

    await bot.send(pressUpdate(staff, POLL_CB.save.pack({ mode: "open" })));
    const poll = await newestByStaff();
    expect(poll).toMatchObject({
      municipalityId: sokuluk,
      status: "open",
      maxChoices: 1,
      audience: "subscribers",
      liveResults: false,
      question: { ky: "Жолду оңдойлубу?", ru: "Ремонтировать дорогу?" },
      options: [
        { ky: "Ооба", ru: "Да" },
        { ky: "Жок", ru: "Нет" },
      ],
    });
    const days = (poll!.closesAt.getTime() - poll!.opensAt.getTime()) / DAY;
    expect(days).toBeCloseTo(3, 2);
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.opened", { id: poll!.id }));
    const opening = await messageOf(`poll:${poll!.id}:opening`);
    expect(opening?.kind).toBe("poll_opened");
    expect(opening?.scheduledAt).toBeNull();
    expect(opening?.status).not.toBe("draft");
  });

  it("creates a multiple-choice poll (at most 2) for verified residents, scheduled", async () => {
    const bot = pollsBot();
    await upToOptions(bot);
    // One option per message; one text for both languages.
    for (const option of ["Парк", "Мектеп | Школа"]) await bot.send(textUpdate(staff, option));
    expect(bot.lastText(staff.id)).toContain("2. Мектеп | Школа");
    await bot.send(textUpdate(staff, "Көпүрө | Мост"));
    await bot.send(pressUpdate(staff, POLL_CB.done.pack()));
    await bot.send(pressUpdate(staff, POLL_CB.mode.pack({ mode: "multiple" })));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_max", { count: 3 }));
    expect(bot.lastButtons(staff.id)).toEqual([
      POLL_CB.maxChoices.pack({ max: 2 }),
      POLL_CB.maxChoices.pack({ max: 3 }),
      POLL_CB.abort.pack(),
    ]);
    await bot.send(pressUpdate(staff, POLL_CB.maxChoices.pack({ max: 2 })));
    await bot.send(pressUpdate(staff, POLL_CB.audience.pack({ audience: "verified" })));
    const opensAt = new Date(Math.ceil((Date.now() + 2 * DAY) / 60_000) * 60_000);
    const closesAt = new Date(opensAt.getTime() + 5 * DAY);
    await bot.send(textUpdate(staff, formatTyped(opensAt, TZ)));
    await bot.send(textUpdate(staff, formatTyped(closesAt, TZ)));
    const mark = bot.calls.length;
    await bot.send(pressUpdate(staff, POLL_CB.live.pack({ live: true })));
    const preview = bot.calls
      .slice(mark)
      .find((c) => c.method === "sendMessage" && String(c.payload.text).includes("Ремонтировать"));
    expect(String(preview?.payload.text)).toContain(ru("polls.notice.choose_up_to", { count: 2 }));
    expect(String(preview?.payload.text)).toContain(ru("polls.notice.verified_only"));
    expect(bot.lastButtons(staff.id)).toEqual([
      POLL_CB.save.pack({ mode: "schedule" }),
      POLL_CB.save.pack({ mode: "open" }),
      POLL_CB.abort.pack(),
    ]);
    await bot.send(pressUpdate(staff, POLL_CB.save.pack({ mode: "schedule" })));
    const poll = await newestByStaff();
    expect(poll).toMatchObject({
      status: "scheduled",
      maxChoices: 2,
      audience: "verified",
      liveResults: true,
      options: [
        { ky: "Парк", ru: "Парк" },
        { ky: "Мектеп", ru: "Школа" },
        { ky: "Көпүрө", ru: "Мост" },
      ],
    });
    expect(poll!.opensAt.getTime()).toBe(opensAt.getTime());
    expect(poll!.closesAt.getTime()).toBe(closesAt.getTime());
    expect(bot.lastText(staff.id)).toContain(`№${poll!.id}`);
    const opening = await messageOf(`poll:${poll!.id}:opening`);
    expect(opening?.kind).toBe("poll_opened");
    expect(opening?.scheduledAt?.getTime()).toBe(opensAt.getTime());
  });

  it("answers every bad input with its reason, keeps what was given and writes nothing", async () => {
    const bot = pollsBot();
    const before = await pollCount();
    await upToOptions(bot);
    const err = (code: string, params: Record<string, string | number> = {}) =>
      ru(`polls.errors.${code}`, params);

    // One option: no "Done" yet; a forged Done is a stale button.
    await bot.send(textUpdate(staff, "Ооба | Да"));
    expect(bot.lastText(staff.id)).toContain(ru("polls.create.options_one_more"));
    expect(bot.lastButtons(staff.id)).not.toContain(POLL_CB.done.pack());
    await bot.send(pressUpdate(staff, POLL_CB.done.pack()));
    expect(bot.lastAnswer()?.text).toBe(ru("errors.stale_button"));

    // Eleven options in all.
    const ten = Array.from({ length: 10 }, (_, i) => `Вариант ${i + 1}`).join("\n");
    await bot.send(textUpdate(staff, ten));
    expect(bot.lastText(staff.id)).toContain(err("too_many_options", { max: 10 }));
    // A duplicate of the first, and one too long for a button.
    await bot.send(textUpdate(staff, "Ооба | Да"));
    expect(bot.lastText(staff.id)).toContain(err("option_duplicate", { text: "Ооба" }));
    await bot.send(textUpdate(staff, "Ж".repeat(41)));
    expect(bot.lastText(staff.id)).toContain(err("option_too_long", { n: 2, max: 40 }));
    // What was given is kept: one good option more makes two.
    await bot.send(textUpdate(staff, "Жок | Нет"));
    expect(bot.lastText(staff.id)).toContain("1. Ооба | Да\n2. Жок | Нет");
    await bot.send(pressUpdate(staff, POLL_CB.done.pack()));
    await bot.send(pressUpdate(staff, POLL_CB.mode.pack({ mode: "single" })));
    await bot.send(pressUpdate(staff, POLL_CB.audience.pack({ audience: "subscribers" })));

    // Opening in three days; closing before it, in the past, unreadable: each refused.
    const opensAt = new Date(Date.now() + 3 * DAY);
    await bot.send(textUpdate(staff, formatTyped(opensAt, TZ)));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_closes", { days: 90 }));
    await bot.send(textUpdate(staff, formatTyped(new Date(Date.now() + DAY), TZ)));
    expect(bot.lastText(staff.id)).toBe(err("closes_before_opens"));
    await bot.send(textUpdate(staff, formatTyped(new Date(Date.now() - DAY), TZ)));
    expect(bot.lastText(staff.id)).toBe(err("closes_past"));
    await bot.send(textUpdate(staff, "завтра"));
    expect(bot.lastText(staff.id)).toBe(err("time_bad"));
    await bot.send(textUpdate(staff, formatTyped(new Date(Date.now() + 200 * DAY), TZ)));
    expect(bot.lastText(staff.id)).toBe(err("too_long_open", { days: 90 }));
    // A button works after the refusals; then Cancel at the preview writes nothing.
    await bot.send(pressUpdate(staff, POLL_CB.closesIn.pack({ days: 1 })));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.ask_live"));
    await bot.send(pressUpdate(staff, POLL_CB.live.pack({ live: false })));
    await bot.send(pressUpdate(staff, POLL_CB.abort.pack()));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.aborted"));
    expect(await pollCount()).toBe(before);
  });

  it("refuses a past opening time and the question skipped in both languages", async () => {
    const bot = pollsBot();
    await startCreate(bot);
    await bot.send(pressUpdate(staff, POLL_CB.skip.pack()));
    // Russian is required once Kyrgyz is skipped: no Skip, and a forged one is stale.
    expect(bot.lastButtons(staff.id)).toEqual([POLL_CB.abort.pack()]);
    await bot.send(pressUpdate(staff, POLL_CB.skip.pack()));
    expect(bot.lastAnswer()?.text).toBe(ru("errors.stale_button"));
    await bot.send(textUpdate(staff, "Нужна ли площадка?"));
    await bot.send(textUpdate(staff, "Да\nНет"));
    await bot.send(pressUpdate(staff, POLL_CB.done.pack()));
    await bot.send(pressUpdate(staff, POLL_CB.mode.pack({ mode: "single" })));
    await bot.send(pressUpdate(staff, POLL_CB.audience.pack({ audience: "subscribers" })));
    await bot.send(textUpdate(staff, formatTyped(new Date(Date.now() - DAY), TZ)));
    expect(bot.lastText(staff.id)).toBe(ru("polls.create.opens_past"));
    await bot.send(pressUpdate(staff, POLL_CB.abort.pack()));
  });
});

describe("staff manage polls from their cards", () => {
  it("lists the staff's polls and shows a card with counts, turnout and actions", async () => {
    const poll = await seedPoll();
    const bot = pollsBot();
    await bot.send(textUpdate(staff, "/polls"));
    expect(bot.lastButtons(staff.id)).toContain(POLL_CB.open.pack({ pollId: poll.id }));
    expect(bot.texts(staff.id).join("\n")).toContain("Нужен ли парк?");
    await bot.send(pressUpdate(staff, POLL_CB.open.pack({ pollId: poll.id })));
    const card = bot.lastText(staff.id) ?? "";
    expect(card).toContain(
      ru("polls.staff.card_title", { id: poll.id, status: ru("polls.status.open") }),
    );
    expect(card).toContain(ru("polls.notice.voters", { count: 0 }));
    expect(bot.lastButtons(staff.id)).toEqual(
      expect.arrayContaining([
        POLL_CB.action.pack({ pollId: poll.id, action: "close" }),
        POLL_CB.action.pack({ pollId: poll.id, action: "cancel" }),
        POLL_CB.action.pack({ pollId: poll.id, action: "export" }),
        POLL_CB.action.pack({ pollId: poll.id, action: "results" }),
      ]),
    );
  });

  it("refuses a forged close from a deputy and a resident, changing nothing", async () => {
    const poll = await seedPoll();
    const bot = pollsBot();
    for (const who of [deputy, resident]) {
      for (const data of [
        POLL_CB.action.pack({ pollId: poll.id, action: "close" }),
        POLL_CB.confirm.pack({ pollId: poll.id, action: "close" }),
        POLL_CB.confirm.pack({ pollId: poll.id, action: "cancel" }),
        POLL_CB.action.pack({ pollId: poll.id, action: "export" }),
      ]) {
        await bot.send(pressUpdate(who, data));
        const answer = bot.lastAnswer();
        expect(answer?.show_alert).toBe(true);
        expect(answer?.text).toBe(
          translator(who === resident ? "ky" : "ru")("polls.errors.not_allowed"),
        );
      }
      // Nothing was sent to them but the alerts.
      expect(bot.to(who.id).filter((c) => c.method.startsWith("send"))).toEqual([]);
    }
    expect((await pollRow(poll.id)).status).toBe("open");
    expect(await messageOf(`poll:${poll.id}:result`)).toBeUndefined();
  });

  it("keeps staff of another municipality out of the poll", async () => {
    const poll = await seedPoll();
    const bot = pollsBot();
    for (const data of [
      POLL_CB.open.pack({ pollId: poll.id }),
      POLL_CB.action.pack({ pollId: poll.id, action: "results" }),
      POLL_CB.action.pack({ pollId: poll.id, action: "export" }),
      POLL_CB.confirm.pack({ pollId: poll.id, action: "close" }),
      POLL_CB.confirm.pack({ pollId: poll.id, action: "cancel" }),
    ]) {
      await bot.send(pressUpdate(otherStaff, data));
      expect(bot.lastAnswer()).toEqual(
        expect.objectContaining({ text: ru("polls.errors.not_allowed"), show_alert: true }),
      );
    }
    expect(bot.to(otherStaff.id).filter((c) => c.method.startsWith("send"))).toEqual([]);
    expect((await pollRow(poll.id)).status).toBe("open");
    // Their own list does not show it.
    await bot.send(textUpdate(otherStaff, "/polls"));
    expect(bot.lastButtons(otherStaff.id)).not.toContain(POLL_CB.open.pack({ pollId: poll.id }));
  });

  it("exports the counts as CSV, with nothing about who voted", async () => {
    const poll = await seedPoll();
    const residentVoter = voterOf({
      id: residentUserId,
      municipalityId: sokuluk,
      channel: "telegram",
      phone: null,
      phoneVerifiedAt: null,
      createdAt: new Date(Date.now() - 10 * DAY),
    });
    await service.vote(residentVoter, poll.id, [1]);
    const bot = pollsBot();
    await bot.send(pressUpdate(staff, POLL_CB.action.pack({ pollId: poll.id, action: "export" })));
    const call = bot.calls.find((c) => c.method === "sendDocument");
    const file = call?.payload.document as UploadedFile;
    expect(file.filename).toBe(`poll-${poll.id}.csv`);
    const rows = parse(file.content, { bom: true }) as string[][];
    expect(rows[0]).toEqual(
      ["option", "text_ky", "text_ru", "votes", "percent"].map((c) => ru(`polls.csv.${c}`)),
    );
    expect(rows[1]).toEqual(["1", "Ооба", "Да", "0", "0.0"]);
    expect(rows[2]).toEqual(["2", "Жок", "Нет", "1", "100.0"]);
    expect(rows[3]?.slice(0, 4)).toEqual([ru("polls.csv.voters"), "", "", "1"]);
    // Only these rows: the options, then turnout, question, status and closing time.
    expect(rows).toHaveLength(1 + 2 + 4);
    for (const secret of [String(resident.id), resident.first_name]) {
      expect(file.content).not.toContain(secret);
    }
  });

  it("closes early after a confirmation: the status is closed and the result goes out", async () => {
    const poll = await seedPoll();
    const bot = pollsBot();
    await bot.send(pressUpdate(staff, POLL_CB.action.pack({ pollId: poll.id, action: "close" })));
    expect(bot.lastText(staff.id)).toBe(ru("polls.staff.confirm_close", { id: poll.id }));
    expect((await pollRow(poll.id)).status).toBe("open");
    await bot.send(pressUpdate(staff, POLL_CB.confirm.pack({ pollId: poll.id, action: "close" })));
    expect(bot.lastAnswer()?.text).toBe(ru("polls.staff.done_close"));
    expect((await pollRow(poll.id)).status).toBe("closed");
    expect((await messageOf(`poll:${poll.id}:result`))?.kind).toBe("poll_result");
    // The card now offers no close or cancel; a second close is refused.
    expect(bot.lastText(staff.id)).toContain(ru("polls.status.closed"));
    expect(bot.lastButtons(staff.id)).not.toContain(
      POLL_CB.action.pack({ pollId: poll.id, action: "close" }),
    );
    await bot.send(pressUpdate(staff, POLL_CB.confirm.pack({ pollId: poll.id, action: "close" })));
    expect(bot.lastAnswer()).toEqual(
      expect.objectContaining({ text: ru("polls.errors.already_closed"), show_alert: true }),
    );
    // Results of a closed poll: the numbers and the chart.
    await bot.send(pressUpdate(staff, POLL_CB.action.pack({ pollId: poll.id, action: "results" })));
    expect(bot.lastText(staff.id)).toContain(ru("polls.staff.results_final", { id: poll.id }));
    const photo = [...bot.calls].reverse().find((c) => c.method === "sendPhoto");
    expect(photo?.payload.photo).toBe(`/polls/${poll.id}/chart/ru.png`);
  });

  it("cancels after a confirmation; the scheduled opening never goes", async () => {
    const poll = await seedPoll({ opensAt: new Date(Date.now() + DAY) });
    expect(poll.status).toBe("scheduled");
    const bot = pollsBot();
    await bot.send(pressUpdate(staff, POLL_CB.action.pack({ pollId: poll.id, action: "cancel" })));
    await bot.send(pressUpdate(staff, POLL_CB.confirm.pack({ pollId: poll.id, action: "cancel" })));
    expect((await pollRow(poll.id)).status).toBe("cancelled");
    expect((await messageOf(`poll:${poll.id}:opening`))?.status).toBe("cancelled");
    expect(await messageOf(`poll:${poll.id}:result`)).toBeUndefined();
  });
});
