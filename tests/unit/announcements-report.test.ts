import { describe, expect, it } from "vitest";
import type { MessageProgress } from "../../src/delivery";
import { progressText } from "../../src/features/announcements/progress";
import { loadMessages, translator } from "../../src/i18n";
import { LOCALES, type Locale } from "../../src/locales";

/**
 * The broadcast report a staff member gets: the common counts, then a line of WhatsApp's own
 * outcomes (delivered and read by the phones, sent as templates, skipped outside the 24-hour
 * window) once any is known. Each count is distinct, so a count put in another's place shows.
 */

const progress: MessageProgress = {
  total: 40,
  pending: 0,
  sending: 0,
  sent: 29,
  failed: 5,
  skipped: 6,
  blocked: 2,
  unreachable: 1,
  held: 0,
  delivered: 23,
  read: 11,
  templates: 8,
  outsideWindow: 3,
};

/** The locale file's own wording with the values put in: what the report must say. */
function expected(locale: Locale, key: string, values: Record<string, number>): string {
  const section = loadMessages(locale).announcements as Record<string, string>;
  const template = section[key];
  if (template === undefined) throw new Error(`${locale}: no announcements.${key}`);
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${locale}: no value for {{${name}}} in ${key}`);
    return String(value);
  });
}

const whatsappValues = { delivered: 23, read: 11, templates: 8, outsideWindow: 3 };

describe("the WhatsApp line of a broadcast report", () => {
  for (const locale of LOCALES) {
    it(`${locale}: the final report ends with WhatsApp's delivered, read, template and outside-window counts`, () => {
      const text = progressText(translator(locale), progress, "done");
      const lines = text.split("\n");
      const whatsapp = lines.at(-1) ?? "";
      expect(whatsapp).toBe(expected(locale, "report_whatsapp", whatsappValues));
      expect(whatsapp).toMatch(/^WhatsApp/);
      // Every count, in the order the line names them.
      const numbers = whatsapp.match(/\d+/g)?.filter((n) => n !== "24");
      expect(numbers).toEqual(["23", "11", "8", "3"]);
      // The failures stay in the common part of the report, above it.
      const common = lines.slice(0, -1).join("\n");
      expect(common).toBe(
        expected(locale, "report_done", {
          total: 40,
          sent: 29,
          failed: 5,
          blocked: 2,
          unreachable: 1,
          held: 0,
        }),
      );
      expect(text).not.toMatch(/\{\{|undefined|NaN/);
    });

    it(`${locale}: a running or cancelled broadcast shows the line too`, () => {
      for (const state of ["running", "cancelled"] as const) {
        const text = progressText(translator(locale), progress, state);
        expect(text.split("\n").at(-1)).toBe(expected(locale, "report_whatsapp", whatsappValues));
      }
    });

    it(`${locale}: no WhatsApp line when nothing went through WhatsApp; one when all were outside the window`, () => {
      const t = translator(locale);
      const plain: MessageProgress = {
        ...progress,
        delivered: 0,
        read: 0,
        templates: 0,
        outsideWindow: 0,
      };
      expect(progressText(t, plain, "done")).not.toContain("WhatsApp");
      // Totals stored before the WhatsApp counts existed have none of them.
      const older: MessageProgress = {
        total: 4,
        pending: 0,
        sending: 0,
        sent: 4,
        failed: 0,
        skipped: 0,
        blocked: 0,
        unreachable: 0,
        held: 0,
      };
      expect(progressText(t, older, "done")).not.toContain("WhatsApp");

      const closed = progressText(t, { ...plain, outsideWindow: 3 }, "done");
      expect(closed.split("\n").at(-1)).toBe(
        expected(locale, "report_whatsapp", {
          ...whatsappValues,
          delivered: 0,
          read: 0,
          templates: 0,
        }),
      );
    });
  }
});
