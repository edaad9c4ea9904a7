/**
 * FAQ files: JSON (an array of entries) and CSV (one entry per record, list fields as JSON
 * arrays in their cells, so that export then import is lossless). Parsing reports every bad
 * record with the line it starts on; the caller imports nothing unless every record is good.
 * Files written before the Kyrgyz citation, "not covered" and "see also" fields existed still
 * import: those columns are optional.
 */

import { LOCALES } from "../../locales";
import { type FaqEntry, FaqValidationError, parseEntry } from "./entries";

export type FaqFileFormat = "json" | "csv";

export function formatOfPath(path: string): FaqFileFormat {
  if (/\.json$/i.test(path)) return "json";
  if (/\.csv$/i.test(path)) return "csv";
  throw new Error(`Unknown FAQ file type (use .json or .csv): ${path}`);
}

export interface ParsedFile {
  entries: FaqEntry[];
  /** "line N: problem" for every bad record; empty when the file is good. */
  errors: string[];
}

const CSV_COLUMNS = [
  "id",
  "topic",
  "question_ky",
  "question_ru",
  "question_en",
  "answer_ky",
  "answer_ru",
  "answer_en",
  "source",
  "source_ky",
  "last_checked",
  "audience",
  "status",
  "tags",
  "phrasings_ky",
  "phrasings_ru",
  "phrasings_en",
  "not_covered_ky",
  "not_covered_ru",
  "not_covered_en",
  "see_also",
] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Columns added after the first CSV files were written: a file may lack them. */
const OPTIONAL_COLUMNS: ReadonlySet<CsvColumn> = new Set([
  "question_en",
  "answer_en",
  "phrasings_en",
  "source_ky",
  "not_covered_ky",
  "not_covered_ru",
  "not_covered_en",
  "see_also",
]);

/** A per-language list as one JSON array per cell; a language without the list: empty cell. */
function listCell(list: readonly string[] | undefined): string {
  return list ? JSON.stringify(list) : "";
}

export function parseFaqFile(content: string, format: FaqFileFormat): ParsedFile {
  return format === "json" ? parseJson(content) : parseCsv(content);
}

export function serializeFaqFile(entries: readonly FaqEntry[], format: FaqFileFormat): string {
  if (format === "json") return `${JSON.stringify(entries, null, 2)}\n`;
  const lines = [CSV_COLUMNS.join(",")];
  for (const e of entries) {
    const cells = [
      e.id,
      e.topic,
      e.question.ky ?? "",
      e.question.ru ?? "",
      e.question.en ?? "",
      e.answer.ky ?? "",
      e.answer.ru ?? "",
      e.answer.en ?? "",
      e.source,
      e.sourceKy ?? "",
      e.lastChecked,
      e.audience,
      e.status,
      JSON.stringify(e.tags),
      listCell(e.phrasings.ky),
      listCell(e.phrasings.ru),
      listCell(e.phrasings.en),
      listCell(e.notCovered?.ky),
      listCell(e.notCovered?.ru),
      listCell(e.notCovered?.en),
      JSON.stringify(e.seeAlso ?? []),
    ];
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim()
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

function parseJson(content: string): ParsedFile {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (error) {
    return { entries: [], errors: [`line 1: not valid JSON (${(error as Error).message})`] };
  }
  if (!Array.isArray(data))
    return { entries: [], errors: ["line 1: expected an array of entries"] };
  const starts = topLevelElementLines(content);
  const entries: FaqEntry[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of data.entries()) {
    const where = `line ${starts[i] ?? 1} (entry ${i + 1})`;
    try {
      const entry = parseEntry(raw);
      if (seen.has(entry.id)) throw new FaqValidationError([`id: duplicate id ${entry.id}`]);
      seen.add(entry.id);
      entries.push(entry);
    } catch (error) {
      errors.push(...problemsOf(error).map((p) => `${where}: ${p}`));
    }
  }
  return { entries, errors };
}

/** Line numbers on which each element of a top-level JSON array begins. */
function topLevelElementLines(content: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < content.length; i++) {
    const ch = content[i]!;
    if (ch === "\n") line++;
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (/\s/.test(ch)) continue;
    if (depth === 1 && expectElement && ch !== "]") {
      lines.push(line);
      expectElement = false;
    }
    if (ch === '"') inString = true;
    else if (ch === "[" || ch === "{") {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 1) expectElement = true;
  }
  return lines;
}

/** RFC 4180 records, each with the line it starts on. */
export function csvRecords(content: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  let any = false;
  const text = content.replace(/^\uFEFF/, "");
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === "") {
      quoted = true;
      any = true;
    } else if (ch === ",") {
      cells.push(cell);
      cell = "";
      any = true;
    } else if (ch === "\r" && text[i + 1] === "\n") {
      // handled with the \n
    } else if (ch === "\n" || ch === "\r") {
      if (any || cell !== "") {
        cells.push(cell);
        records.push({ line: start, cells });
      }
      cells = [];
      cell = "";
      any = false;
      line++;
      start = line;
    } else {
      cell += ch;
      any = true;
    }
  }
  if (any || cell !== "") {
    cells.push(cell);
    records.push({ line: start, cells });
  }
  return records;
}

function parseCsv(content: string): ParsedFile {
  const records = csvRecords(content);
  const header = records.shift();
  if (!header) return { entries: [], errors: ["line 1: empty file"] };
  const index = new Map(header.cells.map((name, i) => [name.trim(), i]));
  const missing = CSV_COLUMNS.filter((c) => !index.has(c) && !OPTIONAL_COLUMNS.has(c));
  if (missing.length > 0) {
    return { entries: [], errors: [`line ${header.line}: missing columns ${missing.join(", ")}`] };
  }
  const entries: FaqEntry[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const { line, cells } of records) {
    const get = (c: CsvColumn) => {
      const i = index.get(c);
      return i === undefined ? "" : (cells[i] ?? "");
    };
    try {
      const langs = (prefix: "question" | "answer") => {
        const out: Record<string, string> = {};
        for (const l of LOCALES) {
          const v = get(`${prefix}_${l}`);
          if (v !== "") out[l] = v;
        }
        return out;
      };
      const lists = (prefix: "phrasings" | "not_covered") => {
        const out: Record<string, unknown> = {};
        for (const l of LOCALES) {
          const v = get(`${prefix}_${l}`);
          if (v !== "") out[l] = jsonCell(v, `${prefix}_${l}`);
        }
        return out;
      };
      const raw = {
        id: get("id"),
        topic: get("topic"),
        question: langs("question"),
        answer: langs("answer"),
        source: get("source"),
        sourceKy: get("source_ky"),
        lastChecked: get("last_checked") || undefined,
        audience: get("audience") || undefined,
        status: get("status") || undefined,
        tags: get("tags") === "" ? [] : jsonCell(get("tags"), "tags"),
        phrasings: lists("phrasings"),
        notCovered: lists("not_covered"),
        seeAlso: get("see_also") === "" ? [] : jsonCell(get("see_also"), "see_also"),
      };
      const entry = parseEntry(raw);
      if (seen.has(entry.id)) throw new FaqValidationError([`id: duplicate id ${entry.id}`]);
      seen.add(entry.id);
      entries.push(entry);
    } catch (error) {
      errors.push(...problemsOf(error).map((p) => `line ${line}: ${p}`));
    }
  }
  return { entries, errors };
}

function jsonCell(value: string, column: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new FaqValidationError([`${column}: must be a JSON array of strings`]);
  }
}

function problemsOf(error: unknown): string[] {
  if (error instanceof FaqValidationError) return error.problems;
  return [String((error as Error)?.message ?? error)];
}
