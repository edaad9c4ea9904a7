/**
 * What staff read about the resident list in the chat (Telegram HTML): its state, the file's
 * format, the outcome of an import, and on the web chat where the import is done instead.
 */
import { escapeHtml, type TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { formatMoment } from "../hearings/time";

/** The list as the service tells it (imported when, in ms: flow state is plain JSON). */
export interface ListState {
  numbers: number;
  importedAt: number;
}

/** 12,345 in English, 12 345 in Russian and Kyrgyz. */
export function formatCount(n: number, locale: Locale): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** "12,345 numbers, imported on …" or "No list yet". */
export function stateLine(
  t: TFunction,
  locale: Locale,
  timezone: string,
  state: ListState | null,
): string {
  if (!state) return t("polls.residents.state_none");
  return t("polls.residents.state", {
    count: state.numbers,
    n: formatCount(state.numbers, locale),
    when: escapeHtml(formatMoment(new Date(state.importedAt), locale, timezone)),
  });
}

/** The flow's first message: whose list, its state, the format, and "send the file". */
export function introText(
  t: TFunction,
  locale: Locale,
  timezone: string,
  municipality: string,
  state: ListState | null,
): string {
  return [
    t("polls.residents.title", { municipality: escapeHtml(municipality) }),
    stateLine(t, locale, timezone, state),
    "",
    t("polls.residents.format"),
    "",
    t("polls.residents.ask_file"),
  ].join("\n");
}

/** After an import: how many numbers the list holds now (and that the old one is gone). */
export function importedText(
  t: TFunction,
  locale: Locale,
  numbers: number,
  replaced: boolean,
): string {
  const count = t("polls.residents.imported", {
    count: numbers,
    n: formatCount(numbers, locale),
  });
  return replaced ? `${count} ${t("polls.residents.replaced")}` : count;
}

/** On the web chat (no uploads): where the list is imported, with the staff's own lists. */
export function webText(
  t: TFunction,
  lists: readonly { id: number; name: string; state: string }[],
): string {
  const lines = [t("polls.residents.web")];
  if (lists.length > 0) lines.push("");
  for (const l of lists) {
    lines.push(
      t("polls.residents.web_item", { id: l.id, name: escapeHtml(l.name), state: l.state }),
    );
  }
  return lines.join("\n");
}
