/**
 * Hearing times: what staff type (in the deployment's time zone, Asia/Bishkek) and how a
 * hearing's date and hours are written for residents in each language.
 */
import { translator } from "../../i18n";
import type { Locale } from "../../locales";
import { zonedTime } from "../announcements/time";

const INTL_LOCALE: Record<Locale, string> = { ky: "ky-KG", ru: "ru-RU", en: "en-GB" };

/** The calendar date (year, month, day) of an instant in a time zone. */
function zonedDate(at: Date, timeZone: string): [number, number, number] {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  })
    .format(at)
    .split("-")
    .map(Number) as [number, number, number];
}

/** Whether year-month-day is a real date (31.02 is not). */
function realDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

const ISO_FORM = /^(\d{4})[./-](\d{1,2})[./-](\d{1,2})$/;
const DAY_FIRST_FORM = /^(\d{1,2})[./-](\d{1,2})(?:[./-](\d{4}))?$/;

/**
 * Reads a hearing's start typed by staff in `timeZone`: "2027-06-12 10:00", "12.06.2027 10:00"
 * or "12.06 10:00" (the next such day: in December "12.01" is next January), with ".", "/" or
 * "-" between the date's parts. Undefined when unreadable or not a real date; the caller refuses
 * times in the past (so it can say which of the two it was).
 */
export function parseHearingTime(
  text: string,
  timeZone: string,
  now: Date = new Date(),
): Date | undefined {
  const m = /^\s*(\S+)\s+(\d{1,2})[:.](\d{2})\s*$/.exec(text);
  if (!m) return undefined;
  const hour = Number(m[2]);
  const minute = Number(m[3]);
  if (hour > 23 || minute > 59) return undefined;
  const datePart = m[1] ?? "";
  let year: number;
  let month: number;
  let day: number;
  let yearGiven = true;
  const iso = ISO_FORM.exec(datePart);
  const dayFirst = DAY_FIRST_FORM.exec(datePart);
  if (iso) {
    [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  } else if (dayFirst) {
    day = Number(dayFirst[1]);
    month = Number(dayFirst[2]);
    yearGiven = dayFirst[3] !== undefined;
    year = yearGiven ? Number(dayFirst[3]) : zonedDate(now, timeZone)[0];
  } else {
    return undefined;
  }
  if (!yearGiven) {
    // Without a year: this year's day, or next year's when this year's has passed.
    if (!realDate(year, month, day) && !realDate(year + 1, month, day)) return undefined;
    const thisYear = realDate(year, month, day)
      ? zonedTime(timeZone, year, month, day, hour, minute)
      : undefined;
    if (thisYear && thisYear.getTime() > now.getTime()) return thisYear;
    if (!realDate(year + 1, month, day)) return thisYear;
    return zonedTime(timeZone, year + 1, month, day, hour, minute);
  }
  if (!realDate(year, month, day)) return undefined;
  return zonedTime(timeZone, year, month, day, hour, minute);
}

/** Formatters by kind, language and zone: building one costs far more than using it. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(
  kind: string,
  locale: Locale,
  timeZone: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${kind}|${locale}|${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(INTL_LOCALE[locale], { ...options, timeZone });
    formatters.set(key, f);
  }
  return f;
}

/** "10:00" in the time zone. */
function clock(at: Date, locale: Locale, timeZone: string): string {
  return formatter("clock", locale, timeZone, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(at);
}

/** "12 июня 2027 г." in the time zone. */
function longDate(at: Date, locale: Locale, timeZone: string): string {
  return formatter("long", locale, timeZone, { dateStyle: "long" }).format(at);
}

/** The words naming the zone: "Bishkek time" for Asia/Bishkek, else the zone's own id. */
export function zoneName(locale: Locale, timeZone: string): string {
  return timeZone === "Asia/Bishkek"
    ? translator(locale)("hearings.notice.zone_bishkek")
    : timeZone;
}

/**
 * When a hearing is, for residents: "12 June 2027, 10:00–12:00 (Bishkek time)"; an end on
 * another day carries its date ("… 22:00 – 13 June 2027, 02:00 …").
 */
export function formatHearingWhen(
  startsAt: Date,
  durationMin: number,
  locale: Locale,
  timeZone: string,
): string {
  const endsAt = new Date(startsAt.getTime() + durationMin * 60_000);
  const startDate = longDate(startsAt, locale, timeZone);
  const endDate = longDate(endsAt, locale, timeZone);
  const start = clock(startsAt, locale, timeZone);
  const end = clock(endsAt, locale, timeZone);
  const span =
    startDate === endDate
      ? `${startDate}, ${start}–${end}`
      : `${startDate}, ${start} – ${endDate}, ${end}`;
  return `${span} (${zoneName(locale, timeZone)})`;
}

/** One moment for residents: "12 June 2027, 18:00 (Bishkek time)" (a poll's closing time). */
export function formatMoment(at: Date, locale: Locale, timeZone: string): string {
  // Remembered: a poll's closing time is shown with every vote, and ICU's long dates are slow.
  const key = `${at.getTime()}|${locale}|${timeZone}`;
  let text = moments.get(key);
  if (text === undefined) {
    text = `${longDate(at, locale, timeZone)}, ${clock(at, locale, timeZone)} (${zoneName(locale, timeZone)})`;
    if (moments.size >= 1000) moments.clear();
    moments.set(key, text);
  }
  return text;
}

const moments = new Map<string, string>();

/** "2027-06-12 10:00" in the time zone: the form staff type, for the CSV and the CLI. */
export function formatTyped(at: Date, timeZone: string): string {
  const [y, mo, d] = zonedDate(at, timeZone);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${y}-${pad(mo)}-${pad(d)} ${clock(at, "en", timeZone)}`;
}
