import { describe, expect, it } from "vitest";
import { maskPhone, normalizeContactPhone, normalizePhone } from "../../src/features/polls/phone";

describe("normalizePhone: Kyrgyz numbers as people type them", () => {
  it.each([
    ["0555 123 456", "+996555123456"],
    ["0 (555) 12-34-56", "+996555123456"],
    ["0555-12-34-56", "+996555123456"],
    ["555123456", "+996555123456"],
    ["555 12 34 56", "+996555123456"],
    ["+996 555 123 456", "+996555123456"],
    ["+996 (555) 12-34-56", "+996555123456"],
    ["+996555123456", "+996555123456"],
    ["996555123456", "+996555123456"],
    ["00996555123456", "+996555123456"],
    ["00 996 555 123 456", "+996555123456"],
    ["  0700 123 456  ", "+996700123456"],
    ["0555\u00a0123\u00a0456", "+996555123456"],
    ["0555.123.456", "+996555123456"],
  ])("%j → %s", (typed, e164) => {
    expect(normalizePhone(typed)).toBe(e164);
  });

  it.each([
    ["0550123456", "+996550123456"],
    ["0555123456", "+996555123456"],
    ["0700123456", "+996700123456"],
    ["0770123456", "+996770123456"],
    ["0990123456", "+996990123456"],
    ["0220123456", "+996220123456"],
    ["0500123456", "+996500123456"],
    ["0312 62 12 34", "+996312621234"],
  ])("accepts the %s range (mobile operators and Bishkek land lines)", (typed, e164) => {
    expect(normalizePhone(typed)).toBe(e164);
  });

  it.each([
    ["+7 912 345 67 89", "+79123456789"],
    ["+79123456789", "+79123456789"],
    ["007 912 345 67 89", "+79123456789"],
    ["+1 202 555 0143", "+12025550143"],
    ["+44 20 7946 0958", "+442079460958"],
  ])("takes another country's number with its international prefix: %j", (typed, e164) => {
    expect(normalizePhone(typed)).toBe(e164);
  });

  it.each([
    ["", "empty"],
    ["   ", "blank"],
    ["12345", "too short"],
    ["+996555", "too short with the country code"],
    ["055512345", "one digit missing"],
    ["05551234567", "one digit too many"],
    ["0111111111", "not a Kyrgyz range"],
    ["abc", "letters"],
    ["0555abc123456", "letters inside"],
    ["tel: 0555123456", "a prefix with letters"],
    ["+996555123456 ext 12", "an extension"],
    ["79123456789", "a Russian number without +"],
    ["8 912 345 67 89", "a Russian number dialled with 8"],
    ["+7 000 000 00 00", "+7 but not a valid number"],
    ["+996 555 123 456 789 012", "far too long"],
    ["++996555123456", "two plus signs"],
    ["0555 123 456, 0700 123 456", "two numbers"],
  ])("refuses %j (%s)", (typed) => {
    expect(normalizePhone(typed)).toBeUndefined();
  });

  it("uses another default country when told", () => {
    expect(normalizePhone("8 912 345 67 89", "RU")).toBe("+79123456789");
    expect(normalizePhone("0555 123 456", "RU")).toBeUndefined();
  });
});

describe("normalizeContactPhone: what Telegram hands over", () => {
  it("reads the number as international, with or without +", () => {
    expect(normalizeContactPhone("996555123456")).toBe("+996555123456");
    expect(normalizeContactPhone("+996555123456")).toBe("+996555123456");
    expect(normalizeContactPhone("79123456789")).toBe("+79123456789");
  });

  it("refuses what is not a number", () => {
    expect(normalizeContactPhone("12")).toBeUndefined();
    expect(normalizeContactPhone("")).toBeUndefined();
  });
});

describe("maskPhone", () => {
  it("shows the country code and the last three digits only", () => {
    expect(maskPhone("+996555123456")).toBe("+996 *** *** 456");
    expect(maskPhone("+79123456789")).toBe("+7 *** *** 789");
    expect(maskPhone("+12025550143")).toBe("+1 *** *** 143");
  });

  it("never shows the middle digits", () => {
    const masked = maskPhone("+996700987654");
    expect(masked).not.toContain("700");
    expect(masked).not.toContain("987");
    expect(masked.endsWith("654")).toBe(true);
  });
});
