/**
 * The municipality's resident list as staff have it: a CSV file from Excel or a registry, with a
 * header row and a phone column among others. Only the phone numbers are read (as E.164,
 * de-duplicated); every other column is ignored and never stored.
 *
 * What the file may look like:
 * - delimiter `,`, `;` (what Excel writes in a Russian locale) or tab, detected from the header;
 * - UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode text"), or Windows-1251
 *   (Excel's "CSV" in a Russian locale), told apart by the bytes;
 * - the phone column found by its header, in any case and spacing (PHONE_COLUMN_NAMES); every
 *   column with such a header is read, so "Телефон" and "Мобильный" both count;
 * - one cell may hold several numbers separated by `,` `;` `/` or a line break;
 * - empty lines, and rows with every cell empty (Excel's trailing `;;;`), are skipped.
 *
 * A row whose phone cells are empty or hold something that is not a number is a bad row. The
 * parser reads the whole file and reports every bad row by its line number as a text editor
 * shows it (the header is line 1), so staff fix them all in one go; the caller imports nothing
 * unless the whole file is good.
 */
import { parse } from "csv-parse/sync";
import { normalizePhone } from "./phone";
import { PollError } from "./types";

/** Headers that name a phone column (compared lower-cased, spaces collapsed, ё as е). */
export const PHONE_COLUMN_NAMES: readonly string[] = [
  // English
  "phone",
  "phone number",
  "telephone",
  "tel",
  "mobile",
  "mobile phone",
  // Russian
  "телефон",
  "номер телефона",
  "тел",
  "мобильный",
  "мобильный телефон",
  // Kyrgyz
  "телефон номери",
  "телефону",
  "телефон номуру",
  "уюлдук телефон",
];

export const RESIDENT_FILE_LIMITS = {
  /** Bytes of the file as uploaded. */
  maxBytes: 5 * 1024 * 1024,
  /** Data rows (the header not counted). */
  maxRows: 200_000,
  /** Bad line numbers listed in the error; the count says how many there are in all. */
  shownBadLines: 10,
} as const;

export interface ResidentFile {
  /** E.164, each once, in the order of the file. */
  phones: string[];
  /** Data rows read (rows with numbers; empty ones not counted). */
  rows: number;
}

const DELIMITERS = [";", "\t", ","] as const;
type Delimiter = (typeof DELIMITERS)[number];

/** The file's text, whichever of the encodings Excel and registries write it was saved in. */
function decode(input: string | Uint8Array): string {
  if (typeof input === "string") return input.replace(/^\uFEFF/, "");
  if (input[0] === 0xff && input[1] === 0xfe) return new TextDecoder("utf-16le").decode(input);
  if (input[0] === 0xfe && input[1] === 0xff) return new TextDecoder("utf-16be").decode(input);
  try {
    // TextDecoder drops a UTF-8 BOM itself.
    return new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    // Not UTF-8: Excel's "CSV" in a Russian (or Kyrgyz) locale is Windows-1251.
    return new TextDecoder("windows-1251").decode(input);
  }
}

function byteLength(input: string | Uint8Array): number {
  return typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.byteLength;
}

/** The delimiter used most in the header line outside quotes (none: the file has one column). */
function detectDelimiter(headerLine: string): Delimiter | undefined {
  const counts = new Map<Delimiter, number>();
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (DELIMITERS as readonly string[]).includes(ch)) {
      counts.set(ch as Delimiter, (counts.get(ch as Delimiter) ?? 0) + 1);
    }
  }
  let best: Delimiter | undefined;
  for (const d of DELIMITERS)
    if ((counts.get(d) ?? 0) > (best ? (counts.get(best) ?? 0) : 0)) best = d;
  return best;
}

function headerKey(name: string): string {
  return name
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase()
    .replace(/ё/g, "е")
    .replace(/\s+/g, " ")
    .replace(/[.:]+$/, "");
}

const PHONE_KEYS = new Set(PHONE_COLUMN_NAMES.map(headerKey));

/** The numbers in one cell, or undefined when some part of it is not a number. */
function numbersIn(cell: string): string[] | undefined {
  const parts = cell
    .split(/[,;/\n\r]+/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const numbers: string[] = [];
  for (const part of parts) {
    const e164 = normalizePhone(part);
    if (!e164) return undefined;
    numbers.push(e164);
  }
  return numbers;
}

function badRowsError(lines: number[]): PollError {
  const shown = lines.slice(0, RESIDENT_FILE_LIMITS.shownBadLines).join(", ");
  return new PollError("resident_file_bad_rows", {
    lines: lines.length > RESIDENT_FILE_LIMITS.shownBadLines ? `${shown}, …` : shown,
    count: lines.length,
  });
}

function tooBig(): PollError {
  return new PollError("resident_file_too_big", {
    max_mb: RESIDENT_FILE_LIMITS.maxBytes / (1024 * 1024),
    max_rows: RESIDENT_FILE_LIMITS.maxRows,
  });
}

interface Row {
  cells: string[];
  /** The line the row starts on, 1-based, as a text editor counts lines. */
  line: number;
}

/** Every record with the line it starts on; a record the CSV syntax breaks is a bad line. */
function readRows(text: string, delimiter: Delimiter): { rows: Row[]; brokenLines: number[] } {
  const rows: Row[] = [];
  const brokenLines: number[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  let lastEnd = 0;
  let filled = 0;
  parse(text, {
    // A one-column file: a tab never appears in a number, so commas stay inside the cell.
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_record: (record: string[], context) => {
      // context.lines is where the record ends; a quoted cell may span several lines.
      const inner = record.reduce((n, cell) => n + (cell.match(/\r\n|\n|\r/g)?.length ?? 0), 0);
      const line = context.lines - inner;
      lastEnd = context.lines;
      // Stop reading a file with too many rows (the header is one more than the limit).
      if (record.some((c) => c.trim() !== "") && ++filled > RESIDENT_FILE_LIMITS.maxRows + 1) {
        throw tooBig();
      }
      rows.push({ cells: record, line });
      return null;
    },
    on_skip: () => {
      // An unclosed quote: the broken record starts on the first non-empty line after the last
      // good one.
      let line = lastEnd + 1;
      while (line <= lines.length && (lines[line - 1] ?? "").trim() === "") line++;
      brokenLines.push(line);
      lastEnd = lines.length;
      return undefined;
    },
  });
  return { rows, brokenLines };
}

/**
 * The phone numbers of a resident list file. Throws PollError: `resident_file_too_big`,
 * `resident_file_empty` (no data rows), `resident_file_no_phone_column` ({columns}: the headers
 * found) or `resident_file_bad_rows` ({lines: "3, 7, 12", count}).
 */
export function parseResidentFile(input: string | Uint8Array): ResidentFile {
  if (byteLength(input) > RESIDENT_FILE_LIMITS.maxBytes) throw tooBig();
  const text = decode(input);
  const headerLine = text.split(/\r\n|\n|\r/).find((l) => l.trim() !== "");
  if (headerLine === undefined) throw new PollError("resident_file_empty");
  const { rows, brokenLines } = readRows(text, detectDelimiter(headerLine) ?? "\t");
  const [header, ...data] = rows;
  if (!header) throw new PollError("resident_file_empty");

  const phoneColumns = header.cells
    .map((name, index) => ({ key: headerKey(name), index }))
    .filter(({ key }) => PHONE_KEYS.has(key))
    .map(({ index }) => index);
  if (phoneColumns.length === 0) {
    const columns = header.cells
      .map((c) => c.trim())
      .filter((c) => c !== "")
      .slice(0, 20)
      .join(", ");
    throw new PollError("resident_file_no_phone_column", { columns });
  }

  const filled = data.filter((row) => row.cells.some((c) => c.trim() !== ""));
  if (filled.length > RESIDENT_FILE_LIMITS.maxRows) throw tooBig();
  if (filled.length === 0 && brokenLines.length === 0) throw new PollError("resident_file_empty");

  const phones = new Set<string>();
  const badLines = [...brokenLines];
  for (const row of filled) {
    const numbers: string[] = [];
    let bad = false;
    for (const index of phoneColumns) {
      const found = numbersIn(row.cells[index] ?? "");
      if (!found) bad = true;
      else numbers.push(...found);
    }
    if (bad || numbers.length === 0) badLines.push(row.line);
    else for (const n of numbers) phones.add(n);
  }
  if (badLines.length > 0) throw badRowsError(badLines.sort((a, b) => a - b));
  return { phones: [...phones], rows: filled.length };
}
