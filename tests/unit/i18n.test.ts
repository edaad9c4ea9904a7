import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDateTime, getI18n, loadMessages, resolveLocale, translator } from "../../src/i18n";

function keys(obj: unknown, prefix = ""): string[] {
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) =>
    v && typeof v === "object" ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe("locales", () => {
  const files = { ky: loadMessages("ky"), ru: loadMessages("ru"), en: loadMessages("en") };

  // Every plural form in every language (Kyrgyz and English repeat "other" for few/many), so a
  // form written for one language is never missing in another.
  it("have the same keys in ky, ru and en", () => {
    const sets = Object.fromEntries(Object.entries(files).map(([l, m]) => [l, new Set(keys(m))]));
    const all = new Set(Object.values(sets).flatMap((s) => [...s]));
    for (const [locale, set] of Object.entries(sets)) {
      expect(
        [...all].filter((k) => !set.has(k)),
        `missing in ${locale}.json`,
      ).toEqual([]);
    }
  });

  it("have no empty strings", () => {
    for (const [locale, messages] of Object.entries(files)) {
      const flat = keys(messages);
      for (const key of flat) {
        const value = key
          .split(".")
          .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], messages);
        expect(String(value).trim(), `${locale}:${key}`).not.toBe("");
      }
    }
  });

  it("use Kyrgyz and Russian plural forms", () => {
    const ru = translator("ru");
    expect(ru("common.hours", { count: 1 })).toBe("1 час");
    expect(ru("common.hours", { count: 3 })).toBe("3 часа");
    expect(ru("common.hours", { count: 5 })).toBe("5 часов");
    expect(ru("common.hours", { count: 21 })).toBe("21 час");
    const ky = translator("ky");
    expect(ky("common.hours", { count: 1 })).toBe("1 саат");
    expect(ky("common.hours", { count: 72 })).toBe("72 саат");
    expect(translator("en")("common.hours", { count: 1 })).toBe("1 hour");
    expect(translator("en")("common.hours", { count: 2 })).toBe("2 hours");
  });

  it("remembers rendered messages per locale and per set of values", () => {
    const ru = translator("ru");
    const raw = getI18n().getFixedT("ru");
    // The same call twice, then other values: each answer matches a fresh i18next render.
    for (const count of [5, 5, 1, 3, 5]) {
      expect(ru("common.hours", { count })).toBe(raw("common.hours", { count }));
    }
    expect(ru("settings.menu", { language: "A", municipality: "B", topics: "C" })).toBe(
      raw("settings.menu", { language: "A", municipality: "B", topics: "C" }),
    );
    expect(ru("settings.menu", { language: "X", municipality: "B", topics: "C" })).toContain("X");
    // Past the memo's size (it then starts over) messages still render right.
    for (let i = 0; i < 6_000; i++) ru("onboarding.municipality_not_found", { query: `q${i}` });
    expect(ru("onboarding.municipality_not_found", { query: "q1" })).toBe(
      raw("onboarding.municipality_not_found", { query: "q1" }),
    );
    expect(translator("ky")("common.hours", { count: 5 })).toBe("5 саат");
  });

  it("formats dates in Asia/Bishkek for each language", () => {
    const at = new Date("2026-11-23T08:30:00Z");
    expect(formatDateTime(at, "ru", "Asia/Bishkek")).toMatch(/23 ноября 2026.*14:30/);
    expect(formatDateTime(at, "ky", "Asia/Bishkek")).toMatch(/23.*ноябрь.*14:30/);
    expect(formatDateTime(at, "en", "Asia/Bishkek")).toMatch(/23 November 2026.*14:30/);
  });

  it("picks the saved language, then Telegram's, then the default", () => {
    expect(resolveLocale("ru", "en", "ky")).toBe("ru");
    expect(resolveLocale(null, "en-US", "ky")).toBe("en");
    expect(resolveLocale(null, "de", "ky")).toBe("ky");
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("no user-facing text outside locales/", () => {
  // Search and normalisation tables legitimately hold Cyrillic: they are data, not messages.
  const allowed = [
    /\/search\//,
    /normalize\.ts$/,
    /translit/,
    /stem/,
    /synonym/,
    /fold/,
    /\/data\//,
    // The column names a resident list's phone column may have in a spreadsheet.
    /resident-file\.ts$/,
  ];

  it("has no Cyrillic string literals in src", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles("src")) {
      if (allowed.some((re) => re.test(file))) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (/^\s*(\/\/|\/?\*)/.test(line)) return; // comments
          if (/["'`][^"'`]*[А-Яа-яЁёӨөҮүҢң][^"'`]*["'`]/.test(line))
            offenders.push(`${file}:${i + 1}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  it("sends no literal text through reply/editMessageText", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles("src")) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (
            /\.(reply|editMessageText|sendMessage|answerCallbackQuery)\(\s*["'`][A-Za-z]/.test(line)
          ) {
            offenders.push(`${file}:${i + 1}`);
          }
          if (/\btext:\s*["'`][A-Za-z]{2}/.test(line)) offenders.push(`${file}:${i + 1}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
