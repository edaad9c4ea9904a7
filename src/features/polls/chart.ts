/**
 * A poll's result as a bar chart image: an SVG the project writes itself, rendered to PNG by
 * resvg (prebuilt binaries, no native build step) with the DejaVu fonts shipped in
 * assets/fonts/, so Kyrgyz letters (ө ү ң) render the same everywhere and no system font or
 * remote chart service is needed.
 *
 * Text in SVG does not wrap by itself, so lines are broken here with the fonts' own advance
 * widths (chart-font.ts reads them from the font files): the layout is decided before resvg sees
 * it.
 */
import { Resvg } from "@resvg/resvg-js";
import { pickText } from "../../delivery";
import { formatDateTime, formatNumber, translator } from "../../i18n";
import type { Locale } from "../../locales";
import { zoneName } from "../hearings/time";
import { FONT_FAMILY, FONT_FILES, fontHasGlyph, textWidth, type Weight } from "./chart-font";
import type { PollRow, PollTally } from "./types";

export { fontHasGlyph };

/** One option's bar: its label, votes, and percent of the people who voted (not of votes). */
export interface ChartBar {
  label: string;
  count: number;
  percent: number;
}

/** What the chart shows, already in the reader's language. */
export interface ChartInput {
  title: string;
  bars: ChartBar[];
  footer: string;
  /** A smaller line under the footer (multiple choice: why the percentages exceed 100). */
  note?: string;
  /** How counts are written: "1,084" in English, "1 084" in Kyrgyz and Russian. */
  locale?: Locale;
}

// ---------------------------------------------------------------------------------------------
// Line breaking

/**
 * Text as the fonts can draw it: one line, single spaces, no characters the fonts lack
 * (an emoji in an option would be a box) and none XML forbids.
 */
function drawable(text: string): string {
  let out = "";
  for (const ch of text.replace(/\s+/g, " ")) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === " " || fontHasGlyph(cp)) out += ch;
  }
  return out.replace(/ {2,}/g, " ").trim();
}

interface TextStyle {
  size: number;
  weight: Weight;
}

/** Splits a word wider than a line into pieces that fit (a long compound or a URL). */
function splitWord(word: string, style: TextStyle, width: number): string[] {
  const pieces: string[] = [];
  let piece = "";
  for (const ch of word) {
    if (piece && textWidth(piece + ch, style.size, style.weight) > width) {
      pieces.push(piece);
      piece = "";
    }
    piece += ch;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/** The longest start of `text` that fits with "…" after it. */
function ellipsize(text: string, style: TextStyle, width: number): string {
  const chars = Array.from(text);
  while (chars.length > 0) {
    const candidate = `${chars.join("").trimEnd()}…`;
    if (textWidth(candidate, style.size, style.weight) <= width) return candidate;
    chars.pop();
  }
  return "…";
}

/**
 * Greedy word wrap into at most `maxLines` lines of `width` px; what does not fit ends the last
 * line with "…" so a chart never overflows, whatever staff typed.
 */
export function wrapText(
  text: string,
  style: TextStyle,
  width: number,
  maxLines: number,
): string[] {
  const words = drawable(text)
    .split(" ")
    .filter(Boolean)
    .flatMap((w) => splitWord(w, style, width));
  const lines: string[] = [];
  for (const [i, word] of words.entries()) {
    const last = lines.at(-1);
    const joined = last === undefined ? word : `${last} ${word}`;
    if (last !== undefined && textWidth(joined, style.size, style.weight) <= width) {
      lines[lines.length - 1] = joined;
    } else if (lines.length < maxLines) {
      lines.push(word);
    } else {
      const rest = [lines.pop() ?? "", ...words.slice(i)].join(" ");
      lines.push(ellipsize(rest, style, width));
      break;
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Layout and SVG

/** Wide enough for a readable phone preview, within Telegram's photo size. */
export const CHART_WIDTH = 1000;
const PAD = 48;
const CONTENT = CHART_WIDTH - 2 * PAD;

/** The question shrinks once before it is cut: questions may be 300 characters long. */
const TITLE_SMALLEST = 28;
const TITLE_SIZES = [34, TITLE_SMALLEST] as const;
const TITLE_LINES = 3;
const LABEL: TextStyle = { size: 24, weight: "regular" };
const LEADER_LABEL: TextStyle = { size: 24, weight: "bold" };
const VALUE: TextStyle = { size: 22, weight: "regular" };
const LEADER_VALUE: TextStyle = { size: 22, weight: "bold" };
const FOOTER: TextStyle = { size: 22, weight: "regular" };
const NOTE: TextStyle = { size: 19, weight: "regular" };

/** Line heights are 1.3 em: Cyrillic capitals and descenders of the next line never touch. */
const lineHeight = (style: TextStyle) => Math.round(style.size * 1.3);

const BAR_HEIGHT = 30;
const LABEL_TO_BAR = 8;
const ROW_GAP = 22;
const VALUE_GAP = 12;
/** A bar with votes is never thinner than this, so one vote among thousands is still seen. */
const MIN_BAR = 4;

/**
 * One accent hue. Ordinary bars (#3b82f6) keep 3.7:1 against white, above WCAG's 3:1 for
 * graphics; the leaders are darker (#1e3a8a) and their label and value are bold, so they stand
 * out without relying on colour alone. Text is near-black; the footer grey keeps 7:1.
 */
const COLORS = {
  background: "#ffffff",
  title: "#111827",
  label: "#1f2937",
  track: "#eef2f7",
  bar: "#3b82f6",
  leader: "#1e3a8a",
  value: "#111827",
  rule: "#d1d5db",
  footer: "#4b5563",
} as const;

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function textLine(
  text: string,
  x: number,
  baseline: number,
  style: TextStyle,
  fill: string,
): string {
  const weight = style.weight === "bold" ? ' font-weight="bold"' : "";
  return `<text x="${x}" y="${baseline}" font-size="${style.size}"${weight} fill="${fill}">${escapeXml(text)}</text>`;
}

/** Lines of text from `top`, each line's baseline placed for the style's line height. */
function textBlock(
  lines: readonly string[],
  x: number,
  top: number,
  style: TextStyle,
  fill: string,
): string[] {
  const lh = lineHeight(style);
  // Baseline at the line box's middle plus 0.35 em: half DejaVu's cap height (0.73 em), so
  // capitals sit centred in their line whatever the size.
  return lines.map((line, i) =>
    textLine(line, x, Math.round(top + i * lh + lh / 2 + style.size * 0.35), style, fill),
  );
}

/** The question at the largest size that shows it whole in three lines, else cut at the smallest. */
function titleLines(text: string): [string[], TextStyle] {
  for (const size of TITLE_SIZES) {
    const style: TextStyle = { size, weight: "bold" };
    const lines = wrapText(text, style, CONTENT, Number.POSITIVE_INFINITY);
    if (lines.length <= TITLE_LINES) return [lines, style];
  }
  const smallest: TextStyle = { size: TITLE_SMALLEST, weight: "bold" };
  return [wrapText(text, smallest, CONTENT, TITLE_LINES), smallest];
}

/**
 * One line when the footer fits; else each " · " part (turnout, time) starts its own line, so a
 * date is not broken in the middle.
 */
function footerLines(text: string): string[] {
  const whole = wrapText(text, FOOTER, CONTENT, Number.POSITIVE_INFINITY);
  if (whole.length <= 1) return whole;
  return text
    .split(" · ")
    .flatMap((part) => wrapText(part, FOOTER, CONTENT, 2))
    .slice(0, 3);
}

/** "412 · 38%": a share under 1% but above none says "<1%", not a misleading "0%". */
function valueText(bar: ChartBar, locale: Locale): string {
  const rounded = Math.round(bar.percent);
  const percent = rounded === 0 && bar.percent > 0 ? "<1%" : `${rounded}%`;
  return `${formatNumber(bar.count, locale)} · ${percent}`;
}

interface Row {
  lines: string[];
  value: string;
  leader: boolean;
  count: number;
}

function rows(input: ChartInput): Row[] {
  const locale = input.locale ?? "en";
  const max = Math.max(0, ...input.bars.map((b) => b.count));
  return input.bars.map((bar) => {
    // Ties share the lead; nobody leads an empty poll.
    const leader = max > 0 && bar.count === max;
    return {
      lines: wrapText(bar.label, leader ? LEADER_LABEL : LABEL, CONTENT, 2),
      value: valueText(bar, locale),
      leader,
      count: bar.count,
    };
  });
}

/** The drawing of one row from `top`; returns its elements and the height it took. */
function rowSvg(row: Row, top: number, maxCount: number, barSpace: number): [string[], number] {
  const style = row.leader ? LEADER_LABEL : LABEL;
  const labels = textBlock(row.lines, PAD, top, style, COLORS.label);
  const barTop = top + row.lines.length * lineHeight(style) + LABEL_TO_BAR;
  const length =
    maxCount > 0 && row.count > 0 ? Math.max(MIN_BAR, (row.count / maxCount) * barSpace) : 0;
  const fill = row.leader ? COLORS.leader : COLORS.bar;
  const shapes = [
    `<rect x="${PAD}" y="${barTop}" width="${barSpace}" height="${BAR_HEIGHT}" rx="6" fill="${COLORS.track}"/>`,
    length > 0
      ? `<rect x="${PAD}" y="${barTop}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" rx="6" fill="${fill}"/>`
      : "",
  ];
  const valueStyle = row.leader ? LEADER_VALUE : VALUE;
  const valueBaseline = Math.round(barTop + BAR_HEIGHT / 2 + valueStyle.size * 0.36);
  const value = textLine(
    row.value,
    PAD + length + VALUE_GAP,
    valueBaseline,
    valueStyle,
    COLORS.value,
  );
  return [[...labels, ...shapes, value], barTop + BAR_HEIGHT - top];
}

/**
 * The chart as SVG: the question (up to 3 lines), a labelled bar per option with its count and
 * percentage right of the bar, then the footer (and note). 1000 px wide; the height follows the
 * rows. Every user text is escaped; nothing is loaded from outside.
 */
export function chartSvg(input: ChartInput): string {
  const parts: string[] = [];
  let y = PAD;
  const [title, titleStyle] = titleLines(input.title);
  parts.push(...textBlock(title, PAD, y, titleStyle, COLORS.title));
  y += title.length * lineHeight(titleStyle) + 28;

  const laidOut = rows(input);
  const maxCount = Math.max(0, ...laidOut.map((r) => r.count));
  // The longest bar leaves room right of it for the widest count and percentage.
  const widestValue = Math.max(
    0,
    ...laidOut.map((r) => textWidth(r.value, LEADER_VALUE.size, "bold")),
  );
  const barSpace = Math.floor(CONTENT - VALUE_GAP - widestValue);
  for (const row of laidOut) {
    const [elements, height] = rowSvg(row, y, maxCount, barSpace);
    parts.push(...elements);
    y += height + ROW_GAP;
  }

  y += 6;
  parts.push(
    `<line x1="${PAD}" y1="${y}" x2="${CHART_WIDTH - PAD}" y2="${y}" stroke="${COLORS.rule}" stroke-width="1"/>`,
  );
  y += 14;
  const footer = footerLines(input.footer);
  parts.push(...textBlock(footer, PAD, y, FOOTER, COLORS.footer));
  y += footer.length * lineHeight(FOOTER);
  if (input.note) {
    const note = wrapText(input.note, NOTE, CONTENT, 2);
    parts.push(...textBlock(note, PAD, y + 4, NOTE, COLORS.footer));
    y += 4 + note.length * lineHeight(NOTE);
  }
  const height = Math.ceil(y + PAD);

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="${FONT_FAMILY}">`,
    `<rect width="100%" height="100%" fill="${COLORS.background}"/>`,
    ...parts.filter(Boolean),
    "</svg>",
  ].join("\n");
}

/**
 * The PNG of a chart's SVG, at the SVG's own size. Only the shipped fonts are loaded (no system
 * fonts: the image must not depend on the host). resvg-js reads the two font files on every
 * render; measured at a few milliseconds, far below the render itself, so nothing is cached.
 */
export function renderChartPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: {
      fontFiles: [FONT_FILES.regular, FONT_FILES.bold],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
    },
    fitTo: { mode: "width", value: CHART_WIDTH },
  });
  return resvg.render().asPng();
}

// ---------------------------------------------------------------------------------------------
// A poll's chart for a reader

/** Percent of the people who voted; 0 when nobody did (not NaN). */
export function percentOf(count: number, voters: number): number {
  return voters > 0 ? (count / voters) * 100 : 0;
}

/** The footer: turnout, then when voting closed (or, while open, when these counts were taken). */
function footerText(
  poll: PollRow,
  voters: number,
  locale: Locale,
  timezone: string,
  now: Date,
): string {
  const t = translator(locale);
  const voted = t("polls.chart.voted", { count: voters, voters: formatNumber(voters, locale) });
  const closed = poll.status === "closed";
  const at = closed ? (poll.closedAt ?? poll.closesAt) : now;
  const when = `${formatDateTime(at, locale, timezone)} (${zoneName(locale, timezone)})`;
  return `${voted} · ${t(closed ? "polls.chart.closed" : "polls.chart.so_far", { when })}`;
}

/** The chart's content for a reader: the question and options in their language. */
export function pollChartInput(
  poll: PollRow,
  tally: PollTally,
  locale: Locale,
  timezone: string,
  now: Date = new Date(),
): ChartInput {
  const bars = poll.options.map((option, i) => {
    const count = tally.counts[i] ?? 0;
    return { label: pickText(option, locale), count, percent: percentOf(count, tally.voters) };
  });
  const input: ChartInput = {
    title: pickText(poll.question, locale),
    bars,
    footer: footerText(poll, tally.voters, locale, timezone, now),
    locale,
  };
  if (poll.maxChoices > 1) {
    input.note = translator(locale)("polls.chart.multiple_note", { max: poll.maxChoices });
  }
  return input;
}

/** The PNG chart of a poll's tally for a reader in `locale` (times in `timezone`). */
export function pollChart(
  poll: PollRow,
  tally: PollTally,
  locale: Locale,
  timezone: string,
  now: Date = new Date(),
): Buffer {
  return renderChartPng(chartSvg(pollChartInput(poll, tally, locale, timezone, now)));
}
