import { readFileSync } from "node:fs";
import {
  type DirectoryData,
  parseJsonDirectory,
} from "../../src/features/municipalities/directory-file";
import {
  buildSearchIndex,
  type SearchEntry,
  searchIndex,
} from "../../src/features/municipalities/search";
import { DIRECTORY_PATH } from "../../src/features/municipalities/service";

/** The shipped directory file, parsed and validated as an import would. */
export function shippedDirectory(): DirectoryData {
  const parsed = parseJsonDirectory(readFileSync(DIRECTORY_PATH, "utf8"));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.data;
}

/**
 * The in-memory search over the shipped directory, as the service builds it (names plus
 * region and district names as context), answering with municipality codes.
 */
export function shippedSearch(): (query: string, limit?: number) => string[] {
  const { regions, districts, municipalities } = shippedDirectory();
  const region = new Map(regions.map((r) => [r.code, r]));
  const district = new Map(districts.map((d) => [d.code, d]));
  const entries: Array<SearchEntry & { code: string }> = municipalities.map((m, i) => {
    const r = region.get(m.region)!;
    const d = m.district ? district.get(m.district) : undefined;
    return {
      id: i + 1,
      code: m.code,
      kind: m.kind,
      nameKy: m.name_ky,
      nameRu: m.name_ru,
      context: [r.name_ky, r.name_ru, ...(d ? [d.name_ky, d.name_ru] : [])],
    };
  });
  const index = buildSearchIndex(entries);
  return (query, limit = 6) =>
    searchIndex(index, query, limit).map((hit) => entries[hit.id - 1]!.code);
}
