import { eq, sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBot } from "../../src/bot/create-bot";
import { ChannelDirectory } from "../../src/channels/directory";
import { features } from "../../src/features";
import { hearingQuestions, hearingRsvps, hearings } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import { formatTyped } from "../../src/features/hearings/time";
import { type HearingInput, hearingSettingsOf } from "../../src/features/hearings/types";
import { translator } from "../../src/i18n";
import {
  type ApiCall,
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
import { startTestEngine } from "../helpers/engine";

/**
 * The hearings in the real bot (grammY, conversations stored in the database) with Telegram
 * faked at the HTTP client, on PGlite or PostgreSQL, and the real delivery engine for what
 * residents receive: a staff member creates a hearing through the flow (refusing bad input on
 * the way), previews it as residents will get it and publishes it; residents answer, ask and
 * take the calendar file; staff of another municipality and forged buttons change nothing.
 */

const ru = translator("ru");
const ky = translator("ky");
const DAY = 86_400_000;
const TZ = "Asia/Bishkek";

const handle = useTestDatabase();
let engine: ReturnType<typeof startTestEngine>;
let sokuluk: number;
let karakol: number;

// Telegram ids (and chat ids) of the people of this file.
const staff = person(71_001, "ru");
const residentKy = person(71_002, "ky");
const residentRu = person(71_003, "ru");
const otherStaff = person(71_004, "ru");
const otherResident = person(71_005, "ru");
const admin = person(71_006, "en");

/** The bot with every feature, hearings among them (wired in src/features/index.ts). */
function hearingsBot() {
  const telegram = fakeTelegram();
  const deps = testDeps(handle.db);
  const bot = createBot({
    deps,
    features,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: telegram.fetch,
    directory: new ChannelDirectory(handle.db),
  });
  const calls = telegram.calls;
  const to = (chatId: number) => calls.filter((c) => c.payload.chat_id === chatId);
  return {
    deps,
    calls,
    send: (update: Update) => bot.handleUpdate(update),
    /** Texts sent or edited in one chat, in order. */
    texts: (chatId: number) =>
      to(chatId)
        .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
        .map((c) => String(c.payload.text)),
    lastText: (chatId: number) =>
      to(chatId)
        .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
        .map((c) => String(c.payload.text))
        .at(-1),
    /** The last toast or alert answered to a press. */
    lastAnswer: () =>
      [...calls].reverse().find((c) => c.method === "answerCallbackQuery")?.payload as
        | { text?: string; show_alert?: boolean }
        | undefined,
    /** callback_data of the buttons of the latest message with a keyboard in one chat. */
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

function documentUpdate(from: ReturnType<typeof person>, fileId: string, fileName: string): Update {
  const update = textUpdate(from, "-");
  const { text: _text, ...message } = update.message!;
  return {
    ...update,
    message: {
      ...message,
      document: { file_id: fileId, file_unique_id: `u-${fileId}`, file_name: fileName },
    },
  } as Update;
}

let service: HearingsService;

beforeAll(async () => {
  [sokuluk, karakol] = (await seedMunicipalities(handle.db, 2)) as [number, number];
  // A name the admin's search can find (the fixtures' "Село 1" is all noise words and a number).
  await handle.db.execute(
    sql`update municipalities set name_ky = 'Каракол', name_ru = 'Каракол' where id = ${karakol}`,
  );
  const [staffId, , , otherStaffId, , adminId] = await seedUsers(handle.db, [
    { chatId: staff.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: residentKy.id, municipalityId: sokuluk, locale: "ky", topics: ["hearings"] },
    { chatId: residentRu.id, municipalityId: sokuluk, locale: "ru", topics: ["hearings"] },
    { chatId: otherStaff.id, municipalityId: karakol, locale: "ru" },
    { chatId: otherResident.id, municipalityId: karakol, locale: "ru", topics: ["hearings"] },
    { chatId: admin.id, municipalityId: null, locale: "en" },
  ]);
  await grantRole(handle.db, staffId!, "staff", sokuluk);
  await grantRole(handle.db, otherStaffId!, "staff", karakol);
  await grantRole(handle.db, adminId!, "admin", null);
  service = new HearingsService(handle.db, hearingSettingsOf(testDeps(handle.db).config));
  engine = startTestEngine(handle.db);
});

afterAll(async () => {
  await engine?.stop();
});

async function hearingRow(id: number) {
  const [row] = await handle.db.select().from(hearings).where(eq(hearings.id, id));
  return row!;
}

/** The staff member's own hearing made with the service (for the card tests). */
async function serviceHearing(overrides: Partial<HearingInput> = {}) {
  const staffActor = {
    userId: undefined,
    roles: [{ role: "staff" as const, municipalityId: sokuluk }],
  };
  const created = await service.create(staffActor, {
    municipalityId: sokuluk,
    kind: "budget_report",
    title: { ru: "Отчёт об исполнении бюджета" },
    startsAt: new Date(Date.now() + 20 * DAY),
    place: { ru: "Дом культуры" },
    ...overrides,
  });
  return service.publish(staffActor, created.id);
}

const isUpload = (c: ApiCall) =>
  c.method === "sendDocument" && typeof c.payload.document === "object";

describe("a hearing from the staff's flow to the residents' buttons", () => {
  let bot: ReturnType<typeof hearingsBot>;
  let id: number;

  it("creates a hearing step by step, refusing bad input, and previews it exactly as residents get it", async () => {
    bot = hearingsBot();
    await bot.send(textUpdate(staff, "/hearings"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.list_empty"));
    expect(bot.lastButtons(staff.id)).toEqual(["hs:new"]);

    await bot.send(pressUpdate(staff, "hs:new"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_kind"));
    // Typed text where a kind is wanted is asked again; the button answers.
    await bot.send(textUpdate(staff, "бюджет"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_kind"));
    await bot.send(pressUpdate(staff, "hs:kind:draft_budget"));

    // Title: Kyrgyz too long, then given; Russian skipped (allowed once Kyrgyz is there).
    await bot.send(textUpdate(staff, "ы".repeat(201)));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.too_long", { length: 201, max: 200 }));
    await bot.send(textUpdate(staff, "2027-жылдын бюджетинин долбоору"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_title_ru", { max: 200 }));
    await bot.send(textUpdate(staff, "Проект бюджета на 2027 год"));
    // Agenda: Kyrgyz skipped, Russian typed.
    await bot.send(pressUpdate(staff, "hs:skip"));
    await bot.send(textUpdate(staff, "1. Доходы\n2. Расходы <на школы> & сады"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_time"));

    // Time: unreadable, then past, then a real one ten days ahead (Bishkek time).
    await bot.send(textUpdate(staff, "в среду утром"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.time_bad"));
    await bot.send(textUpdate(staff, "01.01.2020 10:00"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.time_past"));
    const typed = `${formatTyped(new Date(Date.now() + 10 * DAY), TZ).slice(0, 10)} 10:00`;
    await bot.send(textUpdate(staff, typed));

    // Duration: out of range, then a button.
    await bot.send(textUpdate(staff, "5"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.duration_bad", { min: 15, max: 1440 }));
    await bot.send(pressUpdate(staff, "hs:dur:120"));

    // Place: Kyrgyz given, Russian skipped.
    await bot.send(textUpdate(staff, "Айыл өкмөтүнүн чоң залы"));
    await bot.send(pressUpdate(staff, "hs:skip"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_link"));

    // Online link: http refused, https taken.
    await bot.send(textUpdate(staff, "http://meet.example.kg/budget"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.link_not_https"));
    await bot.send(textUpdate(staff, "https://meet.example.kg/budget"));

    // Documents: a link, a file, something else (refused), then Done.
    await bot.send(textUpdate(staff, "https://sokuluk.kg/citizens-budget"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.document_added", { n: 1, max: 5 }));
    await bot.send(documentUpdate(staff, "FILE-DRAFT", "proekt.pdf"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.document_added", { n: 2, max: 5 }));
    await bot.send(textUpdate(staff, "сайт айыл окмоту"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.document_bad"));
    const beforePreview = bot.calls.length;
    await bot.send(pressUpdate(staff, "hs:done"));

    // The preview: the notice with the residents' buttons, and the file's own message.
    const preview = bot.calls.slice(beforePreview).filter((c) => c.payload.chat_id === staff.id);
    const notice = preview.find(
      (c) => c.method === "sendMessage" && String(c.payload.text).startsWith("📢"),
    );
    expect(notice?.payload.parse_mode).toBe("HTML");
    const text = String(notice?.payload.text);
    expect(text).toContain("<b>Проект бюджета на 2027 год</b>");
    expect(text).toContain("10:00–12:00");
    expect(text).toContain("Айыл өкмөтүнүн чоң залы");
    expect(text).toContain("https://meet.example.kg/budget");
    expect(text).toContain("&lt;на школы&gt; &amp; сады");
    const noticeButtons = notice?.payload.reply_markup as
      | { inline_keyboard: { callback_data: string }[][] }
      | undefined;
    expect(noticeButtons?.inline_keyboard.flat().map((b) => b.callback_data)).toEqual([
      "hr:go:0",
      "hr:no:0",
      "hr:ask:0",
      "hr:ics:0",
    ]);
    expect(
      preview.some((c) => c.method === "sendDocument" && c.payload.document === "FILE-DRAFT"),
    ).toBe(true);
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_save"));
    expect(await handle.db.select().from(hearings)).toHaveLength(0);

    await bot.send(pressUpdate(staff, "hs:save:publish"));
    const [row] = await handle.db.select().from(hearings);
    expect(row).toMatchObject({
      municipalityId: sokuluk,
      kind: "draft_budget",
      status: "published",
      title: { ky: "2027-жылдын бюджетинин долбоору", ru: "Проект бюджета на 2027 год" },
      agenda: { ru: "1. Доходы\n2. Расходы <на школы> & сады" },
      durationMin: 120,
      place: { ky: "Айыл өкмөтүнүн чоң залы" },
      onlineUrl: "https://meet.example.kg/budget",
      documents: [
        { kind: "link", url: "https://sokuluk.kg/citizens-budget" },
        { kind: "file", fileId: "FILE-DRAFT", name: "proekt.pdf" },
      ],
    });
    id = row!.id;
    expect(formatTyped(row!.startsAt, TZ)).toBe(typed);
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.published", { id }));

    // What a Russian-speaking resident receives is the preview, but for the real id.
    await engine.drain();
    const received = engine.sentTo(residentRu.id);
    expect(received).toHaveLength(1);
    const asPreviewed = JSON.parse(
      JSON.stringify(notice?.payload)
        .replaceAll("/hearings/0.ics", `/hearings/${id}.ics`)
        .replaceAll(':0"', `:${id}"`),
    );
    const { chat_id: _a, ...got } = received[0]!;
    const { chat_id: _b, ...want } = asPreviewed;
    expect(got).toEqual(want);
    // The Kyrgyz resident gets it in Kyrgyz (the title falls back to Kyrgyz, which exists).
    expect(String(engine.sentTo(residentKy.id)[0]?.text)).toContain(
      "2027-жылдын бюджетинин долбоору",
    );
  });

  it("lets a resident answer going, then not going, with a toast in their language", async () => {
    await bot.send(pressUpdate(residentKy, `hr:go:${id}`));
    expect(bot.lastAnswer()?.text).toBe(ky("hearings.resident.answered_going"));
    let rsvps = await handle.db.select().from(hearingRsvps).where(eq(hearingRsvps.hearingId, id));
    expect(rsvps.map((r) => r.answer)).toEqual(["going"]);
    await bot.send(pressUpdate(residentKy, `hr:no:${id}`));
    expect(bot.lastAnswer()?.text).toBe(ky("hearings.resident.answered_not_going"));
    rsvps = await handle.db.select().from(hearingRsvps).where(eq(hearingRsvps.hearingId, id));
    expect(rsvps.map((r) => r.answer)).toEqual(["not_going"]);

    // /hearings shows the hearing with the person's own answer and the same buttons.
    await bot.send(textUpdate(residentKy, "/hearings"));
    const texts = bot.texts(residentKy.id);
    expect(texts.at(-2)).toContain(
      ky("hearings.resident.list_header", { municipality: "Айыл 0" }).split("—")[0]!.trim(),
    );
    expect(texts.at(-1)).toContain(ky("hearings.resident.your_answer_not_going"));
    expect(texts.at(-1)).toContain("2027-жылдын бюджетинин долбоору");
    expect(bot.lastButtons(residentKy.id)).toEqual([
      `hr:go:${id}`,
      `hr:no:${id}`,
      `hr:ask:${id}`,
      `hr:ics:${id}`,
    ]);
  });

  it("takes a question of up to 1,000 characters, confirms it, and refuses past the per-person limit", async () => {
    await bot.send(pressUpdate(residentRu, `hr:ask:${id}`));
    expect(bot.lastText(residentRu.id)).toBe(ru("hearings.resident.ask_prompt", { max: 1000 }));
    await bot.send(textUpdate(residentRu, "в".repeat(1001)));
    expect(bot.lastText(residentRu.id)).toBe(
      ru("hearings.resident.ask_too_long", { length: 1001, max: 1000 }),
    );
    await bot.send(textUpdate(residentRu, "Сколько пойдёт на ремонт школы?"));
    expect(bot.lastText(residentRu.id)).toBe(
      ru("hearings.resident.asked", {
        body: ru("announcements.sender_aiyl_aimak", { name: "Село 0" }),
      }),
    );
    // The next message is no longer a question for the hearing.
    await bot.send(textUpdate(residentRu, "/help"));
    for (const question of ["Второй вопрос", "Третий вопрос"]) {
      await bot.send(pressUpdate(residentRu, `hr:ask:${id}`));
      await bot.send(textUpdate(residentRu, question));
    }
    const stored = await handle.db
      .select()
      .from(hearingQuestions)
      .where(eq(hearingQuestions.hearingId, id));
    expect(stored.map((q) => q.text)).toEqual([
      "Сколько пойдёт на ремонт школы?",
      "Второй вопрос",
      "Третий вопрос",
    ]);
    await bot.send(pressUpdate(residentRu, `hr:ask:${id}`));
    expect(bot.lastAnswer()).toEqual(
      expect.objectContaining({
        text: ru("hearings.errors.question_limit", { max: 3 }),
        show_alert: true,
      }),
    );
    await bot.send(textUpdate(residentRu, "Четвёртый"));
    expect(
      await handle.db.select().from(hearingQuestions).where(eq(hearingQuestions.hearingId, id)),
    ).toHaveLength(3);
  });

  it("sends the calendar file as a document on Telegram", async () => {
    await bot.send(pressUpdate(residentKy, `hr:ics:${id}`));
    const upload = [...bot.calls].reverse().find(isUpload);
    expect(upload?.payload.chat_id).toBe(residentKy.id);
    const file = upload?.payload.document as UploadedFile;
    expect(file.filename).toBe(`hearing-${id}.ics`);
    expect(file.content).toContain("BEGIN:VCALENDAR");
    expect(file.content).toContain("BEGIN:VEVENT");
    expect(upload?.payload.caption).toBe(
      ky("hearings.resident.calendar_caption", { title: "2027-жылдын бюджетинин долбоору" }),
    );
  });

  it("gives staff a list with counts, the card, the questions and the CSV export", async () => {
    await bot.send(textUpdate(staff, "/hearings"));
    const list = bot.lastText(staff.id);
    expect(list).toContain(`№${id}`);
    expect(list).toContain(ru("hearings.staff.counts", { going: 0, notGoing: 1, questions: 3 }));
    expect(bot.lastButtons(staff.id)).toEqual([`hs:open:${id}`, "hs:new"]);

    await bot.send(pressUpdate(staff, `hs:open:${id}`));
    const card = bot.lastText(staff.id);
    expect(card).toContain(ru("hearings.staff.status_published"));
    expect(card).toContain(ru("hearings.staff.card_reminders", { offsets: "7d, 1d, 2h" }));
    expect(bot.lastButtons(staff.id)).toEqual(
      ["edit", "reschedule", "reminders", "cancel", "questions", "export"]
        .map((a) => `hs:act:${id}:${a}`)
        .concat("hs:list"),
    );

    await bot.send(pressUpdate(staff, `hs:act:${id}:questions`));
    const questions = bot.lastText(staff.id);
    expect(questions).toContain("Сколько пойдёт на ремонт школы?");
    expect(questions).toContain("Третий вопрос");

    await bot.send(pressUpdate(staff, `hs:act:${id}:export`));
    const upload = [...bot.calls].reverse().find(isUpload);
    expect(upload?.payload.chat_id).toBe(staff.id);
    const csv = upload?.payload.document as UploadedFile;
    expect(csv.filename).toBe(`hearing-${id}.csv`);
    expect(csv.content.startsWith("\uFEFF")).toBe(true);
    expect(csv.content).toContain("Третий вопрос");
  });

  it("refuses staff of another municipality and forged or unknown buttons, changing nothing", async () => {
    const before = await hearingRow(id);
    for (const data of [
      `hs:open:${id}`,
      `hs:act:${id}:cancel`,
      `hs:act:${id}:reschedule`,
      `hs:act:${id}:export`,
      `hs:act:${id}:questions`,
    ]) {
      await bot.send(pressUpdate(otherStaff, data));
      expect(bot.lastAnswer(), data).toEqual({
        callback_query_id: expect.any(String),
        text: ru("hearings.errors.not_allowed"),
        show_alert: true,
      });
    }
    // No flow was entered: a typed "reason" cancels nothing.
    await bot.send(textUpdate(otherStaff, "Отмена по причине"));
    expect(await hearingRow(id)).toEqual(before);
    expect(bot.calls.some((c) => isUpload(c) && c.payload.chat_id === otherStaff.id)).toBe(false);

    // A resident of another municipality cannot answer or ask.
    await bot.send(pressUpdate(otherResident, `hr:go:${id}`));
    expect(bot.lastAnswer()?.text).toBe(ru("hearings.errors.other_municipality"));
    await bot.send(pressUpdate(otherResident, `hr:ask:${id}`));
    expect(bot.lastAnswer()?.text).toBe(ru("hearings.errors.other_municipality"));
    // Hearings that do not exist.
    await bot.send(pressUpdate(residentRu, "hr:go:999999"));
    expect(bot.lastAnswer()?.text).toBe(ru("hearings.errors.not_found"));
    await bot.send(pressUpdate(staff, "hs:open:999999"));
    expect(bot.lastAnswer()?.text).toBe(ru("hearings.errors.not_found"));
    const rsvps = await handle.db.select().from(hearingRsvps).where(eq(hearingRsvps.hearingId, id));
    expect(rsvps).toHaveLength(1);
  });

  it("cancels with a reason from the card; then every button of it refuses", async () => {
    await bot.send(pressUpdate(staff, `hs:act:${id}:cancel`));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_cancel_reason", { max: 500 }));
    await bot.send(textUpdate(staff, "Перенос сессии кенеша"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.cancelled", { id }));
    expect(await hearingRow(id)).toMatchObject({
      status: "cancelled",
      cancelReason: "Перенос сессии кенеша",
    });

    await bot.send(pressUpdate(residentKy, `hr:go:${id}`));
    expect(bot.lastAnswer()).toMatchObject({
      text: ky("hearings.errors.cancelled"),
      show_alert: true,
    });
    await bot.send(pressUpdate(residentRu, `hr:ask:${id}`));
    expect(bot.lastAnswer()).toMatchObject({
      text: ru("hearings.errors.cancelled"),
      show_alert: true,
    });
    for (const action of ["reschedule", "edit", "cancel", "reminders"]) {
      await bot.send(pressUpdate(staff, `hs:act:${id}:${action}`));
      expect(bot.lastAnswer()).toMatchObject({
        text: ru("hearings.errors.cancelled"),
        show_alert: true,
      });
    }
    await bot.send(pressUpdate(staff, `hs:act:${id}:held`));
    expect(bot.lastAnswer()).toMatchObject({
      text: ru("hearings.errors.cancelled"),
      show_alert: true,
    });
    const rsvps = await handle.db.select().from(hearingRsvps).where(eq(hearingRsvps.hearingId, id));
    expect(rsvps.map((r) => r.answer)).toEqual(["not_going"]);
  });
});

describe("the card's typed actions", () => {
  it("reschedules, sets reminders and edits the place, each re-checked and stored", async () => {
    const bot = hearingsBot();
    const h = await serviceHearing();

    await bot.send(pressUpdate(staff, `hs:act:${h.id}:reschedule`));
    await bot.send(textUpdate(staff, "вчера"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.time_bad"));
    const typed = `${formatTyped(new Date(Date.now() + 30 * DAY), TZ).slice(0, 10)} 15:30`;
    await bot.send(textUpdate(staff, typed));
    const moved = await hearingRow(h.id);
    expect(formatTyped(moved.startsAt, TZ)).toBe(typed);
    expect(moved.sequence).toBe(h.sequence + 1);
    expect(bot.lastText(staff.id)).toContain(`№${h.id}`);

    await bot.send(pressUpdate(staff, `hs:act:${h.id}:reminders`));
    await bot.send(textUpdate(staff, "завтра"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.reminders_bad", { max: 10 }));
    await bot.send(textUpdate(staff, "3d, 1h"));
    expect((await hearingRow(h.id)).reminderOffsets).toEqual([3 * 1440, 60]);
    expect(bot.lastText(staff.id)).toBe(
      ru("hearings.staff.reminders_set", { id: h.id, offsets: "3d, 1h" }),
    );

    await bot.send(pressUpdate(staff, `hs:act:${h.id}:edit`));
    await bot.send(pressUpdate(staff, "hs:fld:place"));
    await bot.send(textUpdate(staff, "Маданият үйү, 2-кабат"));
    await bot.send(pressUpdate(staff, "hs:skip")); // Russian kept as it is
    expect((await hearingRow(h.id)).place).toEqual({
      ky: "Маданият үйү, 2-кабат",
      ru: "Дом культуры",
    });
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.edited", { id: h.id }));
  });

  it("publishes a draft with one press, marks it held once started, and publishes the minutes", async () => {
    const bot = hearingsBot();
    const staffActor = {
      userId: undefined,
      roles: [{ role: "staff" as const, municipalityId: sokuluk }],
    };
    const draft = await service.create(staffActor, {
      municipalityId: sokuluk,
      kind: "other",
      title: { ky: "Жашылдандыруу боюнча угуу" },
      startsAt: new Date(Date.now() + 3 * DAY),
      place: { ky: "Мектеп" },
    });
    await bot.send(pressUpdate(staff, `hs:open:${draft.id}`));
    expect(bot.lastButtons(staff.id)).toContain(`hs:act:${draft.id}:publish`);
    await bot.send(pressUpdate(staff, `hs:act:${draft.id}:held`));
    expect(bot.lastAnswer()).toMatchObject({ show_alert: true });
    await bot.send(pressUpdate(staff, `hs:act:${draft.id}:publish`, 5555));
    expect(bot.lastAnswer()?.text).toBe(ru("hearings.staff.done_publish"));
    expect((await hearingRow(draft.id)).status).toBe("published");
    // The card is redrawn in place with the published hearing's actions.
    const edit = [...bot.calls].reverse().find((c) => c.method === "editMessageText");
    expect(edit?.payload).toMatchObject({ chat_id: staff.id, message_id: 5555 });
    expect(String(edit?.payload.text)).toContain(ru("hearings.staff.status_published"));
    await bot.send(pressUpdate(staff, `hs:act:${draft.id}:publish`));
    expect(bot.lastAnswer()).toMatchObject({ show_alert: true });

    // Minutes before it is held are refused; the start passes; held; then the minutes.
    await bot.send(pressUpdate(staff, `hs:act:${draft.id}:minutes`));
    expect(bot.lastAnswer()).toMatchObject({
      text: ru("hearings.errors.not_held"),
      show_alert: true,
    });
    await handle.db
      .update(hearings)
      .set({ startsAt: new Date(Date.now() - 3 * 3_600_000) })
      .where(eq(hearings.id, draft.id));
    await bot.send(pressUpdate(staff, `hs:act:${draft.id}:held`));
    expect(bot.lastAnswer()?.text).toBe(ru("hearings.staff.done_held"));
    expect((await hearingRow(draft.id)).status).toBe("held");
    await bot.send(pressUpdate(staff, `hs:act:${draft.id}:minutes`));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_minutes_text", { max: 3500 }));
    await bot.send(textUpdate(staff, "Бюджет колдоого алынды."));
    await bot.send(textUpdate(staff, "http://not-https.kg/minutes"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.link_not_https"));
    await bot.send(textUpdate(staff, "https://sokuluk.kg/minutes.pdf"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.minutes_published", { id: draft.id }));
    expect(await hearingRow(draft.id)).toMatchObject({
      minutesText: "Бюджет колдоого алынды.",
      minutesDocument: { kind: "link", url: "https://sokuluk.kg/minutes.pdf" },
    });

    // Residents see it among the held hearings with minutes.
    await bot.send(textUpdate(residentKy, "/hearings"));
    const past = bot.lastText(residentKy.id);
    expect(past).toContain(ky("hearings.resident.past_header"));
    expect(past).toContain("Бюджет колдоого алынды.");
    expect(past).toContain('href="https://sokuluk.kg/minutes.pdf"');
  });

  it("re-reads the role when writing: a staff member removed mid-flow changes nothing", async () => {
    const bot = hearingsBot();
    const h = await serviceHearing();
    await bot.send(pressUpdate(staff, `hs:act:${h.id}:cancel`));
    // Between the press and the typed reason, the person stops being staff of this municipality.
    const moveGrant = (to: number) =>
      handle.db.execute(sql`update role_grants set municipality_id = ${to}
        where user_id = (select id from users where chat_id = ${staff.id})`);
    await moveGrant(karakol);
    try {
      await bot.send(textUpdate(staff, "Причина"));
      expect(bot.lastText(staff.id)).toBe(ru("hearings.errors.not_allowed"));
      expect((await hearingRow(h.id)).status).toBe("published");
    } finally {
      await moveGrant(sokuluk);
    }
  });

  it("cancelling the flow at the preview stores nothing", async () => {
    const bot = hearingsBot();
    const count = (await handle.db.select().from(hearings)).length;
    await bot.send(pressUpdate(staff, "hs:new"));
    await bot.send(pressUpdate(staff, "hs:kind:other"));
    await bot.send(pressUpdate(staff, "hs:skip")); // no Kyrgyz title
    // Russian is required now: an old Skip button is stale and changes nothing.
    await bot.send(pressUpdate(staff, "hs:skip"));
    expect(bot.lastAnswer()?.text).toBe(ru("errors.stale_button"));
    await bot.send(textUpdate(staff, "Сход граждан"));
    await bot.send(pressUpdate(staff, "hs:skip"));
    await bot.send(pressUpdate(staff, "hs:skip"));
    await bot.send(
      textUpdate(staff, `${formatTyped(new Date(Date.now() + 5 * DAY), TZ).slice(0, 10)} 09:00`),
    );
    await bot.send(pressUpdate(staff, "hs:dur:60"));
    await bot.send(pressUpdate(staff, "hs:skip"));
    await bot.send(textUpdate(staff, "Клуб"));
    await bot.send(pressUpdate(staff, "hs:skip"));
    await bot.send(pressUpdate(staff, "hs:done"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.ask_save"));
    await bot.send(pressUpdate(staff, "hs:abort"));
    expect(bot.lastText(staff.id)).toBe(ru("hearings.staff.aborted"));
    expect(await handle.db.select().from(hearings)).toHaveLength(count);
  });

  it("asks an admin for the municipality by name and lists every municipality's hearings", async () => {
    const bot = hearingsBot();
    const en = translator("en");
    await serviceHearing();
    await bot.send(textUpdate(admin, "/hearings"));
    expect(bot.texts(admin.id).join("\n")).toContain("🏘");
    await bot.send(pressUpdate(admin, "hs:new"));
    expect(bot.lastText(admin.id)).toBe(en("hearings.staff.type_municipality"));
    await bot.send(textUpdate(admin, "Каракол"));
    expect(bot.lastButtons(admin.id)).toContain(`hs:mun:${karakol}`);
    await bot.send(pressUpdate(admin, `hs:mun:${karakol}`));
    expect(bot.lastText(admin.id)).toBe(en("hearings.staff.ask_kind"));
    await bot.send(textUpdate(admin, "/help"));
  });
});
