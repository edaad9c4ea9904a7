import { describe, expect, it } from "vitest";
import { parseSendTime } from "../../src/features/announcements/time";

const TZ = "Asia/Bishkek"; // UTC+6
const now = new Date("2026-11-23T08:00:00Z"); // 14:00 in Bishkek

describe("parseSendTime", () => {
  it("reads HH:MM as today in the time zone, or tomorrow once passed", () => {
    expect(parseSendTime("14:30", TZ, now)?.toISOString()).toBe("2026-11-23T08:30:00.000Z");
    expect(parseSendTime("9.15", TZ, now)?.toISOString()).toBe("2026-11-24T03:15:00.000Z");
  });

  it("reads dates with and without a year", () => {
    expect(parseSendTime("25.12 09:00", TZ, now)?.toISOString()).toBe("2026-12-25T03:00:00.000Z");
    expect(parseSendTime("01.02.2027 10:00", TZ, now)?.toISOString()).toBe(
      "2027-02-01T04:00:00.000Z",
    );
    expect(parseSendTime("05.01 10:00", TZ, now)?.toISOString()).toBe("2027-01-05T04:00:00.000Z");
  });

  it("refuses what it cannot read", () => {
    expect(parseSendTime("tomorrow", TZ, now)).toBeUndefined();
    expect(parseSendTime("25:00", TZ, now)).toBeUndefined();
    expect(parseSendTime("32.01 10:00", TZ, now)).toBeUndefined();
  });
});
