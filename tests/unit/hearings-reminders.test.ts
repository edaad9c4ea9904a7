import { asc, like } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { outgoingMessages } from "../../src/db/schema";
import { validateContent, visibleText } from "../../src/delivery/content";
import { dropExpiredMessages, startDueMessages } from "../../src/delivery/transitions";
import {
  minutesContents,
  noticeContent,
  reminderContent,
} from "../../src/features/hearings/notices";
import { planReminders, reminderKey } from "../../src/features/hearings/reminders";
import type { HearingRow } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import type { HearingActor } from "../../src/features/hearings/types";
import { useTestDatabase } from "../helpers/db";
import { grantRole, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const START = new Date("2030-06-12T04:00:00Z");
const DEFAULTS = [7 * 1440, 1440, 120];

describe("planReminders", () => {
  it("plans each offset before the start, expiring halfway to the next one", () => {
    const plan = planReminders(START, DEFAULTS, new Date(START.getTime() - 30 * DAY));
    expect(plan.map((r) => r.offsetMin)).toEqual([10080, 1440, 120]);
    expect(plan.map((r) => START.getTime() - r.at.getTime())).toEqual([7 * DAY, DAY, 2 * HOUR]);
    // 7d → expires halfway to the 1d one (4 days before); 1d → halfway to 2h; 2h → 1h before.
    expect(plan.map((r) => START.getTime() - r.expiresAt.getTime())).toEqual([
      4 * DAY,
      DAY - (DAY - 2 * HOUR) / 2,
      HOUR,
    ]);
  });

  it("sorts, de-duplicates and leaves out moments already passed", () => {
    const now = new Date(START.getTime() - 3 * DAY);
    expect(planReminders(START, [120, 1440, 10080, 1440], now).map((r) => r.offsetMin)).toEqual([
      1440, 120,
    ]);
    expect(planReminders(START, DEFAULTS, new Date(START.getTime() - HOUR))).toEqual([]);
    // Exactly at a reminder's moment it is no longer ahead.
    expect(
      planReminders(START, DEFAULTS, new Date(START.getTime() - DAY)).map((r) => r.offsetMin),
    ).toEqual([120]);
  });

  it("moves with a reschedule: sent ones come again when still ahead of the new time", () => {
    const now = new Date(START.getTime() - 2 * DAY); // the 7d reminder went already
    const later = new Date(START.getTime() + 10 * DAY);
    expect(planReminders(later, DEFAULTS, now).map((r) => r.offsetMin)).toEqual([10080, 1440, 120]);
    const sooner = new Date(START.getTime() - DAY);
    expect(planReminders(sooner, DEFAULTS, now).map((r) => r.offsetMin)).toEqual([120]);
  });

  it("has nothing to send for a hearing that starts now", () => {
    expect(planReminders(START, DEFAULTS, START)).toEqual([]);
  });
});

describe("reminder and notice texts", () => {
  const ctx = {
    sender: { ky: "Ала-Тоо айыл өкмөтү", ru: "Айыл окмоту Ала-Тоо", en: "Ala-Too Aiyl Okmotu" },
    publicUrl: "https://aimak.example/",
    timezone: "Asia/Bishkek",
  };
  const now = new Date();
  const hearing: HearingRow = {
    id: 5,
    municipalityId: 1,
    kind: "other",
    status: "published",
    title: { ru: "Слушание <важное>" },
    agenda: { ky: "Күн тартиби ".repeat(600) },
    startsAt: START,
    durationMin: 90,
    place: { ky: "Клуб" },
    onlineUrl: "https://meet.example.org/x",
    documents: [],
    reminderOffsets: DEFAULTS,
    sequence: 0,
    cancelReason: null,
    minutesText: null,
    minutesDocument: null,
    createdByUserId: null,
    publishedAt: now,
    cancelledAt: null,
    heldAt: null,
    minutesPublishedAt: null,
    createdAt: now,
    updatedAt: now,
  };

  it("keep the facts and shorten the agenda to Telegram's limit", () => {
    for (const content of [noticeContent(hearing, ctx), reminderContent(hearing, 120, ctx)]) {
      expect(() => validateContent(content)).not.toThrow();
      for (const l of ["ky", "ru", "en"] as const) {
        const seen = visibleText(content.text[l]!);
        expect(seen.length).toBeLessThanOrEqual(4096);
        expect(seen).toContain("Слушание <важное>");
        expect(seen).toContain("Клуб");
        expect(seen).toContain("https://meet.example.org/x");
        expect(seen).toContain("https://aimak.example/hearings/5.ics");
        expect(seen.trimEnd().endsWith("…")).toBe(true);
      }
    }
    const reminder = visibleText(reminderContent(hearing, 120, ctx).text.ru!);
    expect(reminder).toContain("через 2 часа");
    expect(reminder).toContain("12 июня 2030 г., 10:00–11:30 (время бишкекское)");
    expect(visibleText(reminderContent(hearing, 10080, ctx).text.en!)).toContain("in 7 days");
  });
});

describe("minutes texts", () => {
  it("send a file as a document with a short caption, a link inside the text", () => {
    const base = { title: { ky: "Бюджет" }, kind: "other", id: 3 } as unknown as HearingRow;
    const ctx = {
      sender: { ky: "А", ru: "Б", en: "C" },
      publicUrl: "https://a.example",
      timezone: "Asia/Bishkek",
    };
    const file = minutesContents(
      { ...base, minutesText: null, minutesDocument: { kind: "file", fileId: "DOC" } },
      ctx,
    );
    expect(file.text).toBeUndefined();
    expect(file.document?.document).toBe("DOC");
    expect(() => validateContent(file.document!)).not.toThrow();
    const both = minutesContents(
      {
        ...base,
        minutesText: "Кабыл алынды",
        minutesDocument: { kind: "link", url: "https://x.kg/m.pdf" },
      },
      ctx,
    );
    expect(both.document).toBeUndefined();
    expect(both.text?.text.ru).toContain("Кабыл алынды");
    expect(both.text?.text.ru).toContain('href="https://x.kg/m.pdf"');
  });
});

describe("reminders in the delivery store", () => {
  const handle = useTestDatabase();
  let clock = new Date(START.getTime() - 30 * DAY);
  let service: HearingsService;
  let staff: HearingActor;
  let municipalityId: number;

  beforeAll(async () => {
    [municipalityId] = (await seedMunicipalities(handle.db, 1)) as [number];
    const [staffId] = await seedUsers(handle.db, [
      { chatId: 7001, municipalityId, topics: [] },
      { chatId: 7002, municipalityId },
    ]);
    await grantRole(handle.db, staffId!, "staff", municipalityId);
    staff = { userId: staffId!, roles: [{ role: "staff", municipalityId }] };
    service = new HearingsService(
      handle.db,
      { timezone: "Asia/Bishkek", publicUrl: "https://aimak.example", defaultReminders: DEFAULTS },
      () => clock,
    );
  });

  async function publish(startsAt: Date): Promise<number> {
    const h = await service.create(staff, {
      municipalityId,
      kind: "budget_report",
      title: { ru: "Отчёт об исполнении бюджета" },
      startsAt,
      place: { ru: "Зал" },
    });
    await service.publish(staff, h.id);
    return h.id;
  }

  async function statuses(id: number): Promise<Record<string, string>> {
    const rows = await handle.db
      .select({ key: outgoingMessages.dedupeKey, status: outgoingMessages.status })
      .from(outgoingMessages)
      .where(like(outgoingMessages.dedupeKey, `hearing:${id}:%reminder%`))
      .orderBy(asc(outgoingMessages.id));
    return Object.fromEntries(rows.map((r) => [r.key ?? "", r.status]));
  }

  it("drops a reminder whose moment passed while every instance was down", async () => {
    const id = await publish(START);
    // Down from before the 7d reminder until 3 days before: past its expiry (4 days before).
    const backAt = new Date(START.getTime() - 3 * DAY);
    const started = await startDueMessages(handle.db, 20, backAt);
    expect(await statuses(id)).toEqual({
      [reminderKey(id, 0, 10080)]: "cancelled",
      [reminderKey(id, 0, 1440)]: "scheduled",
      [reminderKey(id, 0, 120)]: "scheduled",
    });
    expect(started).toEqual([]);
    // Back a little late for the 1d one, still before its expiry: it goes, once.
    const late = new Date(START.getTime() - DAY + 2 * HOUR);
    expect(await startDueMessages(handle.db, 20, late)).toHaveLength(1);
    expect(await startDueMessages(handle.db, 20, late)).toEqual([]);
    expect((await statuses(id))[reminderKey(id, 0, 1440)]).toBe("sending");
    // The 2h one's expiry (1h before) passes too: dropped, never sent late.
    expect(await dropExpiredMessages(handle.db, new Date(START.getTime() - 30 * MIN))).toHaveLength(
      1,
    );
    expect((await statuses(id))[reminderKey(id, 0, 120)]).toBe("cancelled");
  });

  it("sends nothing for a cancelled hearing and moves reminders with a reschedule", async () => {
    clock = new Date(START.getTime() - 30 * DAY);
    const start = new Date(START.getTime() + 40 * DAY);
    const id = await publish(start);
    await service.reschedule(staff, id, new Date(start.getTime() + DAY));
    const moved = await statuses(id);
    expect(Object.values(moved).filter((s) => s === "scheduled")).toHaveLength(3);
    expect(moved[reminderKey(id, 0, 1440)]).toBe("cancelled");
    expect(moved[reminderKey(id, 1, 1440)]).toBe("scheduled");
    await service.cancel(staff, id, "Перенос на осень");
    const after = await statuses(id);
    expect(Object.values(after).every((s) => s === "cancelled")).toBe(true);
    // Nothing of it starts at any later time.
    const due = await startDueMessages(handle.db, 50, new Date(start.getTime() + 2 * DAY));
    const keys = await handle.db
      .select({ key: outgoingMessages.dedupeKey, id: outgoingMessages.id })
      .from(outgoingMessages)
      .where(like(outgoingMessages.dedupeKey, `hearing:${id}:%`));
    expect(due.filter((d) => keys.some((k) => k.id === d))).toEqual([]);
  });
});
