/**
 * What residents and staff get from the delivery engine about a hearing (Telegram HTML, per
 * language): the announcement, reminders, updates, the minutes, document messages and the
 * staff's nudge. Hearings are written in Kyrgyz and/or Russian: each reader gets their
 * language's text, else the other one (English readers get them inside English labels). The
 * date, time, place and link are always in the text itself.
 */
import type { LocalizedText, MessageButton, MessageContent } from "../../delivery";
import { visibleText } from "../../delivery";
import { escapeHtml, staffText, translator } from "../../i18n";
import { LOCALES, type Locale } from "../../locales";
import { HEARING_CB } from "./callbacks";
import type { HearingDocument, HearingRow, HearingText } from "./schema";
import { formatHearingWhen } from "./time";

/** What every notice needs besides the hearing. */
export interface NoticeContext {
  /** The body that speaks ("Aiyl okmotu of …"), per language (announcements' senderNames). */
  sender: Record<Locale, string>;
  publicUrl: string;
  timezone: string;
}

/** Telegram's limits on what a reader sees. */
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;

/** The hearing's own text for a reader: their language, else the other one. */
export const hearingText: (text: HearingText, locale: Locale) => string = staffText;

/** A value for an HTML attribute. */
function attr(value: string): string {
  return escapeHtml(value).replace(/"/g, "&quot;");
}

function link(url: string, label: string): string {
  return `<a href="${attr(url)}">${escapeHtml(label)}</a>`;
}

export function calendarUrl(publicUrl: string, hearingId: number): string {
  return `${publicUrl.replace(/\/+$/, "")}/hearings/${hearingId}.ics`;
}

/** "Reminder: in 1 day" — the offset in the largest whole unit. */
export function offsetLabel(offsetMin: number, locale: Locale): string {
  const t = translator(locale);
  if (offsetMin % 1440 === 0) return t("hearings.notice.in_days", { count: offsetMin / 1440 });
  if (offsetMin % 60 === 0) return t("hearings.notice.in_hours", { count: offsetMin / 60 });
  return t("hearings.notice.in_minutes", { count: offsetMin });
}

function perLocale(make: (locale: Locale) => string): LocalizedText {
  return Object.fromEntries(LOCALES.map((l) => [l, make(l)])) as LocalizedText;
}

/** The residents' buttons: going / not going, ask, add to calendar. */
export function residentButtons(hearingId: number): MessageButton[][] {
  const label = (key: string) => perLocale((l) => translator(l)(`hearings.notice.${key}`));
  return [
    [
      { text: label("btn_going"), callbackData: HEARING_CB.going.pack({ hearingId }) },
      { text: label("btn_not_going"), callbackData: HEARING_CB.notGoing.pack({ hearingId }) },
    ],
    [{ text: label("btn_ask"), callbackData: HEARING_CB.ask.pack({ hearingId }) }],
    [{ text: label("btn_calendar"), callbackData: HEARING_CB.calendar.pack({ hearingId }) }],
  ];
}

function documentLines(h: HearingRow, locale: Locale): string[] {
  const t = translator(locale);
  return h.documents.map((d, i) =>
    d.kind === "link"
      ? `• ${link(d.url, d.title?.trim() || t("hearings.notice.document_n", { n: i + 1 }))}`
      : `• ${escapeHtml(d.name?.trim() || t("hearings.notice.document_n", { n: i + 1 }))} ${t("hearings.notice.file_below")}`,
  );
}

/** The sender line, the kind and the title. */
function heading(h: HearingRow, ctx: NoticeContext, locale: Locale): string {
  const t = translator(locale);
  return [
    `📢 <b>${escapeHtml(ctx.sender[locale])}</b>`,
    `🏛 ${escapeHtml(t(`hearings.kind.${h.kind}`))}`,
    `<b>${escapeHtml(hearingText(h.title, locale))}</b>`,
  ].join("\n");
}

/**
 * The facts: when, where, online link, documents, calendar link, then the agenda, shortened
 * with "…" so the whole text stays within `limit` visible characters.
 */
function facts(
  h: HearingRow,
  ctx: NoticeContext,
  locale: Locale,
  before: string,
  after = "",
  limit = TEXT_LIMIT,
): string {
  const t = translator(locale);
  const lines = [
    `🗓 ${escapeHtml(formatHearingWhen(h.startsAt, h.durationMin, locale, ctx.timezone))}`,
    `📍 ${escapeHtml(hearingText(h.place, locale))}`,
  ];
  if (h.onlineUrl)
    lines.push(`💻 ${t("hearings.notice.online")}: ${link(h.onlineUrl, h.onlineUrl)}`);
  const docs = documentLines(h, locale);
  if (docs.length) lines.push(`📄 ${t("hearings.notice.documents")}:`, ...docs);
  const url = calendarUrl(ctx.publicUrl, h.id);
  lines.push(`📅 ${t("hearings.notice.calendar")}: ${link(url, url)}`);
  const head = `${before}\n\n${lines.join("\n")}`;
  const tail = after ? `\n\n${after}` : "";
  const agenda = hearingText(h.agenda, locale);
  if (!agenda) return head + tail;
  const label = `\n\n<b>${escapeHtml(t("hearings.notice.agenda"))}</b>\n`;
  const room = limit - visibleText(head + label + tail).length;
  if (room < 20) return head + tail;
  const shown = agenda.length <= room ? agenda : `${agenda.slice(0, room - 1).trimEnd()}…`;
  return `${head}${label}${escapeHtml(shown)}${tail}`;
}

/**
 * The WhatsApp template parameters of a notice (plain text, per language): title, date (as the
 * notice writes it), place, kind, municipality (the body that speaks), and `headline`, what the
 * message says about the hearing (the kind, "Reminder: … in 1 day", "The hearing has been moved").
 */
function templateParams(
  h: HearingRow,
  ctx: NoticeContext,
  headline: (locale: Locale) => string,
): Record<string, LocalizedText> {
  const params: Record<string, (locale: Locale) => string> = {
    title: (l) => hearingText(h.title, l),
    date: (l) => formatHearingWhen(h.startsAt, h.durationMin, l, ctx.timezone),
    place: (l) => hearingText(h.place, l),
    kind: (l) => translator(l)(`hearings.kind.${h.kind}`),
    municipality: (l) => ctx.sender[l],
    headline,
  };
  return templateTexts(params);
}

/**
 * Template parameters from a maker per name: each in every language, trimmed. Content refuses
 * empty texts, so a language with nothing to say is left out, and a name with none at all.
 */
export function templateTexts(
  params: Record<string, (locale: Locale) => string>,
): Record<string, LocalizedText> {
  const out: Record<string, LocalizedText> = {};
  for (const [name, make] of Object.entries(params)) {
    const text: LocalizedText = {};
    for (const l of LOCALES) {
      const value = make(l).trim();
      if (value) text[l] = value;
    }
    if (Object.keys(text).length > 0) out[name] = text;
  }
  return out;
}

function content(
  h: HearingRow,
  make: (locale: Locale) => string,
  buttons = true,
  params?: Record<string, LocalizedText>,
): MessageContent {
  return {
    text: perLocale(make),
    parseMode: "HTML",
    ...(buttons ? { buttons: residentButtons(h.id) } : {}),
    ...(params ? { templateParams: params } : {}),
  };
}

/** The announcement of a published hearing. */
export function noticeContent(h: HearingRow, ctx: NoticeContext): MessageContent {
  return content(
    h,
    (l) => facts(h, ctx, l, heading(h, ctx, l)),
    true,
    templateParams(h, ctx, (l) => translator(l)(`hearings.kind.${h.kind}`)),
  );
}

/** A reminder `offsetMin` minutes before the start, with the same facts and buttons. */
export function reminderContent(
  h: HearingRow,
  offsetMin: number,
  ctx: NoticeContext,
): MessageContent {
  const headline = (l: Locale) =>
    translator(l)("hearings.notice.reminder", { when: offsetLabel(offsetMin, l) });
  return content(
    h,
    (l) => facts(h, ctx, l, `⏰ <b>${escapeHtml(headline(l))}</b>\n\n${heading(h, ctx, l)}`),
    true,
    templateParams(h, ctx, headline),
  );
}

/** The hearing moved: the old time struck through, then the new facts. */
export function rescheduledContent(
  h: HearingRow,
  previous: { startsAt: Date; durationMin: number },
  ctx: NoticeContext,
): MessageContent {
  return content(
    h,
    (l) => {
      const t = translator(l);
      const was = formatHearingWhen(previous.startsAt, previous.durationMin, l, ctx.timezone);
      const now = formatHearingWhen(h.startsAt, h.durationMin, l, ctx.timezone);
      const top = [
        `🔁 <b>${escapeHtml(t("hearings.notice.rescheduled"))}</b>`,
        `${escapeHtml(t("hearings.notice.was"))}: <s>${escapeHtml(was)}</s>`,
        `${escapeHtml(t("hearings.notice.now"))}: <b>${escapeHtml(now)}</b>`,
      ].join("\n");
      return facts(h, ctx, l, `${top}\n\n${heading(h, ctx, l)}`);
    },
    true,
    templateParams(h, ctx, (l) => {
      const t = translator(l);
      const was = formatHearingWhen(previous.startsAt, previous.durationMin, l, ctx.timezone);
      return `${t("hearings.notice.rescheduled")} (${t("hearings.notice.was")}: ${was})`;
    }),
  );
}

/** The place, link or hours changed: the new facts. */
export function changedContent(h: HearingRow, ctx: NoticeContext): MessageContent {
  const headline = (l: Locale) => translator(l)("hearings.notice.changed");
  return content(
    h,
    (l) => facts(h, ctx, l, `✏️ <b>${escapeHtml(headline(l))}</b>\n\n${heading(h, ctx, l)}`),
    true,
    templateParams(h, ctx, headline),
  );
}

/** The hearing is cancelled, with the reason (no buttons: nothing to answer any more). */
export function cancelledContent(h: HearingRow, ctx: NoticeContext): MessageContent {
  return content(
    h,
    (l) => {
      const t = translator(l);
      const was = formatHearingWhen(h.startsAt, h.durationMin, l, ctx.timezone);
      return [
        `❌ <b>${escapeHtml(t("hearings.notice.cancelled"))}</b>`,
        "",
        heading(h, ctx, l),
        `🗓 <s>${escapeHtml(was)}</s>`,
        "",
        `${escapeHtml(t("hearings.notice.reason"))}: ${escapeHtml(h.cancelReason ?? "")}`,
      ].join("\n");
    },
    false,
    templateParams(h, ctx, (l) => {
      const t = translator(l);
      return `${t("hearings.notice.cancelled")}. ${t("hearings.notice.reason")}: ${h.cancelReason ?? ""}`;
    }),
  );
}

/** A file of the hearing, sent as its own message with a short caption naming the hearing. */
export function documentContent(
  h: HearingRow,
  doc: Extract<HearingDocument, { kind: "file" }>,
  ctx: NoticeContext,
): MessageContent {
  return {
    document: doc.fileId,
    parseMode: "HTML",
    text: perLocale((l) => {
      const t = translator(l);
      const name = doc.name?.trim() ? `${escapeHtml(doc.name.trim())}\n` : "";
      const title = shorten(hearingText(h.title, l), 300);
      return `📄 ${name}${escapeHtml(t("hearings.notice.document_of", { title }))}\n${escapeHtml(ctx.sender[l])}`;
    }),
    // Outside WhatsApp's 24-hour window the notice's template stands for the whole notice:
    // its files do not send the template again.
    followUp: true,
  };
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/**
 * The minutes: a text message (the minutes' text and, for a link, the link), and/or a document
 * message with a short caption when the minutes are a file.
 */
export function minutesContents(
  h: HearingRow,
  ctx: NoticeContext,
): { text?: MessageContent; document?: MessageContent } {
  const out: { text?: MessageContent; document?: MessageContent } = {};
  const doc = h.minutesDocument;
  const minutesText = h.minutesText?.trim();
  const top = (l: Locale) =>
    `📝 <b>${escapeHtml(translator(l)("hearings.notice.minutes"))}</b>\n\n${heading(h, ctx, l)}`;
  if (minutesText || doc?.kind === "link") {
    out.text = content(
      h,
      (l) => {
        const parts = [top(l)];
        if (doc?.kind === "link") {
          const label = doc.title?.trim() || translator(l)("hearings.notice.minutes_link");
          parts.push(`📄 ${link(doc.url, label)}`);
        }
        if (minutesText) {
          const room = TEXT_LIMIT - visibleText(`${parts.join("\n\n")}\n\n`).length;
          parts.push(escapeHtml(shorten(minutesText, room)));
        }
        return parts.join("\n\n");
      },
      false,
    );
  }
  if (doc?.kind === "file") {
    out.document = {
      document: doc.fileId,
      parseMode: "HTML",
      text: perLocale((l) => {
        const t = translator(l);
        const title = shorten(hearingText(h.title, l), 300);
        const caption = `📝 ${escapeHtml(t("hearings.notice.minutes_of", { title }))}\n${escapeHtml(ctx.sender[l])}`;
        return visibleText(caption).length <= CAPTION_LIMIT
          ? caption
          : caption.slice(0, CAPTION_LIMIT);
      }),
    };
  }
  return out;
}

/** To staff: the hearing was held `days` days ago and has no minutes yet. */
export function nudgeContent(h: HearingRow, days: number): MessageContent {
  return {
    parseMode: "HTML",
    text: perLocale((l) =>
      escapeHtml(
        translator(l)("hearings.nudge.text", {
          title: shorten(hearingText(h.title, l), 300),
          count: days,
        }),
      ),
    ),
  };
}
