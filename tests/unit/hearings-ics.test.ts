/**
 * The hearings' calendar files, read back with an independent parser (ical.js): what a calendar
 * app would see, not what our own code thinks it wrote.
 */
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import {
  foldByOctets,
  hearingCalendar,
  hearingUid,
  municipalityCalendar,
} from "../../src/features/hearings/ics";
import type { HearingRow } from "../../src/features/hearings/schema";

const PUBLIC_URL = "https://aimak.example.kg";
const options = { municipalityName: "Кызыл-Суу", publicUrl: PUBLIC_URL };

function hearing(overrides: Partial<HearingRow> = {}): HearingRow {
  return {
    id: 42,
    municipalityId: 7,
    kind: "draft_budget",
    status: "published",
    title: { ky: "2027-жылдын бюджетинин долбоору", ru: "Проект бюджета на 2027 год" },
    agenda: { ky: "1. Кирешелер\n2. Чыгашалар", ru: "1. Доходы\n2. Расходы" },
    // 10:00 in Bishkek (UTC+6).
    startsAt: new Date("2026-06-10T04:00:00Z"),
    durationMin: 90,
    place: {
      ky: "Айыл өкмөтүнүн чоң залы, Ленин көч. 1",
      ru: "Большой зал айыл окмоту; ул. Ленина, 1",
    },
    onlineUrl: "https://meet.example.kg/budget-2027",
    documents: [
      { kind: "link", url: "https://budget.minfin.kg/kyzyl-suu", title: "Жарандык бюджет" },
      { kind: "file", fileId: "BQACAgIAAxkBAAIB", name: "budget.pdf" },
    ],
    reminderOffsets: [10080, 1440, 120],
    sequence: 3,
    cancelReason: null,
    minutesText: null,
    minutesDocument: null,
    createdByUserId: 1,
    publishedAt: new Date("2026-05-20T05:00:00Z"),
    cancelledAt: null,
    heldAt: null,
    minutesPublishedAt: null,
    createdAt: new Date("2026-05-19T05:00:00Z"),
    updatedAt: new Date("2026-05-21T05:00:00Z"),
    ...overrides,
  };
}

function parse(text: string): ICAL.Component {
  return new ICAL.Component(ICAL.parse(text));
}

function events(calendar: ICAL.Component): ICAL.Event[] {
  return calendar.getAllSubcomponents("vevent").map((v) => new ICAL.Event(v));
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

describe("a hearing's calendar file", () => {
  it("has one event with a stable UID, the sequence, UTC times and the Kyrgyz title", () => {
    const text = hearingCalendar(hearing(), options);
    const calendar = parse(text);
    expect(calendar.getFirstPropertyValue("method")).toBe("PUBLISH");
    const event = only(events(calendar));
    expect(event.uid).toBe("hearing-42@aimak.example.kg");
    expect(event.sequence).toBe(3);
    expect(event.startDate.toJSDate().toISOString()).toBe("2026-06-10T04:00:00.000Z");
    expect(event.endDate.toJSDate().toISOString()).toBe("2026-06-10T05:30:00.000Z");
    // Written in UTC: no floating times, no time zone a calendar would have to know.
    expect(text).toContain("DTSTART:20260610T040000Z");
    expect(text).toContain("DTEND:20260610T053000Z");
    expect(event.summary).toBe("2027-жылдын бюджетинин долбоору");
    expect(event.location).toBe("Айыл өкмөтүнүн чоң залы, Ленин көч. 1");
    const vevent = event.component;
    expect(vevent.getFirstPropertyValue("status")).toBe("CONFIRMED");
    expect(vevent.getFirstPropertyValue("url")).toBe(`${PUBLIC_URL}/hearings/42.ics`);
  });

  it("describes the kind, the agenda, the online link and the document links", () => {
    const event = only(events(parse(hearingCalendar(hearing(), options))));
    const description = event.description;
    expect(description).toContain("Жергиликтүү бюджеттин долбоору боюнча коомдук угуу · Кызыл-Суу");
    expect(description).toContain("1. Кирешелер\n2. Чыгашалар");
    expect(description).toContain("https://meet.example.kg/budget-2027");
    expect(description).toContain("Жарандык бюджет: https://budget.minfin.kg/kyzyl-suu");
    // A Telegram file id means nothing outside the chat.
    expect(description).not.toContain("BQACAgIAAxkBAAIB");
  });

  it("speaks Russian on request and falls back to the other language", () => {
    const ru = only(events(parse(hearingCalendar(hearing(), { ...options, locale: "ru" }))));
    expect(ru.summary).toBe("Проект бюджета на 2027 год");
    // Commas and semicolons survive the TEXT escaping.
    expect(ru.location).toBe("Большой зал айыл окмоту; ул. Ленина, 1");
    expect(ru.description).toContain("Публичные слушания по проекту местного бюджета");
    const kyOnly = hearing({ title: { ky: "Угуу" }, place: { ky: "Зал" }, agenda: {} });
    expect(only(events(parse(hearingCalendar(kyOnly, { ...options, locale: "ru" })))).summary).toBe(
      "Угуу",
    );
    const ruOnly = hearing({ title: { ru: "Слушания" } });
    expect(only(events(parse(hearingCalendar(ruOnly, options)))).summary).toBe("Слушания");
    const en = only(events(parse(hearingCalendar(hearing(), { ...options, locale: "en" }))));
    expect(en.description).toContain("Public hearing on the draft local budget · Кызыл-Суу");
  });

  it("keeps the UID and raises the sequence when the hearing is rescheduled", () => {
    const before = only(events(parse(hearingCalendar(hearing(), options))));
    const moved = hearing({ startsAt: new Date("2026-06-12T08:30:00Z"), sequence: 4 });
    const after = only(events(parse(hearingCalendar(moved, options))));
    expect(after.uid).toBe(before.uid);
    expect(after.sequence).toBeGreaterThan(before.sequence);
    expect(after.startDate.toJSDate().toISOString()).toBe("2026-06-12T08:30:00.000Z");
  });

  it("says METHOD:CANCEL and STATUS:CANCELLED for a cancelled hearing, with the reason", () => {
    const cancelled = hearing({
      status: "cancelled",
      sequence: 5,
      cancelReason: "Зал оңдолууда",
      cancelledAt: new Date("2026-06-01T05:00:00Z"),
    });
    const calendar = parse(hearingCalendar(cancelled, options));
    expect(calendar.getFirstPropertyValue("method")).toBe("CANCEL");
    const event = only(events(calendar));
    expect(event.component.getFirstPropertyValue("status")).toBe("CANCELLED");
    expect(event.uid).toBe("hearing-42@aimak.example.kg");
    expect(event.sequence).toBe(5);
    expect(event.description).toContain("Угуу жокко чыгарылды. Себеби: Зал оңдолууда");
  });

  it("writes CRLF lines of at most 75 octets that unfold to the same text", () => {
    const long = "Бюджет ".repeat(40).trim();
    const text = hearingCalendar(
      hearing({ title: { ky: long }, agenda: { ky: "Күн тартиби 🗳️ ".repeat(30) } }),
      options,
    );
    expect(text.endsWith("\r\n")).toBe(true);
    const lines = text.split("\r\n").slice(0, -1);
    for (const line of lines) {
      expect(Buffer.byteLength(line, "utf8"), line).toBeLessThanOrEqual(75);
      // No bare line feeds inside a line; continuations start with one space.
      expect(line).not.toMatch(/[\r\n]/);
    }
    expect(lines.some((l) => l.startsWith(" "))).toBe(true);
    // Folding never cut a character in two: the text decodes without replacement characters.
    expect(Buffer.from(text, "utf8").toString("utf8")).not.toContain("\uFFFD");
    expect(only(events(parse(text))).summary).toBe(long);
  });

  it("drops control characters of typed text that would break the file", () => {
    const text = hearingCalendar(
      hearing({ title: { ky: "Бюджет\u0007 2027\rугуу" }, place: { ky: "Зал\u0000 1" } }),
      options,
    );
    const event = only(events(parse(text)));
    expect(event.summary).toBe("Бюджет 2027\nугуу");
    expect(event.location).toBe("Зал 1");
  });

  it("points URL at its own file, and leaves it out for an address the format refuses", () => {
    const event = only(events(parse(hearingCalendar(hearing(), options))));
    expect(event.component.getFirstPropertyValue("url")).toBe(`${PUBLIC_URL}/hearings/42.ics`);
    const local = hearingCalendar(hearing(), { ...options, publicUrl: "http://127.0.0.1:0" });
    expect(only(events(parse(local))).component.getFirstPropertyValue("url")).toBeNull();
  });

  it("builds the same bytes for the same hearing (no clock inside)", () => {
    expect(hearingCalendar(hearing(), options)).toBe(hearingCalendar(hearing(), options));
  });
});

describe("a municipality's calendar feed", () => {
  it("lists several hearings, cancelled ones as STATUS:CANCELLED under METHOD:PUBLISH", () => {
    const feed = municipalityCalendar(
      [
        hearing({ id: 3, startsAt: new Date("2026-07-01T04:00:00Z"), sequence: 0 }),
        hearing({
          id: 1,
          kind: "budget_report",
          startsAt: new Date("2026-02-20T05:00:00Z"),
          status: "held",
        }),
        hearing({ id: 2, status: "cancelled", cancelReason: "Жок", sequence: 2 }),
      ],
      options,
    );
    const calendar = parse(feed);
    expect(calendar.getFirstPropertyValue("method")).toBe("PUBLISH");
    expect(calendar.getFirstPropertyValue("x-wr-calname")).toBe("Коомдук угуулар · Кызыл-Суу");
    const all = events(calendar);
    expect(all.map((e) => e.uid)).toEqual([
      "hearing-1@aimak.example.kg",
      "hearing-2@aimak.example.kg",
      "hearing-3@aimak.example.kg",
    ]);
    const status = (e: ICAL.Event) => e.component.getFirstPropertyValue("status");
    expect(all.map(status)).toEqual(["CONFIRMED", "CANCELLED", "CONFIRMED"]);
    expect(all.map((e) => e.sequence)).toEqual([3, 2, 0]);
    expect(all[0]!.description).toContain("аткарылышы тууралуу отчет");
    expect(all[2]!.startDate.toJSDate().toISOString()).toBe("2026-07-01T04:00:00.000Z");
  });

  it("is a valid calendar with no hearings yet", () => {
    const calendar = parse(municipalityCalendar([], { ...options, locale: "ru" }));
    expect(calendar.name).toBe("vcalendar");
    expect(calendar.getFirstPropertyValue("x-wr-calname")).toBe("Публичные слушания · Кызыл-Суу");
    expect(events(calendar)).toEqual([]);
  });
});

describe("calendar helpers", () => {
  it("takes the UID host from PUBLIC_URL", () => {
    expect(hearingUid(5, "http://127.0.0.1:3000")).toBe("hearing-5@127.0.0.1");
    expect(hearingUid(5, "not a url")).toBe("hearing-5@aimak");
  });

  it("folds by octets without splitting a character", () => {
    const line = `SUMMARY:${"ж".repeat(100)}`;
    const folded = foldByOctets(`${line}\r\n`);
    const parts = folded.split("\r\n").slice(0, -1);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(Buffer.byteLength(p, "utf8")).toBeLessThanOrEqual(75);
    expect(folded.replace(/\r\n /g, "")).toBe(`${line}\r\n`);
  });
});
