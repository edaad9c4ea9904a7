import { describe, expect, it } from "vitest";
import {
  anyOf,
  CALLBACK_DATA_MAX_BYTES,
  CallbackDataError,
  callbackData,
  callbackDataRegistry,
  field,
} from "../../src/bot/callback-data";
// Every feature, so that every button's definition is in the registry.
import { features } from "../../src/features";
import { CB as faq } from "../../src/features/faq/keyboards";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * Callback data as buttons already sent to people's chats carry it. A deploy must keep every
 * one of them working: each is read by exactly one definition and packed back identically.
 */
const SENT_BEFORE: [string, Record<string, unknown>][] = [
  ["lang:ky", { locale: "ky" }],
  ["lang:ru", { locale: "ru" }],
  ["lang:en", { locale: "en" }],
  ["browse", {}],
  ["region:3", { id: 3 }],
  ["district:41", { id: 41 }],
  ["mun:12", { id: 12 }],
  ["topic:hearings", { topic: "hearings" }],
  ["topic:polls", { topic: "polls" }],
  ["topic:announcements", { topic: "announcements" }],
  ["topics:done", {}],
  ["consent:yes", {}],
  ["settings:language", { item: "language" }],
  ["settings:municipality", { item: "municipality" }],
  ["settings:topics", { item: "topics" }],
  ["settings:close", { item: "close" }],
  ["invite:staff", { role: "staff" }],
  ["invite:deputy", { role: "deputy" }],
  ["invite:lawyer", { role: "lawyer" }],
  ["invite:admin", { role: "admin" }],
  ["faq:fb:appeal-language:1", { entryId: "appeal-language", helpful: true }],
  ["faq:fb:lawyer-q12:0", { entryId: "lawyer-q12", helpful: false }],
  ["faq:show:appeal-language", { entryId: "appeal-language" }],
  ["faq:esc:57", { pendingId: 57 }],
  ["faq:esc", {}],
  ["faq:take:9", { questionId: 9 }],
  ["faq:pub:9", { questionId: 9 }],
  ["faq:ans:send:2", { action: "send", draft: 2 }],
  ["faq:ans:edit:2", { action: "edit", draft: 2 }],
  ["faq:ans:cancel:1", { action: "cancel", draft: 1 }],
  ["faq:p:keep", { choice: "keep" }],
  ["faq:p:skip", { choice: "skip" }],
  ["faq:p:ok", { choice: "ok" }],
  ["faq:p:no", { choice: "no" }],
  ["faq:p:aud:everyone", { audience: "everyone" }],
  ["faq:p:aud:deputies_staff", { audience: "deputies_staff" }],
  ["ann:skip", {}],
  ["ann:aud:sub", { audience: "sub" }],
  ["ann:aud:all", { audience: "all" }],
  ["ann:aud:deputy", { audience: "deputy" }],
  ["ann:aud:staff", { audience: "staff" }],
  ["ann:now", {}],
  ["ann:later", {}],
  ["ann:confirm", {}],
  ["ann:abort", {}],
  ["ann:cancel:1234", { messageId: 1234 }],
  ["ann:mun:7", { municipalityId: 7 }],
];

describe("callback data definitions of every feature", () => {
  const registry = callbackDataRegistry();

  it("are all loaded with the features", () => {
    expect(features.length).toBeGreaterThan(0);
    // One definition per distinct format sent before, plus none unaccounted for.
    const prefixes = new Set(registry.map((d) => d.prefix));
    for (const [data] of SENT_BEFORE) {
      expect(
        [...prefixes].some((p) => data === p || data.startsWith(`${p}:`)),
        data,
      ).toBe(true);
    }
  });

  it("fit Telegram's 64 bytes at their longest, and that longest is reached", () => {
    for (const def of registry) {
      expect(def.maxBytes, def.prefix).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
      const longest = Math.max(...def.samples().map((values) => bytes(def.pack(values as never))));
      expect(longest, def.prefix).toBe(def.maxBytes);
    }
  });

  it("round-trip every sample and are read by no other definition", () => {
    for (const def of registry) {
      for (const values of def.samples()) {
        const data = def.pack(values as never);
        expect(bytes(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
        expect(def.unpack(data), data).toEqual(values);
        expect(def.filter().test(data), data).toBe(true);
        const readers = registry.filter((other) => other.match(data) !== undefined);
        expect(
          readers.map((r) => r.prefix),
          data,
        ).toEqual([def.prefix]);
      }
    }
  });

  it("read every button sent before this change, and pack it back identically", () => {
    for (const [data, values] of SENT_BEFORE) {
      const readers = registry.filter((def) => def.match(data) !== undefined);
      expect(readers, data).toHaveLength(1);
      const [def] = readers;
      expect(def!.unpack(data), data).toEqual(values);
      expect(def!.pack(values as never), data).toBe(data);
      // grammY's callbackQuery and ask({ buttons }) take the filter.
      expect(def!.filter().test(data), data).toBe(true);
    }
  });

  it("refuse forged and malformed data", () => {
    for (const data of [
      "lang:de",
      "lang:ky:1",
      "mun:",
      "mun:abc",
      "mun:-1",
      "faq:take:1234567890123456",
      "faq:fb:Appeal:1",
      "faq:fb:appeal:2",
      "faq:ans:send:1234567",
      "faq:p:aud:nobody",
      "invite:mayor",
      "settings:",
      "topics:done:1",
      "",
    ]) {
      expect(
        registry.filter((def) => def.match(data) !== undefined).map((d) => d.prefix),
        data,
      ).toEqual([]);
    }
  });

  it("leave out FAQ buttons whose entry id is too long, rather than send them", () => {
    const long = "a".repeat(56);
    expect(faq.show.canPack({ entryId: "a".repeat(55) })).toBe(true);
    expect(faq.show.canPack({ entryId: long })).toBe(false);
    expect(() => faq.show.pack({ entryId: long })).toThrow(CallbackDataError);
    expect(() => faq.take.pack({ questionId: 1.5 })).toThrow(CallbackDataError);
  });
});

describe("callbackData()", () => {
  it("refuses at definition a format that can exceed 64 bytes", () => {
    expect(() =>
      callbackData("test:long", { a: field.slug({ maxLength: 50 }), b: field.int() }),
    ).toThrow(/can be 76 bytes long/);
    expect(() => callbackData("test:bad", { a: field.oneOf(["x:y"]) })).toThrow(CallbackDataError);
  });

  it("narrows a filter to some values, and combines definitions", () => {
    const step = callbackData("test:step", { choice: field.oneOf(["keep", "skip", "ok"]) });
    const other = callbackData("test:other", { id: field.int({ maxDigits: 3 }) });
    const keepOrSkip = step.filter({ choice: ["keep", "skip"] });
    expect(keepOrSkip.test("test:step:keep")).toBe(true);
    expect(keepOrSkip.test("test:step:ok")).toBe(false);
    const either = anyOf(step, other);
    expect(either.test("test:other:999")).toBe(true);
    expect(either.test("test:other:1000")).toBe(false);
    expect(either.test("test:step:ok")).toBe(true);
    expect(other.match("test:other:042")).toEqual({ id: 42 });
    expect(() => other.pack({ id: 1000 })).toThrow(CallbackDataError);
  });
});
