/**
 * Calendar files (RFC 5545) of hearings: `hearingCalendar` is one hearing's file (GET
 * /hearings/{id}.ics, and the file the bot sends); `municipalityCalendar` the feed of a
 * municipality's hearings (GET /municipalities/{id}/hearings.ics) that calendar apps subscribe to.
 *
 * Built with the `ics` package. Two things it does not do the way calendar apps need are
 * finished here: it folds lines at 75 characters rather than 75 octets (a Cyrillic line would be
 * ~150 octets), so its output is unfolded and folded again by octets; and it passes control
 * characters of typed text through, so those are dropped first.
 */
import { createEvents, type EventAttributes } from "ics";
import { translator } from "../../i18n";
import { isLocale, type Locale } from "../../locales";
import type { HearingRow, HearingText } from "./schema";

export interface CalendarOptions {
  /** The municipality's name (the event's organiser / location context), per language. */
  municipalityName: string;
  /** PUBLIC_URL: the event's URL points to its own file. */
  publicUrl: string;
  /** Language of the title and description: ky (default; falls back to ru) or ru or en. */
  locale?: string;
}

const PRODUCT_ID = "-//Aimak//Budget hearings//EN";

/** The address of a hearing's own calendar file. */
export function hearingCalendarUrl(publicUrl: string, hearingId: number): string {
  return `${publicUrl.replace(/\/+$/, "")}/hearings/${hearingId}.ics`;
}

/**
 * The event's UID: the same for the whole life of the hearing (edits, reschedules and the
 * cancellation all update one event), and with the deployment's public host on the right, as
 * RFC 5545 recommends, so hearings of two deployments in one calendar never replace each other.
 */
export function hearingUid(hearingId: number, publicUrl: string): string {
  let host = "aimak";
  try {
    host = new URL(publicUrl).hostname || host;
  } catch {
    // A PUBLIC_URL that is not a URL (the config validates it) still gives a stable UID.
  }
  return `hearing-${hearingId}@${host}`;
}

export function hearingCalendar(hearing: HearingRow, options: CalendarOptions): string {
  // A cancelled hearing's file tells a calendar that already has the event to drop it.
  const method = hearing.status === "cancelled" ? "CANCEL" : "PUBLISH";
  return render([hearing], options, { method });
}

export function municipalityCalendar(
  hearings: readonly HearingRow[],
  options: CalendarOptions,
): string {
  const locale = localeOf(options.locale);
  const calName = translator(locale)("hearings.calendar.feed_name", {
    municipality: options.municipalityName,
  });
  // A subscribed feed is always PUBLISH; cancelled hearings stay in it as STATUS:CANCELLED.
  const sorted = [...hearings].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  // `ics` escapes the events' text but writes X-WR-CALNAME as given.
  return render(sorted, options, { method: "PUBLISH", calName: escapeText(clean(calName)) });
}

function render(
  hearings: readonly HearingRow[],
  options: CalendarOptions,
  header: { method: "PUBLISH" | "CANCEL"; calName?: string },
): string {
  const events = hearings.map((h) => eventOf(h, options));
  const { error, value } = createEvents(events, { productId: PRODUCT_ID, ...header });
  if (error || value === null) {
    throw new Error(`calendar file not built: ${error?.message ?? "no output"}`);
  }
  return foldByOctets(value);
}

function eventOf(hearing: HearingRow, options: CalendarOptions): EventAttributes {
  const locale = localeOf(options.locale);
  const start = hearing.startsAt.getTime();
  const event: EventAttributes & { timestamp: number } = {
    uid: hearingUid(hearing.id, options.publicUrl),
    sequence: hearing.sequence,
    // Stored in UTC and written in UTC (…Z): no VTIMEZONE needed, Asia/Bishkek is UTC+6 all year.
    start,
    startInputType: "utc",
    startOutputType: "utc",
    end: start + hearing.durationMin * 60_000,
    endInputType: "utc",
    endOutputType: "utc",
    // DTSTAMP from the row, not the clock: the same hearing gives the same bytes.
    timestamp: hearing.updatedAt.getTime(),
    created: hearing.createdAt.getTime(),
    lastModified: hearing.updatedAt.getTime(),
    title: clean(textIn(hearing.title, locale)),
    description: clean(descriptionOf(hearing, options, locale)),
    location: clean(textIn(hearing.place, locale)),
    // The file's own address (RFC 5545: where a fresher copy is): a calendar can refresh the
    // event from it. The online link is in the description, next to the place.
    ...urlField(hearingCalendarUrl(options.publicUrl, hearing.id)),
    status: hearing.status === "cancelled" ? "CANCELLED" : "CONFIRMED",
  };
  return event;
}

/**
 * The `ics` package refuses some addresses a deployment may well have (a port below 10, a host
 * without a dot but "localhost"); the URL is a courtesy, so such an address is left out rather
 * than failing the whole file.
 */
function urlField(url: string): { url?: string } {
  return acceptsBase(url.slice(0, url.lastIndexOf("/hearings/"))) ? { url } : {};
}

/** Whether `ics` takes links under this PUBLIC_URL; asked once per address, not per file. */
const accepted = new Map<string, boolean>();
function acceptsBase(base: string): boolean {
  let ok = accepted.get(base);
  if (ok === undefined) {
    const url = `${base}/hearings/1.ics`;
    ok = !createEvents([{ start: 0, duration: { minutes: 1 }, title: "x", url }]).error;
    accepted.set(base, ok);
  }
  return ok;
}

function descriptionOf(hearing: HearingRow, options: CalendarOptions, locale: Locale): string {
  const t = translator(locale);
  const parts: string[] = [];
  if (hearing.status === "cancelled") {
    parts.push(
      hearing.cancelReason
        ? t("hearings.calendar.cancelled_reason", { reason: hearing.cancelReason })
        : t("hearings.calendar.cancelled"),
    );
  }
  parts.push(
    t(`hearings.calendar.kind_${hearing.kind}`, { municipality: options.municipalityName }),
  );
  const agenda = textIn(hearing.agenda, locale);
  if (agenda) parts.push(agenda);
  if (hearing.onlineUrl) parts.push(t("hearings.calendar.online", { url: hearing.onlineUrl }));
  const links = hearing.documents.flatMap((d) =>
    d.kind === "link" ? [d.title ? `${d.title}: ${d.url}` : d.url] : [],
  );
  if (links.length > 0) parts.push([t("hearings.calendar.documents"), ...links].join("\n"));
  return parts.join("\n\n");
}

function localeOf(value: string | undefined): Locale {
  return isLocale(value) ? value : "ky";
}

/**
 * Staff write in Kyrgyz and/or Russian: Kyrgyz readers get Kyrgyz, else Russian; Russian readers
 * the reverse; English readers Russian first (the second language of most of the country).
 */
function textIn(text: HearingText, locale: Locale): string {
  const order = locale === "ky" ? [text.ky, text.ru] : [text.ru, text.ky];
  return order.find((s) => s !== undefined && s.trim() !== "")?.trim() ?? "";
}

/**
 * Control characters other than line breaks and tabs are not allowed in iCalendar text; a lone
 * CR would even end the content line early. Line breaks become \n (the `ics` package escapes them).
 */
function clean(text: string): string {
  return (
    text
      .replace(/\r\n?/g, "\n")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: dropping them is the point.
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
  );
}

/** RFC 5545 TEXT escaping (§3.3.11). */
function escapeText(text: string): string {
  return text.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
}

const MAX_LINE_OCTETS = 75;

/**
 * Content lines of at most 75 octets (RFC 5545 §3.1), continued with CRLF and one space, never
 * splitting a UTF-8 character. The input's own folds are undone first; escaped text holds no
 * CRLF, so every CRLF followed by a space or tab in it is a fold.
 */
export function foldByOctets(ics: string): string {
  const lines = ics.replace(/\r\n[ \t]/g, "").split("\r\n");
  return lines.map(foldLine).join("\r\n");
}

function foldLine(line: string): string {
  if (Buffer.byteLength(line, "utf8") <= MAX_LINE_OCTETS) return line;
  const parts: string[] = [];
  let current = "";
  let octets = 0;
  // The first line holds 75 octets; each continuation 74 after its leading space.
  let limit = MAX_LINE_OCTETS;
  for (const char of line) {
    const size = Buffer.byteLength(char, "utf8");
    if (octets + size > limit) {
      parts.push(current);
      current = "";
      octets = 0;
      limit = MAX_LINE_OCTETS - 1;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join("\r\n ");
}
