import { z } from "zod";

/**
 * The two file formats `municipalities import` accepts. Both describe the full directory;
 * the import upserts by code, so a file may be loaded again after a fix or a rename.
 *
 * JSON (same shape as data/kyrgyzstan.json):
 *   { "regions":        [{ "code", "kind": "oblast"|"city", "name_ky", "name_ru" }],
 *     "districts":      [{ "code", "region": regionCode, "name_ky", "name_ru" }],
 *     "municipalities": [{ "code", "kind": "aiyl_aimak"|"city", "region": regionCode,
 *                          "district": districtCode | null, "name_ky", "name_ru",
 *                          "phone"?, "email"?, "website"?, "address"? }] }
 *
 * CSV (UTF-8, header row required, comma or semicolon separated, RFC 4180 quoting), one row
 * per municipality; region and district are repeated on each of their rows:
 *   region_code, region_kind (oblast|city), region_name_ky, region_name_ru,
 *   district_code, district_name_ky, district_name_ru   (all three empty: no district),
 *   code, kind (aiyl_aimak|city), name_ky, name_ru
 *   and optionally phone, email, website, address
 * Column order is free; extra columns are ignored.
 *
 * The contacts are those of the municipality's executive body (aiyl okmotu, mayor's office).
 * Each is optional: a file without the field (JSON key or CSV column) leaves what the database
 * has, so older files import as before; an empty value clears it.
 *
 * Names are the unit's own name ("Сокулук", "Джети-Огуз"); the generic word ("айыл аймагы",
 * "айылный аймак", "шаары", "город") comes from `kind` in the interface, not from the data.
 * Regions and districts carry their full names ("Чүй облусу", "Аксыйский район").
 */

export type ImportFormat = "csv" | "json";

export interface RegionRecord {
  code: string;
  kind: "oblast" | "city";
  name_ky: string;
  name_ru: string;
}

export interface DistrictRecord {
  code: string;
  region: string;
  name_ky: string;
  name_ru: string;
}

export interface MunicipalityRecord {
  code: string;
  kind: "aiyl_aimak" | "city";
  region: string;
  district: string | null;
  name_ky: string;
  name_ru: string;
  /** Absent: the file says nothing (the database keeps its value); null: no such contact. */
  phone?: string | null | undefined;
  email?: string | null | undefined;
  website?: string | null | undefined;
  address?: string | null | undefined;
}

export const CONTACT_FIELDS = ["phone", "email", "website", "address"] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

export interface DirectoryData {
  regions: RegionRecord[];
  districts: DistrictRecord[];
  municipalities: MunicipalityRecord[];
}

/** One thing wrong with the input: a CSV line number, or a JSON path such as municipalities[3]. */
export interface ImportProblem {
  line?: number;
  path?: string;
  message: string;
}

export function formatProblem(problem: ImportProblem): string {
  const where = problem.line !== undefined ? `line ${problem.line}` : (problem.path ?? "file");
  return `${where}: ${problem.message}`;
}

export type ParseResult =
  | { ok: true; data: DirectoryData }
  | { ok: false; problems: ImportProblem[] };

const code = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "is empty")
  .max(100, "is longer than 100 characters")
  .regex(
    /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/,
    "may only contain latin letters, digits and - _ . between them",
  );

const name = z
  .string()
  .transform((s) => s.normalize("NFC").replace(/\s+/g, " ").trim())
  .pipe(z.string().min(1, "is empty").max(200, "is longer than 200 characters"));

const regionSchema = z.object({
  code,
  kind: z.enum(["oblast", "city"], { error: 'must be "oblast" or "city"' }),
  name_ky: name,
  name_ru: name,
});

const districtSchema = z.object({ code, region: code, name_ky: name, name_ru: name });

/** An optional contact: trimmed, one line; empty or null means none. */
function contact(max: number, check?: { pattern: RegExp; message: string }) {
  const text = z.string().max(max, `is longer than ${max} characters`);
  return z
    .union([z.string(), z.null()])
    .transform((s) => (s === null ? null : s.normalize("NFC").replace(/\s+/g, " ").trim() || null))
    .pipe((check ? text.regex(check.pattern, check.message) : text).nullable())
    .optional();
}

const municipalitySchema = z.object({
  code,
  kind: z.enum(["aiyl_aimak", "city"], { error: 'must be "aiyl_aimak" or "city"' }),
  region: code,
  district: z.union([code, z.literal("").transform(() => null), z.null()]).default(null),
  name_ky: name,
  name_ru: name,
  phone: contact(100, {
    pattern: /^[0-9+()\-.,;\s/]*\d[0-9+()\-.,;\s/]*$/,
    message: "may only contain digits, spaces and + ( ) - . , ; /",
  }),
  email: contact(200, {
    pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
    message: "is not an e-mail address",
  }),
  website: contact(200, {
    pattern: /^(https?:\/\/)?[^\s/.]+(\.[^\s/.]+)+(\/\S*)?$/i,
    message: "is not a web address",
  }),
  address: contact(300),
});

/**
 * One readable sentence from zod issues: the first issue of each field only ("code is empty",
 * not also "code may only contain ..."), each prefixed with `prefix` when given.
 */
function issueText(issues: z.core.$ZodIssue[], prefix = "", skipFields: string[] = []): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const issue of issues) {
    const field = issue.path.join(".");
    if (seen.has(field) || skipFields.includes(field)) continue;
    seen.add(field);
    const subject = `${prefix}${field}`.trim();
    if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
      parts.push(`${subject} is missing`);
    } else if (!subject) parts.push(issue.message);
    // Our own messages read on from the field name ("code is empty"); zod's are sentences.
    else if (/^[a-z]/.test(issue.message)) parts.push(`${subject} ${issue.message}`);
    else parts.push(`${subject}: ${issue.message}`);
  }
  return parts.join("; ");
}

/** Where a record came from, for messages. */
type Origin = { line: number } | { path: string };

function problemAt(origin: Origin, message: string): ImportProblem {
  return "line" in origin ? { line: origin.line, message } : { path: origin.path, message };
}

/**
 * Cross-record checks shared by both formats: duplicate codes, unknown references, a district
 * of another region, an aiyl aimak without a district.
 */
function checkReferences(
  regions: Array<{ record: RegionRecord; origin: Origin }>,
  districts: Array<{ record: DistrictRecord; origin: Origin }>,
  municipalities: Array<{ record: MunicipalityRecord; origin: Origin }>,
  problems: ImportProblem[],
): void {
  const regionCodes = new Set<string>();
  for (const { record, origin } of regions) {
    if (regionCodes.has(record.code)) {
      problems.push(problemAt(origin, `region code "${record.code}" appears twice`));
    }
    regionCodes.add(record.code);
  }
  const districtRegion = new Map<string, string>();
  for (const { record, origin } of districts) {
    if (districtRegion.has(record.code)) {
      problems.push(problemAt(origin, `district code "${record.code}" appears twice`));
    } else if (!regionCodes.has(record.region)) {
      problems.push(problemAt(origin, `unknown region "${record.region}"`));
    }
    if (!districtRegion.has(record.code)) districtRegion.set(record.code, record.region);
  }
  const municipalityCodes = new Set<string>();
  for (const { record, origin } of municipalities) {
    if (municipalityCodes.has(record.code)) {
      problems.push(problemAt(origin, `municipality code "${record.code}" appears twice`));
      continue;
    }
    municipalityCodes.add(record.code);
    if (!regionCodes.has(record.region)) {
      problems.push(problemAt(origin, `unknown region "${record.region}"`));
    } else if (record.district !== null) {
      const owner = districtRegion.get(record.district);
      if (owner === undefined) {
        problems.push(problemAt(origin, `unknown district "${record.district}"`));
      } else if (owner !== record.region) {
        problems.push(
          problemAt(
            origin,
            `district "${record.district}" belongs to region "${owner}", not "${record.region}"`,
          ),
        );
      }
    } else if (record.kind === "aiyl_aimak") {
      problems.push(problemAt(origin, "an aiyl aimak must belong to a district"));
    }
  }
}

export function parseJsonDirectory(content: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(content.replace(/^\uFEFF/, ""));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [{ path: "file", message: `not valid JSON (${detail})` }] };
  }
  const problems: ImportProblem[] = [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [
        { path: "file", message: "expected an object with regions, districts, municipalities" },
      ],
    };
  }
  const root = raw as Record<string, unknown>;
  function list<T>(key: string, schema: z.ZodType<T>): Array<{ record: T; origin: Origin }> {
    const value = root[key] ?? [];
    if (!Array.isArray(value)) {
      problems.push({ path: key, message: "must be an array" });
      return [];
    }
    const out: Array<{ record: T; origin: Origin }> = [];
    value.forEach((item, i) => {
      const path = `${key}[${i}]`;
      const parsed = schema.safeParse(item);
      if (parsed.success) out.push({ record: parsed.data, origin: { path } });
      else problems.push({ path, message: issueText(parsed.error.issues) });
    });
    return out;
  }
  const regions = list("regions", regionSchema);
  const districts = list("districts", districtSchema);
  const municipalities = list("municipalities", municipalitySchema);
  if (municipalities.length === 0 && problems.length === 0) {
    problems.push({ path: "municipalities", message: "the file lists no municipality" });
  }
  checkReferences(regions, districts, municipalities, problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    data: {
      regions: regions.map((r) => r.record),
      districts: districts.map((d) => d.record),
      municipalities: municipalities.map((m) => m.record),
    },
  };
}

/** One CSV record with the physical line it starts on (1-based; the header is line 1). */
export interface CsvRow {
  line: number;
  fields: string[];
}

/**
 * RFC 4180 reader: quoted fields may hold separators, doubled quotes and line breaks. The
 * separator is "," unless the header has ";" and no "," (spreadsheets in ru/ky locales).
 */
export function readCsv(content: string): { rows: CsvRow[]; error?: ImportProblem } {
  const text = content.replace(/^\uFEFF/, "");
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const separator = firstLine.includes(";") && !firstLine.includes(",") ? ";" : ",";
  const rows: CsvRow[] = [];
  let line = 1;
  let rowLine = 1;
  let field = "";
  let fields: string[] = [];
  let quoted = false;
  let wasQuoted = false;
  const endRow = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0]!.trim() !== "" || wasQuoted) {
      rows.push({ line: rowLine, fields });
    }
    fields = [];
    field = "";
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === "") {
      quoted = true;
      wasQuoted = true;
      field = "";
    } else if (ch === separator) {
      fields.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (quoted) {
    return { rows, error: { line: rowLine, message: "a quoted field is never closed" } };
  }
  if (field !== "" || fields.length > 0) endRow();
  return { rows };
}

const CSV_COLUMNS = [
  "region_code",
  "region_kind",
  "region_name_ky",
  "region_name_ru",
  "district_code",
  "district_name_ky",
  "district_name_ru",
  "code",
  "kind",
  "name_ky",
  "name_ru",
] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number];

export const CSV_HEADER = CSV_COLUMNS.join(",");

export function parseCsvDirectory(content: string): ParseResult {
  const { rows, error } = readCsv(content);
  if (error) return { ok: false, problems: [error] };
  const [header, ...body] = rows;
  if (!header) return { ok: false, problems: [{ line: 1, message: "the file is empty" }] };
  const columnIndex = new Map<string, number>();
  header.fields.forEach((h, i) => {
    const column = h.trim().toLowerCase();
    if (!columnIndex.has(column)) columnIndex.set(column, i);
  });
  const missing = CSV_COLUMNS.filter((c) => !columnIndex.has(c));
  if (missing.length > 0) {
    return {
      ok: false,
      problems: [
        {
          line: header.line,
          message: `header lacks column(s) ${missing.join(", ")}; expected ${CSV_HEADER}`,
        },
      ],
    };
  }
  if (body.length === 0) {
    return { ok: false, problems: [{ line: header.line, message: "no municipality rows" }] };
  }
  const problems: ImportProblem[] = [];
  const regions = new Map<string, { record: RegionRecord; origin: Origin }>();
  const districts = new Map<string, { record: DistrictRecord; origin: Origin }>();
  const municipalities: Array<{ record: MunicipalityRecord; origin: Origin }> = [];
  for (const row of body) {
    const get = (column: CsvColumn) => row.fields[columnIndex.get(column)!] ?? "";
    const origin = { line: row.line };
    const rowProblems: string[] = [];
    const region = regionSchema.safeParse({
      code: get("region_code"),
      kind: get("region_kind"),
      name_ky: get("region_name_ky"),
      name_ru: get("region_name_ru"),
    });
    if (!region.success) rowProblems.push(issueText(region.error.issues, "region "));
    const hasDistrict = [
      get("district_code"),
      get("district_name_ky"),
      get("district_name_ru"),
    ].some((v) => v.trim() !== "");
    const district = hasDistrict
      ? districtSchema.safeParse({
          code: get("district_code"),
          region: get("region_code"),
          name_ky: get("district_name_ky"),
          name_ru: get("district_name_ru"),
        })
      : undefined;
    if (district && !district.success) {
      // Its region code is the row's region_code, already checked above.
      rowProblems.push(issueText(district.error.issues, "district ", ["region"]));
    }
    const contacts: Partial<Record<ContactField, string>> = {};
    for (const field of CONTACT_FIELDS) {
      const i = columnIndex.get(field);
      if (i !== undefined) contacts[field] = row.fields[i] ?? "";
    }
    const municipality = municipalitySchema.safeParse({
      code: get("code"),
      kind: get("kind"),
      region: get("region_code"),
      district: hasDistrict ? get("district_code") : null,
      name_ky: get("name_ky"),
      name_ru: get("name_ru"),
      ...contacts,
    });
    if (!municipality.success) {
      rowProblems.push(issueText(municipality.error.issues, "", ["region", "district"]));
    }
    if (rowProblems.length > 0 || !region.success || !municipality.success) {
      problems.push({ line: row.line, message: rowProblems.filter(Boolean).join("; ") });
      continue;
    }
    // A region or district repeated on many rows must be described the same way each time.
    const conflict =
      firstDescription(regions, "region", region.data, origin) ??
      (district?.success
        ? firstDescription(districts, "district", district.data, origin)
        : undefined);
    if (conflict) {
      problems.push({ line: row.line, message: conflict });
      continue;
    }
    municipalities.push({ record: municipality.data, origin });
  }
  checkReferences([...regions.values()], [...districts.values()], municipalities, problems);
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return { ok: false, problems };
  }
  return {
    ok: true,
    data: {
      regions: [...regions.values()].map((r) => r.record),
      districts: [...districts.values()].map((d) => d.record),
      municipalities: municipalities.map((m) => m.record),
    },
  };
}

/**
 * Remembers where a region or district was first described; returns a problem when this row
 * describes an already known one differently.
 */
function firstDescription<T extends { code: string }>(
  known: Map<string, { record: T; origin: Origin }>,
  kind: "region" | "district",
  record: T,
  origin: Origin,
): string | undefined {
  const first = known.get(record.code);
  if (!first) {
    known.set(record.code, { record, origin });
    return undefined;
  }
  const diff = differences(first.record, record);
  return diff
    ? `${kind} "${record.code}" differs from line ${lineOf(first.origin)} (${diff})`
    : undefined;
}

function lineOf(origin: Origin): string {
  return "line" in origin ? String(origin.line) : origin.path;
}

/** "name_ky \"Чүй облусу\" there, \"Чуй\" here", or "" when the records agree. */
function differences<T extends object>(there: T, here: T): string {
  const a = there as Record<string, unknown>;
  const b = here as Record<string, unknown>;
  return Object.keys(a)
    .filter((key) => a[key] !== b[key])
    .map((key) => `${key} "${String(a[key])}" there, "${String(b[key])}" here`)
    .join(", ");
}

export function parseDirectory(content: string, format: ImportFormat): ParseResult {
  return format === "csv" ? parseCsvDirectory(content) : parseJsonDirectory(content);
}

/** The directory as CSV rows (regions without municipalities cannot be expressed in CSV). */
export function toCsv(data: DirectoryData): string {
  const regions = new Map(data.regions.map((r) => [r.code, r]));
  const districts = new Map(data.districts.map((d) => [d.code, d]));
  const quote = (v: string) => (/[",;\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [CSV_HEADER];
  for (const m of data.municipalities) {
    const r = regions.get(m.region)!;
    const d = m.district ? districts.get(m.district) : undefined;
    lines.push(
      [
        r.code,
        r.kind,
        r.name_ky,
        r.name_ru,
        d?.code ?? "",
        d?.name_ky ?? "",
        d?.name_ru ?? "",
        m.code,
        m.kind,
        m.name_ky,
        m.name_ru,
      ]
        .map(quote)
        .join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}
