import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { and, count, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Database, Transaction } from "../../db/client";
import { districts, municipalities, regions } from "../../db/schema";
import type { Locale } from "../../locales";
import {
  CONTACT_FIELDS,
  type DirectoryData,
  type ImportFormat,
  type ImportProblem,
  parseDirectory,
} from "./directory-file";
import { buildSearchIndex, type SearchIndex, searchIndex } from "./search";

export type { DirectoryData, ImportFormat, ImportProblem } from "./directory-file";
export { formatProblem } from "./directory-file";

export interface Region {
  id: number;
  code: string;
  kind: "oblast" | "city";
  nameKy: string;
  nameRu: string;
}

export interface District {
  id: number;
  code: string;
  regionId: number;
  nameKy: string;
  nameRu: string;
}

export interface Municipality extends MunicipalityContacts {
  id: number;
  code: string;
  kind: "aiyl_aimak" | "city";
  regionId: number;
  districtId: number | null;
  nameKy: string;
  nameRu: string;
}

/** How to reach the municipality's executive body (aiyl okmotu, mayor's office), when known. */
export interface MunicipalityContacts {
  phone: string | null;
  email: string | null;
  website: string | null;
  address: string | null;
}

export interface MunicipalityDetails extends Municipality {
  region: Pick<Region, "id" | "code" | "kind" | "nameKy" | "nameRu">;
  district: Pick<District, "id" | "code" | "nameKy" | "nameRu"> | null;
}

/** A search hit: the municipality with its region and district, and how well it matched. */
export interface MunicipalitySearchResult {
  municipality: MunicipalityDetails;
  /** 0..1, 1 for an exact whole-name match. */
  score: number;
}

/** Any directory row in the user's language: Kyrgyz name for ky, the Russian one otherwise. */
export function displayName(item: { nameKy: string; nameRu: string }, locale: Locale): string {
  return locale === "ky" ? item.nameKy : item.nameRu;
}

/**
 * A municipality with where it is — "Кызыл-Суу · Жети-Өгүз району" — since the same name is
 * found in several districts. Cities outside any district of an oblast get the oblast; Bishkek
 * and Osh, regions of their own, just their name.
 */
export function placeLabel(
  m: Pick<MunicipalityDetails, "nameKy" | "nameRu" | "district"> & {
    region: Pick<Region, "kind" | "nameKy" | "nameRu">;
  },
  locale: Locale,
): string {
  const where = m.district ?? (m.region.kind === "oblast" ? m.region : null);
  return where
    ? `${displayName(m, locale)} · ${displayName(where, locale)}`
    : displayName(m, locale);
}

const collators = new Map<Locale, Intl.Collator>();

/** Sorts in JS so that PGlite and PostgreSQL (whose collations differ) give the same order. */
function byName<T extends { nameKy: string; nameRu: string }>(items: T[], locale: Locale): T[] {
  let collator = collators.get(locale);
  if (!collator) {
    collator = new Intl.Collator(locale === "ky" ? "ky" : "ru", { sensitivity: "base" });
    collators.set(locale, collator);
  }
  const c = collator;
  return [...items].sort((a, b) => c.compare(displayName(a, locale), displayName(b, locale)));
}

export interface ListOptions {
  /** Order by the name shown in this language (default ky). */
  locale?: Locale;
}

/** Oblasts first, then the cities of republican significance, each group by name. */
export async function listRegions(db: Database, options: ListOptions = {}): Promise<Region[]> {
  const rows = await db.select().from(regions);
  const sorted = byName(rows, options.locale ?? "ky");
  return [...sorted.filter((r) => r.kind === "oblast"), ...sorted.filter((r) => r.kind === "city")];
}

export async function listDistricts(
  db: Database,
  regionId: number,
  options: ListOptions = {},
): Promise<District[]> {
  if (!isDatabaseId(regionId)) return [];
  const rows = await db.select().from(districts).where(eq(districts.regionId, regionId));
  return byName(rows, options.locale ?? "ky");
}

/**
 * Municipalities of a district, or with `districtId: null` those directly under the region
 * (cities of regional or republican significance). Cities come before aiyl aimaks.
 */
export async function listMunicipalities(
  db: Database,
  where: { regionId: number; districtId: number | null },
  options: ListOptions = {},
): Promise<Municipality[]> {
  if (
    !isDatabaseId(where.regionId) ||
    (where.districtId !== null && !isDatabaseId(where.districtId))
  ) {
    return [];
  }
  const rows = await db
    .select()
    .from(municipalities)
    .where(
      and(
        eq(municipalities.regionId, where.regionId),
        where.districtId === null
          ? isNull(municipalities.districtId)
          : eq(municipalities.districtId, where.districtId),
      ),
    );
  const sorted = byName(rows, options.locale ?? "ky");
  return [...sorted.filter((m) => m.kind === "city"), ...sorted.filter((m) => m.kind !== "city")];
}

export async function getRegion(db: Database, id: number): Promise<Region | undefined> {
  if (!isDatabaseId(id)) return undefined;
  const [row] = await db.select().from(regions).where(eq(regions.id, id));
  return row;
}

export async function getDistrict(db: Database, id: number): Promise<District | undefined> {
  if (!isDatabaseId(id)) return undefined;
  const [row] = await db.select().from(districts).where(eq(districts.id, id));
  return row;
}

/** Ids come from callback data; anything that is not a positive int4 matches nothing. */
function isDatabaseId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0 && id <= 2_147_483_647;
}

async function loadDetails(db: Database, ids?: number[]): Promise<MunicipalityDetails[]> {
  const query = db
    .select({ m: municipalities, r: regions, d: districts })
    .from(municipalities)
    .innerJoin(regions, eq(regions.id, municipalities.regionId))
    .leftJoin(districts, eq(districts.id, municipalities.districtId));
  const rows = ids ? await query.where(inArray(municipalities.id, ids)) : await query;
  return rows.map(({ m, r, d }) => ({
    ...m,
    region: { id: r.id, code: r.code, kind: r.kind, nameKy: r.nameKy, nameRu: r.nameRu },
    district: d ? { id: d.id, code: d.code, nameKy: d.nameKy, nameRu: d.nameRu } : null,
  }));
}

/** One municipality with its region and district, or undefined for an unknown id. */
export async function getMunicipality(
  db: Database,
  id: number,
): Promise<MunicipalityDetails | undefined> {
  if (!isDatabaseId(id)) return undefined;
  // Every button press in the municipality step lands here: answer from the directory cache
  // (an import in this process clears it). A municipality that another instance added since the
  // cache was built is not in it yet, so a miss asks the database.
  const cached = (await directoryCache(db)).byId.get(id);
  if (cached) return cached;
  const [row] = await loadDetails(db, [id]);
  return row;
}

// ---------------------------------------------------------------------------------------------
// Search over an in-process cache of the whole directory (a few thousand rows at most), so
// that PGlite and PostgreSQL rank identically and no database extension is needed.

interface DirectoryCache {
  index: SearchIndex;
  byId: Map<number, MunicipalityDetails>;
  loadedAt: number;
}

/** A safety net for several app instances: another instance's import shows up within this. */
const CACHE_TTL_MS = 5 * 60 * 1000;
const caches = new WeakMap<Database, Promise<DirectoryCache>>();

async function buildCache(db: Database): Promise<DirectoryCache> {
  const all = await loadDetails(db);
  const index = buildSearchIndex(
    all.map((m) => ({
      id: m.id,
      kind: m.kind,
      nameKy: m.nameKy,
      nameRu: m.nameRu,
      context: [
        m.region.nameKy,
        m.region.nameRu,
        ...(m.district ? [m.district.nameKy, m.district.nameRu] : []),
      ],
    })),
  );
  return { index, byId: new Map(all.map((m) => [m.id, m])), loadedAt: Date.now() };
}

async function directoryCache(db: Database): Promise<DirectoryCache> {
  const current = caches.get(db);
  if (current) {
    const cache = await current;
    if (Date.now() - cache.loadedAt < CACHE_TTL_MS) return cache;
    if (caches.get(db) === current) caches.delete(db);
    return directoryCache(db);
  }
  const pending = buildCache(db);
  caches.set(db, pending);
  pending.catch(() => {
    if (caches.get(db) === pending) caches.delete(db);
  });
  return pending;
}

/** Drops the cached directory of this database; the next search reloads it. */
export function invalidateDirectoryCache(db: Database): void {
  caches.delete(db);
}

/**
 * Municipalities matching free text, best first: typos (1–2 edits), missing or Latin ө/ү/ң,
 * Kyrgyz or Russian names, noise words ("айыл аймагы", "АО", "село"), case and punctuation.
 * Words naming the district or region narrow the result ("Кара-Суу Ат-Башы").
 */
export async function searchMunicipalities(
  db: Database,
  query: string,
  limit = 6,
): Promise<MunicipalitySearchResult[]> {
  const text = query.slice(0, 200);
  const cache = await directoryCache(db);
  return searchIndex(cache.index, text, Math.max(0, Math.min(limit, 50))).flatMap((hit) => {
    const municipality = cache.byId.get(hit.id);
    return municipality ? [{ municipality, score: hit.score }] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Import

export interface UpsertCounts {
  added: number;
  updated: number;
  unchanged: number;
}

export interface ImportSummary {
  regions: UpsertCounts;
  districts: UpsertCounts;
  municipalities: UpsertCounts;
  /** Municipalities in the database that the file does not list; they are kept (users may point at them). */
  notInFile: number;
}

export type ImportResult =
  | { ok: true; summary: ImportSummary }
  | { ok: false; problems: ImportProblem[] };

const CHUNK = 500;
/** Arbitrary advisory-lock key that serialises directory imports. */
const DIRECTORY_LOCK = 7_241_001;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Loads a full directory (JSON or CSV, see directory-file.ts) in one transaction, upserting
 * by code so that a re-import updates names and moves units without changing their ids.
 * Invalid input changes nothing and comes back as line-numbered (CSV) or indexed (JSON)
 * problems. A database error rolls everything back and is thrown.
 */
export async function importDirectory(
  db: Database,
  content: string,
  format: ImportFormat,
): Promise<ImportResult> {
  const parsed = parseDirectory(content, format);
  if (!parsed.ok) return parsed;
  const summary = await db.transaction((tx) => writeDirectory(tx, parsed.data));
  invalidateDirectoryCache(db);
  return { ok: true, summary };
}

async function writeDirectory(tx: Transaction, data: DirectoryData): Promise<ImportSummary> {
  // One import at a time (two instances seeding the demo at start, say): the second waits and
  // then sees the first one's rows as existing.
  await tx.execute(sql`select pg_advisory_xact_lock(${DIRECTORY_LOCK})`);
  // Regions
  const existingRegions = new Map(
    (await tx.select().from(regions)).map((r) => [r.code, r] as const),
  );
  const regionCounts: UpsertCounts = { added: 0, updated: 0, unchanged: 0 };
  const regionIds = new Map<string, number>();
  for (const r of data.regions) {
    const row = { code: r.code, kind: r.kind, nameKy: r.name_ky, nameRu: r.name_ru };
    const old = existingRegions.get(r.code);
    if (!old) {
      const [inserted] = await tx.insert(regions).values(row).returning({ id: regions.id });
      regionIds.set(r.code, inserted!.id);
      regionCounts.added++;
    } else {
      regionIds.set(r.code, old.id);
      if (old.kind === row.kind && old.nameKy === row.nameKy && old.nameRu === row.nameRu) {
        regionCounts.unchanged++;
      } else {
        await tx.update(regions).set(row).where(eq(regions.id, old.id));
        regionCounts.updated++;
      }
    }
  }

  // Districts
  const existingDistricts = new Map(
    (await tx.select().from(districts)).map((d) => [d.code, d] as const),
  );
  const districtCounts: UpsertCounts = { added: 0, updated: 0, unchanged: 0 };
  const districtIds = new Map<string, number>();
  const newDistricts: Array<typeof districts.$inferInsert> = [];
  for (const d of data.districts) {
    const row = {
      code: d.code,
      regionId: regionIds.get(d.region)!,
      nameKy: d.name_ky,
      nameRu: d.name_ru,
    };
    const old = existingDistricts.get(d.code);
    if (!old) newDistricts.push(row);
    else {
      districtIds.set(d.code, old.id);
      if (old.regionId === row.regionId && old.nameKy === row.nameKy && old.nameRu === row.nameRu) {
        districtCounts.unchanged++;
      } else {
        await tx.update(districts).set(row).where(eq(districts.id, old.id));
        districtCounts.updated++;
      }
    }
  }
  for (const part of chunks(newDistricts)) {
    const inserted = await tx
      .insert(districts)
      .values(part)
      .returning({ id: districts.id, code: districts.code });
    for (const d of inserted) districtIds.set(d.code, d.id);
    districtCounts.added += inserted.length;
  }

  // Municipalities
  const existingMunicipalities = new Map(
    (await tx.select().from(municipalities)).map((m) => [m.code, m] as const),
  );
  const municipalityCounts: UpsertCounts = { added: 0, updated: 0, unchanged: 0 };
  const newMunicipalities: Array<typeof municipalities.$inferInsert> = [];
  const listed = new Set<string>();
  for (const m of data.municipalities) {
    listed.add(m.code);
    const row = {
      code: m.code,
      kind: m.kind,
      regionId: regionIds.get(m.region)!,
      districtId: m.district === null ? null : districtIds.get(m.district)!,
      nameKy: m.name_ky,
      nameRu: m.name_ru,
      // A contact the file does not mention keeps its value (files without contacts import as
      // they always did); one it gives, even as empty, replaces it.
      ...Object.fromEntries(
        CONTACT_FIELDS.filter((f) => m[f] !== undefined).map((f) => [f, m[f] ?? null]),
      ),
    } satisfies typeof municipalities.$inferInsert;
    const old = existingMunicipalities.get(m.code);
    if (!old) newMunicipalities.push(row);
    else if (
      old.kind === row.kind &&
      old.regionId === row.regionId &&
      old.districtId === row.districtId &&
      old.nameKy === row.nameKy &&
      old.nameRu === row.nameRu &&
      CONTACT_FIELDS.every((f) => m[f] === undefined || old[f] === (m[f] ?? null))
    ) {
      municipalityCounts.unchanged++;
    } else {
      await tx.update(municipalities).set(row).where(eq(municipalities.id, old.id));
      municipalityCounts.updated++;
    }
  }
  for (const part of chunks(newMunicipalities)) {
    await tx.insert(municipalities).values(part);
    municipalityCounts.added += part.length;
  }
  let notInFile = 0;
  for (const code of existingMunicipalities.keys()) if (!listed.has(code)) notInFile++;

  return {
    regions: regionCounts,
    districts: districtCounts,
    municipalities: municipalityCounts,
    notInFile,
  };
}

// ---------------------------------------------------------------------------------------------
// The shipped directory

/**
 * Every city and aiyl aimak of the Kyrgyz Republic, compiled from public sources (see
 * data/SOURCES.md for what they are and which date each part reflects).
 */
export const DIRECTORY_PATH = fileURLToPath(new URL("./data/kyrgyzstan.json", import.meta.url));

export interface DirectoryCounts {
  regions: number;
  districts: number;
  municipalities: number;
}

export async function countDirectory(db: Database): Promise<DirectoryCounts> {
  const [[r], [d], [m]] = await Promise.all([
    db.select({ n: count() }).from(regions),
    db.select({ n: count() }).from(districts),
    db.select({ n: count() }).from(municipalities),
  ]);
  return { regions: r?.n ?? 0, districts: d?.n ?? 0, municipalities: m?.n ?? 0 };
}

/**
 * Loads the shipped directory of the whole country (upsert by code; safe to run again). The
 * name dates from the 51-unit demo this file replaced; app, CLI and tests call it by it.
 */
export async function seedDemoDirectory(db: Database): Promise<ImportSummary> {
  const result = await importDirectory(db, await readFile(DIRECTORY_PATH, "utf8"), "json");
  if (!result.ok) {
    // The shipped file is covered by tests; reaching this means it was edited badly.
    throw new Error(`shipped directory is invalid: ${JSON.stringify(result.problems.slice(0, 3))}`);
  }
  return result.summary;
}

/** Seeds the shipped directory when there is no municipality yet; returns whether it did. */
export async function seedDemoDirectoryIfEmpty(
  db: Database,
): Promise<{ seeded: boolean; summary?: ImportSummary }> {
  const [row] = await db.select({ n: count() }).from(municipalities);
  if ((row?.n ?? 0) > 0) return { seeded: false };
  return { seeded: true, summary: await seedDemoDirectory(db) };
}
