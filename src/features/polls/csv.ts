/**
 * The CSV export of a poll's counts: one row per option (its text in Kyrgyz and Russian, votes,
 * share of voters), then the turnout. Counts only: there is nothing in the tables that would
 * say who chose what. UTF-8 with a BOM so Excel shows Cyrillic; formula-like cells escaped.
 */
import { stringify } from "csv-stringify/sync";
import { translator } from "../../i18n";
import { isLocale, type Locale } from "../../locales";
import { escapeCell } from "../hearings/csv";
import { formatTyped } from "../hearings/time";
import type { PollRow } from "./schema";
import type { PollTally } from "./types";

export function pollCsv(poll: PollRow, tally: PollTally, locale: string, timeZone: string): string {
  const l: Locale = isLocale(locale) ? locale : "ru";
  const t = translator(l);
  const percent = (n: number) => (tally.voters > 0 ? ((n / tally.voters) * 100).toFixed(1) : "0.0");
  const header = ["option", "text_ky", "text_ru", "votes", "percent"].map((c) =>
    t(`polls.csv.${c}`),
  );
  const rows = poll.options.map((o, i) => [
    String(i + 1),
    o.ky ?? "",
    o.ru ?? "",
    String(tally.counts[i] ?? 0),
    percent(tally.counts[i] ?? 0),
  ]);
  const footer = [
    [t("polls.csv.voters"), "", "", String(tally.voters), ""],
    [t("polls.csv.question"), poll.question.ky ?? "", poll.question.ru ?? "", "", ""],
    [t("polls.csv.status"), t(`polls.status.${poll.status}`), "", "", ""],
    [t("polls.csv.closes"), formatTyped(poll.closedAt ?? poll.closesAt, timeZone), "", "", ""],
  ];
  return stringify(
    [header, ...rows, ...footer].map((row) => row.map(escapeCell)),
    { bom: true },
  );
}
