import { and, asc, eq, like } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { FeatureRuntime } from "../../src/bot/feature";
import { auditLog, deliveries, outgoingMessages } from "../../src/db/schema";
import { startMessage, visibleText } from "../../src/delivery";
import { HEARINGS_NUDGE_JOB, registerHearingJobs } from "../../src/features/hearings/jobs";
import { HearingsService } from "../../src/features/hearings/service";
import { formatHearingWhen } from "../../src/features/hearings/time";
import {
  CLI_ACTOR,
  type HearingActor,
  HearingError,
  type HearingErrorCode,
  type HearingInput,
} from "../../src/features/hearings/types";
import { useTestDatabase } from "../helpers/db";
import { grantRole, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = new Date("2030-03-01T04:00:00Z");

const handle = useTestDatabase();
let clock = T0;
let service: HearingsService;
let muniA: number;
let muniB: number;
let staffA: HearingActor;
let staffB: HearingActor;
/** Residents of A: subscribed ru, subscribed ky, not subscribed; of B: subscribed. */
let subRu: number;
let subKy: number;
let unsub: number;
let lateGoing: number;
let otherMuni: number;
let staffAId: number;

function input(overrides: Partial<HearingInput> = {}): HearingInput {
  return {
    municipalityId: muniA,
    kind: "draft_budget",
    title: { ky: "2031-жылдын бюджети", ru: "Бюджет на 2031 год" },
    agenda: { ru: "1. Доходы\n2. Расходы" },
    startsAt: new Date(T0.getTime() + 10 * DAY),
    durationMin: 120,
    place: { ky: "Айыл өкмөтүнүн залы", ru: "Зал айыл окмоту" },
    onlineUrl: "https://meet.example.org/budget",
    documents: [
      { kind: "link", url: "https://budget.example.kg/2031", title: "Гражданский бюджет" },
      { kind: "file", fileId: "FILE-1", name: "draft.pdf" },
    ],
    ...overrides,
  };
}

async function refused(p: Promise<unknown>, code: HearingErrorCode): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected HearingError(${code})`).toBeInstanceOf(HearingError);
  expect((error as HearingError).code).toBe(code);
}

async function messagesOf(hearingId: number) {
  return handle.db
    .select()
    .from(outgoingMessages)
    .where(like(outgoingMessages.dedupeKey, `hearing:${hearingId}:%`))
    .orderBy(asc(outgoingMessages.id));
}

async function recipients(messageId: number): Promise<number[]> {
  const rows = await handle.db
    .select({ userId: deliveries.userId })
    .from(deliveries)
    .where(eq(deliveries.messageId, messageId));
  return rows.map((r) => Number(r.userId)).sort((a, b) => a - b);
}

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

beforeAll(async () => {
  const db = handle.db;
  [muniA, muniB] = (await seedMunicipalities(db, 2)) as [number, number];
  const ids = await seedUsers(db, [
    { chatId: 9001, municipalityId: muniA, topics: [] },
    { chatId: 9002, municipalityId: muniB, topics: [] },
    { chatId: 9003, municipalityId: muniA, locale: "ru" },
    { chatId: 9004, municipalityId: muniA, locale: "ky" },
    { chatId: 9005, municipalityId: muniA, topics: ["polls"] },
    { chatId: 9006, municipalityId: muniA, locale: "en", topics: [] },
    { chatId: 9007, municipalityId: muniB },
  ]);
  [staffAId, , subRu, subKy, unsub, lateGoing, otherMuni] = ids as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  await grantRole(db, ids[0]!, "staff", muniA);
  await grantRole(db, ids[1]!, "staff", muniB);
  staffA = { userId: ids[0]!, roles: [{ role: "staff", municipalityId: muniA }] };
  staffB = { userId: ids[1]!, roles: [{ role: "staff", municipalityId: muniB }] };
  service = new HearingsService(
    db,
    {
      timezone: "Asia/Bishkek",
      publicUrl: "https://aimak.example",
      defaultReminders: [7 * 1440, 1440, 120],
    },
    () => clock,
  );
});

describe("hearings service", () => {
  let id: number;

  it("refuses bad input and staff of another municipality, changing nothing", async () => {
    await refused(service.create(staffB, input()), "not_allowed");
    await refused(service.create(staffA, input({ title: { ky: "  ", ru: "" } })), "no_title");
    await refused(
      service.create(staffA, input({ startsAt: new Date(T0.getTime() - 1) })),
      "time_past",
    );
    await refused(service.create(staffA, input({ durationMin: 10 })), "duration_bad");
    await refused(service.create(staffA, input({ place: {} })), "no_place");
    await refused(
      service.create(staffA, input({ onlineUrl: "http://meet.example.org" })),
      "link_not_https",
    );
    await refused(
      service.create(staffA, input({ documents: [{ kind: "link", url: "javascript:alert(1)" }] })),
      "link_not_https",
    );
    await refused(
      service.create(
        staffA,
        input({
          documents: Array.from({ length: 6 }, () => ({ kind: "link", url: "https://a.kg" })),
        }),
      ),
      "too_many_documents",
    );
    await refused(
      service.create(staffA, input({ agenda: { ru: "x".repeat(3001) } })),
      "agenda_too_long",
    );
    await refused(service.create(staffA, input({ reminderOffsets: [] })), "reminders_bad");
    await refused(service.create(staffA, input({ reminderOffsets: [0] })), "reminders_bad");
    expect(await service.list(CLI_ACTOR)).toEqual([]);
  });

  it("creates a draft and publishes it to the subscribers only, with documents and reminders", async () => {
    const draft = await service.create(staffA, input());
    id = draft.id;
    expect(draft.status).toBe("draft");
    expect(draft.reminderOffsets).toEqual([10080, 1440, 120]);
    expect(await messagesOf(id)).toEqual([]);
    expect(await service.publicHearing(id)).toBeUndefined();
    await refused(service.answer(subRu, id, "going"), "not_found");

    const published = await service.publish(staffA, id);
    expect(published.status).toBe("published");
    await refused(service.publish(staffA, id), "already_published");

    const messages = await messagesOf(id);
    const byKey = new Map(messages.map((m) => [m.dedupeKey, m]));
    const notice = byKey.get(`hearing:${id}:s0:notice`)!;
    expect(notice.kind).toBe("hearing_notice");
    expect(notice.status).toBe("sending");
    expect(await recipients(notice.id)).toEqual(sorted([subRu, subKy]));
    const ru = notice.content.text.ru!;
    expect(ru).toContain("Бюджет на 2031 год");
    expect(ru).toContain("11 марта 2030 г., 10:00–12:00");
    expect(ru).toContain("Зал айыл окмоту");
    expect(ru).toContain("https://meet.example.org/budget");
    expect(ru).toContain(`https://aimak.example/hearings/${id}.ics`);
    expect(notice.content.text.ky).toContain("2031-жылдын бюджети");
    expect(notice.content.text.en).toContain("Bishkek time");
    // What a WhatsApp template is filled with outside the 24-hour window: plain text, no markup.
    const params = notice.content.templateParams!;
    expect(params.title).toEqual({
      ky: "2031-жылдын бюджети",
      ru: "Бюджет на 2031 год",
      en: "2031-жылдын бюджети",
    });
    expect(params.date?.ru).toBe(
      formatHearingWhen(published.startsAt, published.durationMin, "ru", "Asia/Bishkek"),
    );
    expect(ru).toContain(params.date!.ru!);
    expect(params.place).toMatchObject({ ky: "Айыл өкмөтүнүн залы", ru: "Зал айыл окмоту" });
    expect(params.municipality?.ru).toBe("Айыл окмоту Село 0");
    expect(params.headline?.ru).toBe("Публичные слушания по проекту местного бюджета");
    for (const text of Object.values(params).flatMap((t) => Object.values(t))) {
      expect(text).not.toMatch(/[<>]|&[a-z]+;/);
    }
    expect(notice.content.buttons?.flat().map((b) => b.callbackData)).toEqual([
      `hr:go:${id}`,
      `hr:no:${id}`,
      `hr:ask:${id}`,
      `hr:ics:${id}`,
    ]);
    const doc = byKey.get(`hearing:${id}:s0:doc:2`)!;
    expect(doc.content.document).toBe("FILE-1");
    expect(await recipients(doc.id)).toEqual(sorted([subRu, subKy]));

    const reminders = messages.filter((m) => m.kind === "hearing_reminder");
    expect(reminders.map((m) => m.dedupeKey)).toEqual([
      `hearing:${id}:s0:reminder:10080`,
      `hearing:${id}:s0:reminder:1440`,
      `hearing:${id}:s0:reminder:120`,
    ]);
    for (const r of reminders) {
      expect(r.status).toBe("scheduled");
      expect(r.audience).toEqual({ kind: "hearing_reminder", params: { hearingId: id } });
    }
    const start = published.startsAt.getTime();
    expect(reminders[1]!.scheduledAt?.getTime()).toBe(start - DAY);
    expect(reminders[1]!.expiresAt?.getTime()).toBe(start - DAY + (DAY - 2 * HOUR) / 2);
    expect(reminders[1]!.content.text.ru).toContain("через 1 день");
    expect(reminders[1]!.content.templateParams).toMatchObject({
      title: { ru: "Бюджет на 2031 год" },
      place: { ru: "Зал айыл окмоту" },
      headline: { ru: "Напоминание: слушание начнётся через 1 день" },
    });
    expect(await service.publicHearing(id)).toMatchObject({ id, status: "published" });
  });

  it("takes answers and questions from residents of the municipality until the start", async () => {
    await refused(service.answer(otherMuni, id, "going"), "other_municipality");
    await refused(service.answer(subRu, 999_999, "going"), "not_found");
    await service.answer(subRu, id, "going");
    await service.answer(subRu, id, "not_going");
    await service.answer(subRu, id, "going");
    await service.answer(subKy, id, "not_going");
    const summary = await service.answer(unsub, id, "going");
    expect(summary.counts).toEqual({ going: 2, notGoing: 1, questions: 0 });
    expect(await service.answerOf(subRu, id)).toBe("going");

    await refused(service.ask(subRu, id, "   "), "question_empty");
    await refused(service.ask(subRu, id, "x".repeat(1001)), "question_too_long");
    await refused(service.ask(otherMuni, id, "Вопрос"), "other_municipality");
    for (const q of ["=1+1", "Сколько на дороги?", "@ремонт школы"]) {
      expect((await service.ask(subRu, id, q)).text).toBe(q);
    }
    await refused(service.ask(subRu, id, "Четвёртый"), "question_limit");
    await refused(service.assertMayAsk(subRu, id), "question_limit");
    expect((await service.assertMayAsk(subKy, id)).id).toBe(id);
    const got = await service.get(staffA, id);
    expect(got.counts).toEqual({ going: 2, notGoing: 1, questions: 3 });
    expect((await service.questions(staffA, id)).map((q) => q.text)).toHaveLength(3);
  });

  it("reminds subscribers and who answered going since, never who answered not going", async () => {
    // Answers going after the reminder was planned, and is not subscribed.
    await service.answer(lateGoing, id, "going");
    const reminder = (await messagesOf(id)).find(
      (m) => m.dedupeKey === `hearing:${id}:s0:reminder:1440`,
    )!;
    expect(await startMessage(handle.db, reminder.id)).toBe(true);
    expect(await recipients(reminder.id)).toEqual(sorted([subRu, unsub, lateGoing]));
  });

  it("exports RSVPs and questions as CSV with a BOM and escaped formulas", async () => {
    const csv = await service.exportCsv(staffA, id, "ru");
    expect(csv.startsWith("\uFEFF")).toBe(true);
    expect(csv).toContain("Тип");
    expect(csv).toContain("'=1+1");
    expect(csv).toContain("'@ремонт школы");
    expect(csv).toContain("не приду");
    await refused(service.exportCsv(staffB, id), "not_allowed");
  });

  it("reschedules: old reminders cancelled, new ones planned, told people get both times", async () => {
    await refused(service.reschedule(staffA, id, new Date(T0.getTime() - DAY)), "time_past");
    const before = await service.get(staffA, id);
    await refused(service.reschedule(staffA, id, before.hearing.startsAt), "same_time");
    const moved = await service.reschedule(staffA, id, new Date(T0.getTime() + 12 * DAY));
    expect(moved.sequence).toBe(1);
    const messages = await messagesOf(id);
    const status = new Map(messages.map((m) => [m.dedupeKey, m.status]));
    expect(status.get(`hearing:${id}:s0:reminder:10080`)).toBe("cancelled");
    expect(status.get(`hearing:${id}:s0:reminder:120`)).toBe("cancelled");
    // Even the one on its way: its rows not yet sent carry the old time.
    expect(status.get(`hearing:${id}:s0:reminder:1440`)).toBe("cancelled");
    for (const o of [10080, 1440, 120]) {
      expect(status.get(`hearing:${id}:s1:reminder:${o}`)).toBe("scheduled");
    }
    const update = messages.find((m) => m.dedupeKey === `hearing:${id}:s1:update`)!;
    expect(update.kind).toBe("hearing_update");
    const text = update.content.text.ru!;
    expect(text).toContain("<s>11 марта 2030 г., 10:00–12:00");
    expect(visibleText(text)).toContain("13 марта 2030 г., 10:00–12:00");
    expect(update.content.templateParams).toMatchObject({
      date: { ru: "13 марта 2030 г., 10:00–12:00 (время бишкекское)" },
      headline: {
        ru: "Слушание перенесено (Было: 11 марта 2030 г., 10:00–12:00 (время бишкекское))",
      },
    });
    // Told: the notice's recipients, who answered, who asked; not the other municipality.
    expect(await recipients(update.id)).toEqual(sorted([subRu, subKy, unsub, lateGoing]));
  });

  it("refuses staff of another municipality for every action", async () => {
    await refused(service.get(staffB, id), "not_allowed");
    await refused(service.edit(staffB, id, { title: { ru: "X" } }), "not_allowed");
    await refused(service.publish(staffB, id), "not_allowed");
    await refused(service.reschedule(staffB, id, new Date(T0.getTime() + 20 * DAY)), "not_allowed");
    await refused(service.setReminders(staffB, id, [60]), "not_allowed");
    await refused(service.cancel(staffB, id, "нет"), "not_allowed");
    await refused(service.markHeld(staffB, id), "not_allowed");
    await refused(service.publishMinutes(staffB, id, { text: "x" }), "not_allowed");
    await refused(service.questions(staffB, id), "not_allowed");
    await refused(service.list(staffB, { municipalityId: muniA }), "not_allowed");
    expect(await service.list(staffB)).toEqual([]);
    expect((await service.list(staffA)).map((s) => s.hearing.id)).toEqual([id]);
  });

  it("edits a published hearing: new place told, reminders re-planned", async () => {
    const edited = await service.edit(staffA, id, { place: { ru: "Дом культуры" } });
    expect(edited.sequence).toBe(2);
    const messages = await messagesOf(id);
    const status = new Map(messages.map((m) => [m.dedupeKey, m.status]));
    expect(status.get(`hearing:${id}:s1:reminder:1440`)).toBe("cancelled");
    expect(status.get(`hearing:${id}:s2:reminder:1440`)).toBe("scheduled");
    const update = messages.find((m) => m.dedupeKey === `hearing:${id}:s2:update`)!;
    expect(update.content.text.ru).toContain("Дом культуры");
    const withReminders = await service.setReminders(staffA, id, [60, 2880]);
    expect(withReminders.reminderOffsets).toEqual([2880, 60]);
    const after = new Map((await messagesOf(id)).map((m) => [m.dedupeKey, m.status]));
    expect(after.get(`hearing:${id}:s2:reminder:1440`)).toBe("cancelled");
    expect(after.get(`hearing:${id}:s3:reminder:2880`)).toBe("scheduled");
    expect(after.get(`hearing:${id}:s3:reminder:60`)).toBe("scheduled");
  });

  it("cancels: everything not sent is cancelled and told people get the reason", async () => {
    await refused(service.cancel(staffA, id, "  "), "reason_empty");
    const cancelled = await service.cancel(staffA, id, "Ремонт зала");
    expect(cancelled.status).toBe("cancelled");
    const messages = await messagesOf(id);
    for (const m of messages.filter((m) => m.kind === "hearing_reminder")) {
      expect(m.status, m.dedupeKey ?? "").not.toBe("scheduled");
    }
    const update = messages.find((m) => m.dedupeKey === `hearing:${id}:cancel`)!;
    expect(update.status).toBe("sending");
    expect(update.content.text.ru).toContain("Ремонт зала");
    expect(await recipients(update.id)).toEqual(sorted([subRu, subKy, unsub, lateGoing]));
    await refused(service.answer(subRu, id, "going"), "cancelled");
    await refused(service.ask(subKy, id, "Почему?"), "cancelled");
    await refused(service.cancel(staffA, id, "ещё раз"), "cancelled");
    await refused(service.publish(staffA, id), "cancelled");
    await refused(service.markHeld(staffA, id), "cancelled");
  });

  it("holds a second hearing, publishes its minutes to told people, nudges staff once", async () => {
    const h = await service.create(
      CLI_ACTOR,
      input({ startsAt: new Date(T0.getTime() + 3 * HOUR), documents: [] }),
    );
    await service.publish(CLI_ACTOR, h.id);
    // Only the 2-hour reminder is still ahead.
    const reminders = (await messagesOf(h.id)).filter((m) => m.kind === "hearing_reminder");
    expect(reminders.map((m) => m.dedupeKey)).toEqual([`hearing:${h.id}:s0:reminder:120`]);
    await service.answer(unsub, h.id, "going");
    await refused(service.markHeld(staffA, h.id), "not_started");
    await refused(service.publishMinutes(staffA, h.id, { text: "Протокол" }), "not_held");

    clock = new Date(T0.getTime() + 4 * HOUR);
    await refused(service.answer(subRu, h.id, "going"), "started");
    await refused(service.ask(subRu, h.id, "Поздно?"), "started");
    const upcoming = await service.forResidents(muniA);
    expect(upcoming.upcoming.map((x) => x.id)).toEqual([h.id]);
    const held = await service.markHeld(staffA, h.id);
    expect(held.status).toBe("held");
    await refused(service.markHeld(staffA, h.id), "already_held");
    await refused(service.publishMinutes(staffA, h.id, {}), "minutes_empty");
    await refused(
      service.publishMinutes(staffA, h.id, { document: { url: "http://x.kg/p.pdf" } }),
      "link_not_https",
    );

    // 3 days later without minutes: one nudge to the municipality's staff, never twice.
    clock = new Date(T0.getTime() + 4 * HOUR + 3 * DAY);
    expect(await service.nudgeMissingMinutes()).toBe(1);
    expect(await service.nudgeMissingMinutes()).toBe(0);
    const nudge = (await messagesOf(h.id)).find((m) => m.dedupeKey === `hearing:${h.id}:nudge:3d`)!;
    expect(nudge.kind).toBe("hearing_nudge");
    expect(await recipients(nudge.id)).toEqual([staffAId]);
    clock = new Date(T0.getTime() + 4 * HOUR + 7 * DAY);
    expect(await service.nudgeMissingMinutes()).toBe(1);
    expect(await service.nudgeMissingMinutes()).toBe(0);

    const done = await service.publishMinutes(staffA, h.id, {
      text: "Бюджет одобрен.",
      document: { url: "https://budget.example.kg/minutes.pdf" },
    });
    expect(done.minutesPublishedAt).not.toBeNull();
    await refused(service.publishMinutes(staffA, h.id, { text: "Ещё" }), "minutes_published");
    const minutes = (await messagesOf(h.id)).find(
      (m) => m.dedupeKey === `hearing:${h.id}:minutes`,
    )!;
    expect(minutes.kind).toBe("hearing_minutes");
    expect(minutes.content.text.ru).toContain("Бюджет одобрен.");
    expect(minutes.content.text.ru).toContain("https://budget.example.kg/minutes.pdf");
    // Told: the notice's recipients and who answered; the staff's nudge does not count.
    expect(await recipients(minutes.id)).toEqual(sorted([subRu, subKy, unsub]));
    expect(await service.nudgeMissingMinutes()).toBe(0);

    const residents = await service.forResidents(muniA);
    expect(residents.upcoming).toEqual([]);
    expect(residents.past.map((x) => x.id)).toEqual([h.id]);
    expect((await service.publicHearingsOf(muniA)).map((x) => x.status).sort()).toEqual([
      "cancelled",
      "held",
    ]);
  });

  it("registers the nudge job on the scheduler (cron overridable)", async () => {
    const jobs: { name: string; cron: string; run: () => Promise<void> }[] = [];
    const runtime = {
      deps: {
        db: handle.db,
        config: {
          timezone: "Asia/Bishkek",
          publicUrl: "https://a.example",
          hearingReminders: [60],
        },
        logger: { info: () => {} },
      },
      scheduler: {
        addJob: (name: string, cron: string, run: () => Promise<void>) =>
          jobs.push({ name, cron, run }),
      },
      jobSchedules: { [HEARINGS_NUDGE_JOB]: "*/5 * * * * *" },
    } as unknown as FeatureRuntime;
    registerHearingJobs(runtime);
    expect(jobs.map((j) => [j.name, j.cron])).toEqual([[HEARINGS_NUDGE_JOB, "*/5 * * * * *"]]);
    // Real clock: the test's hearings (2030) are not 3 days past; it runs and nudges nobody.
    await expect(jobs[0]!.run()).resolves.toBeUndefined();
  });

  it("wrote the audit log for every transition", async () => {
    const rows = await handle.db
      .select()
      .from(auditLog)
      .where(and(like(auditLog.action, "hearing.%")))
      .orderBy(asc(auditLog.id));
    expect(rows.map((r) => r.action)).toEqual([
      "hearing.create",
      "hearing.publish",
      "hearing.export",
      "hearing.reschedule",
      "hearing.edit",
      "hearing.reminders",
      "hearing.cancel",
      "hearing.create",
      "hearing.publish",
      "hearing.held",
      "hearing.minutes",
    ]);
    expect(rows[0]).toMatchObject({
      actorUserId: staffAId,
      actorLabel: "staff",
      municipalityId: muniA,
    });
    expect(rows[7]).toMatchObject({ actorUserId: null, actorLabel: "cli" });
  });
});
