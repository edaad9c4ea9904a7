/**
 * The CSV export of a hearing's RSVPs and questions, for its protocol: one table with a "type"
 * column (an answer or a question per row), UTF-8 with a BOM so Excel shows Cyrillic, and cells
 * that a spreadsheet would run as a formula escaped.
 */
import { stringify } from "csv-stringify/sync";
import { translator } from "../../i18n";
import { isLocale, type Locale } from "../../locales";
import type { RsvpAnswer } from "./schema";
import { formatTyped } from "./time";

export type CsvRow =
  | {
      type: "rsvp";
      at: Date;
      userId: number | null;
      name: string | null;
      channel: string | null;
      answer: RsvpAnswer;
    }
  | {
      type: "question";
      at: Date;
      userId: number | null;
      name: string | null;
      channel: string | null;
      text: string;
    };

/**
 * A cell a spreadsheet would read as a formula (=, +, -, @, or a tab or carriage return first)
 * gets a leading single quote, so it shows as typed and runs nothing.
 */
export function escapeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export const CSV_COLUMNS = ["type", "at", "name", "user_id", "channel", "answer", "text"] as const;

export function hearingsCsv(rows: readonly CsvRow[], locale: string, timeZone: string): string {
  const l: Locale = isLocale(locale) ? locale : "ru";
  const t = translator(l);
  const header = CSV_COLUMNS.map((c) => t(`hearings.csv.${c}`));
  const body = rows.map((r) => [
    t(r.type === "rsvp" ? "hearings.csv.type_rsvp" : "hearings.csv.type_question"),
    formatTyped(r.at, timeZone),
    r.name ?? "",
    r.userId === null ? "" : String(r.userId),
    r.channel ?? "",
    r.type === "rsvp" ? t(`hearings.csv.answer_${r.answer}`) : "",
    // An empty text: its author deleted their data (/forgetme); the question still counts.
    r.type === "question" ? r.text || t("privacy.removed_text") : "",
  ]);
  return stringify(
    [header, ...body].map((row) => row.map(escapeCell)),
    { bom: true },
  );
}
