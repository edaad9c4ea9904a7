import { describe, expect, it } from "vitest";
import { formatHearingWhen, parseHearingTime } from "../../src/features/hearings/time";

const ZONE = "Asia/Bishkek";
const NOW = new Date("2026-12-01T06:00:00Z"); // 12:00 in Bishkek

describe("parseHearingTime", () => {
  it("reads the typed forms in Bishkek time (UTC+6 all year)", () => {
    const want = new Date("2027-06-12T04:00:00Z");
    for (const typed of [
      "2027-06-12 10:00",
      "2027.06.12 10:00",
      "2027/6/12 10:00",
      "12.06.2027 10:00",
      "12/06/2027 10:00",
      "12-06-2027 10.00",
      "  12.06.2027   10:00 ",
    ]) {
      expect(parseHearingTime(typed, ZONE, NOW), typed).toEqual(want);
    }
  });

  it("has no daylight saving: winter and summer are both UTC+6", () => {
    expect(parseHearingTime("2027-01-15 09:30", ZONE, NOW)).toEqual(
      new Date("2027-01-15T03:30:00Z"),
    );
    expect(parseHearingTime("2027-07-15 09:30", ZONE, NOW)).toEqual(
      new Date("2027-07-15T03:30:00Z"),
    );
  });

  it("takes the next such day when the year is left out", () => {
    expect(parseHearingTime("20.12 15:00", ZONE, NOW)).toEqual(new Date("2026-12-20T09:00:00Z"));
    // January typed in December is next January.
    expect(parseHearingTime("15.01 15:00", ZONE, NOW)).toEqual(new Date("2027-01-15T09:00:00Z"));
    // Today, earlier than now: next year.
    expect(parseHearingTime("01.12 11:00", ZONE, NOW)).toEqual(new Date("2027-12-01T05:00:00Z"));
  });

  it("returns a past time as typed (the service refuses it as past)", () => {
    const past = parseHearingTime("2025-05-01 10:00", ZONE, NOW);
    expect(past).toEqual(new Date("2025-05-01T04:00:00Z"));
    expect(past!.getTime()).toBeLessThan(NOW.getTime());
  });

  it("refuses what it cannot read", () => {
    for (const bad of [
      "",
      "tomorrow",
      "10:00",
      "2027-06-12",
      "2027-06-12 24:00",
      "2027-06-12 10:60",
      "31.02.2027 10:00",
      "2027-13-01 10:00",
      "12.06.27 10:00",
      "12.06.2027 10:00 extra",
    ]) {
      expect(parseHearingTime(bad, ZONE, NOW), bad).toBeUndefined();
    }
  });
});

describe("formatHearingWhen", () => {
  const at = new Date("2027-06-12T04:00:00Z");

  it("writes the date, the hours and the zone in each language", () => {
    expect(formatHearingWhen(at, 120, "ru", ZONE)).toBe(
      "12 июня 2027 г., 10:00–12:00 (время бишкекское)",
    );
    expect(formatHearingWhen(at, 120, "en", ZONE)).toBe("12 June 2027, 10:00–12:00 (Bishkek time)");
    const ky = formatHearingWhen(at, 90, "ky", ZONE);
    expect(ky).toMatch(/2027/);
    expect(ky).toMatch(/12-июн/);
    expect(ky).toContain("10:00–11:30");
    expect(ky).toContain("(Бишкек убактысы)");
  });

  it("names the end's date when it falls on the next day", () => {
    const late = new Date("2027-06-12T16:00:00Z"); // 22:00 in Bishkek
    expect(formatHearingWhen(late, 240, "en", ZONE)).toBe(
      "12 June 2027, 22:00 – 13 June 2027, 02:00 (Bishkek time)",
    );
  });
});
