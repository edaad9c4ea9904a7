import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/command";
import type { DatabaseHandle } from "../../src/db/client";
import { districts, municipalities, regions } from "../../src/db/schema";
import { municipalitiesCommand } from "../../src/features/municipalities/cli";
import { CSV_HEADER, parseJsonDirectory } from "../../src/features/municipalities/directory-file";
import {
  countDirectory,
  DIRECTORY_PATH,
  displayName,
  formatProblem,
  getMunicipality,
  importDirectory,
  listDistricts,
  listMunicipalities,
  listRegions,
  searchMunicipalities,
  seedDemoDirectoryIfEmpty,
} from "../../src/features/municipalities/service";
import { createTestDatabase } from "../helpers/db";

let handle: DatabaseHandle;
let tmp: string;
const demo = readFileSync(DIRECTORY_PATH, "utf8");
/** The shipped file's own counts; tests/unit/municipalities-directory.test.ts pins the numbers. */
const shipped = (() => {
  const parsed = parseJsonDirectory(demo);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.data;
})();
const shippedCount = shipped.municipalities.length;

beforeAll(async () => {
  handle = await createTestDatabase();
  tmp = mkdtempSync(join(tmpdir(), "aimak-municipalities-"));
});

afterAll(async () => {
  await handle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function codesToIds(): Promise<Map<string, number>> {
  const rows = await handle.db
    .select({ code: municipalities.code, id: municipalities.id })
    .from(municipalities);
  return new Map(rows.map((r) => [r.code, r.id]));
}

async function idOf(code: string): Promise<number> {
  const [row] = await handle.db
    .select({ id: municipalities.id })
    .from(municipalities)
    .where(eq(municipalities.code, code));
  if (!row) throw new Error(`no municipality ${code}`);
  return row.id;
}

function csv(...rows: string[]): string {
  return `${[CSV_HEADER, ...rows].join("\n")}\n`;
}

function fakeCli(): CliContext & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    config: {} as CliContext["config"],
    logger: {} as CliContext["logger"],
    database: async () => handle,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    stdout,
    stderr,
  };
}

describe("shipped directory", () => {
  it("is seeded once into an empty database", async () => {
    const first = await seedDemoDirectoryIfEmpty(handle.db);
    expect(first.seeded).toBe(true);
    expect(first.summary?.municipalities.added).toBe(shippedCount);
    expect(await countDirectory(handle.db)).toEqual({
      regions: 9,
      districts: 40,
      municipalities: shippedCount,
    });
    const second = await seedDemoDirectoryIfEmpty(handle.db);
    expect(second.seeded).toBe(false);
    expect((await countDirectory(handle.db)).municipalities).toBe(shippedCount);
  });

  it("has all 7 oblasts and both cities of republican significance, with their districts", async () => {
    const all = await listRegions(handle.db);
    expect(all.map((r) => r.code)).toEqual([
      "batken",
      "jalal-abad",
      "naryn",
      "osh",
      "talas",
      "chui",
      "issyk-kul",
      "bishkek",
      "osh-city",
    ]);
    const byCode = new Map(all.map((r) => [r.code, r]));
    const districtCount = async (code: string) =>
      (await listDistricts(handle.db, byCode.get(code)!.id)).length;
    expect(await districtCount("chui")).toBe(8);
    expect(await districtCount("talas")).toBe(4);
    expect(await districtCount("issyk-kul")).toBe(5);
    expect(await districtCount("naryn")).toBe(5);
    expect(await districtCount("jalal-abad")).toBe(8);
    expect(await districtCount("osh")).toBe(7);
    expect(await districtCount("batken")).toBe(3);
    const aiylAimaks = await handle.db
      .select({ n: sql<number>`count(*)::int` })
      .from(municipalities)
      .where(eq(municipalities.kind, "aiyl_aimak"));
    expect(aiylAimaks[0]!.n).toBe(
      shipped.municipalities.filter((m) => m.kind === "aiyl_aimak").length,
    );
  });

  it("lists cities under the region and aiyl aimaks under their district", async () => {
    const all = await listRegions(handle.db);
    const chui = all.find((r) => r.code === "chui")!;
    const bishkek = all.find((r) => r.code === "bishkek")!;
    const direct = await listMunicipalities(handle.db, { regionId: chui.id, districtId: null });
    // Cities of regional significance sit under the region, by name: Кант, Кара-Балта, Токмок.
    expect(direct.map((m) => m.code)).toEqual(["chui.kant", "chui.kara-balta", "chui.tokmok"]);
    expect(
      (await listMunicipalities(handle.db, { regionId: bishkek.id, districtId: null })).map(
        (m) => m.code,
      ),
    ).toEqual(["bishkek.bishkek"]);
    const sokuluk = (await listDistricts(handle.db, chui.id)).find(
      (d) => d.code === "chui.sokuluk",
    )!;
    const inSokuluk = await listMunicipalities(
      handle.db,
      { regionId: chui.id, districtId: sokuluk.id },
      { locale: "ru" },
    );
    // The town of Шопоков first, then the aiyl aimaks by their Russian name.
    const names = inSokuluk.map((m) => m.nameRu);
    expect(names[0]).toBe("Шопоков");
    expect(names).toEqual(expect.arrayContaining(["Кожомкул", "Кызыл-Туу", "Сокулук"]));
    expect(names.slice(1)).toEqual([...names.slice(1)].sort((a, b) => a.localeCompare(b, "ru")));
    expect(names).toHaveLength(
      shipped.municipalities.filter((m) => m.district === "chui.sokuluk").length,
    );
    // Bad ids from forged callback data match nothing instead of failing.
    expect(await listDistricts(handle.db, Number.NaN)).toEqual([]);
    expect(await listMunicipalities(handle.db, { regionId: -1, districtId: null })).toEqual([]);
  });

  it("gets one municipality with its region and district names", async () => {
    const m = await getMunicipality(handle.db, await idOf("issyk-kul.jeti-oguz.barskoon"));
    expect(m).toMatchObject({
      code: "issyk-kul.jeti-oguz.barskoon",
      kind: "aiyl_aimak",
      nameKy: "Барскоон",
      region: { code: "issyk-kul", nameKy: "Ысык-Көл облусу", nameRu: "Иссык-Кульская область" },
      district: { code: "issyk-kul.jeti-oguz", nameKy: "Жети-Өгүз району" },
    });
    const tokmok = await getMunicipality(handle.db, await idOf("chui.tokmok"));
    expect(tokmok?.district).toBeNull();
    expect(displayName(tokmok!, "ky")).toBe("Токмок");
    expect(await getMunicipality(handle.db, 999_999)).toBeUndefined();
    expect(await getMunicipality(handle.db, 2 ** 40)).toBeUndefined();
    expect(await getMunicipality(handle.db, Number.NaN)).toBeUndefined();
  });

  it("is searchable through the database", async () => {
    const [hit] = await searchMunicipalities(handle.db, "жети огуз айыл окмоту");
    expect(hit?.municipality.code).toBe("issyk-kul.jeti-oguz.jeti-oguz");
    expect(hit?.municipality.district?.nameRu).toBe("Джети-Огузский район");
    expect(displayName(hit!.municipality, "ru")).toBe("Джети-Огуз");
    expect(displayName(hit!.municipality, "en")).toBe("Джети-Огуз");
  });

  it("re-imports idempotently: nothing changes, ids stay", async () => {
    const before = await codesToIds();
    const result = await importDirectory(handle.db, demo, "json");
    expect(result.ok && result.summary).toEqual({
      regions: { added: 0, updated: 0, unchanged: 9 },
      districts: { added: 0, updated: 0, unchanged: 40 },
      municipalities: { added: 0, updated: 0, unchanged: shippedCount },
      notInFile: 0,
    });
    expect(await codesToIds()).toEqual(before);
  });

  it("survives two imports at the same time", async () => {
    const results = await Promise.all([
      importDirectory(handle.db, demo, "json"),
      importDirectory(handle.db, demo, "json"),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await countDirectory(handle.db)).municipalities).toBe(shippedCount);
  });
});

describe("CSV import", () => {
  const region = "test-oblast,oblast,Сынак облусу,Тестовая область";
  const district = "test-oblast.one,Биринчи району,Первый район";

  it("adds new units, updates renamed ones, and refreshes the search cache", async () => {
    // Warm the cache so that the test proves the import invalidates it.
    expect(await searchMunicipalities(handle.db, "Жаңы-Айылчык")).toEqual([]);
    const tokmokId = await idOf("chui.tokmok");
    const content = csv(
      `${region},${district},test-oblast.one.a,aiyl_aimak,Жаңы-Айылчык,Жаны-Айылчык`,
      `${region},,,,test-oblast.town,city,"Шаарча, ""Сынак""",Городок`,
      "chui,oblast,Чүй облусу,Чуйская область,,,,chui.tokmok,city,Токмок,Токмак",
    );
    const result = await importDirectory(handle.db, content, "csv");
    expect(result.ok && result.summary).toEqual({
      regions: { added: 1, updated: 0, unchanged: 1 },
      districts: { added: 1, updated: 0, unchanged: 0 },
      municipalities: { added: 2, updated: 1, unchanged: 0 },
      notInFile: shippedCount - 1,
    });
    expect(await idOf("chui.tokmok")).toBe(tokmokId);
    expect((await getMunicipality(handle.db, tokmokId))?.nameRu).toBe("Токмак");
    const town = await getMunicipality(handle.db, await idOf("test-oblast.town"));
    expect(town?.nameKy).toBe('Шаарча, "Сынак"');
    const [hit] = await searchMunicipalities(handle.db, "жаны айылчык");
    expect(hit?.municipality.code).toBe("test-oblast.one.a");
    expect(hit?.municipality.region.nameRu).toBe("Тестовая область");

    const again = await importDirectory(handle.db, content, "csv");
    expect(again.ok && again.summary.municipalities).toEqual({
      added: 0,
      updated: 0,
      unchanged: 3,
    });
    // Put Tokmok's name back for the tests below.
    await importDirectory(handle.db, demo, "json");
  });

  it("accepts semicolons, a BOM, CRLF and columns in any order", async () => {
    const content =
      "\uFEFFcode;kind;name_ky;name_ru;region_code;region_kind;region_name_ky;region_name_ru;district_code;district_name_ky;district_name_ru;note\r\n" +
      "test-oblast.one.b;aiyl_aimak;Экинчи;Второй;test-oblast;oblast;Сынак облусу;Тестовая область;test-oblast.one;Биринчи району;Первый район;ignored\r\n";
    const result = await importDirectory(handle.db, content, "csv");
    expect(result.ok && result.summary.municipalities.added).toBe(1);
  });

  it("reports every bad row by its line and imports nothing", async () => {
    const before = await countDirectory(handle.db);
    const content = csv(
      /* line 2 */ `${region},${district},test-oblast.one.ok,aiyl_aimak,Жакшы,Хороший`,
      /* line 3 */ `${region},${district},test-oblast.one.c,village,Үчүнчү,Третий`,
      /* line 4 */ `${region},,,,test-oblast.d,aiyl_aimak,Төртүнчү,Четвертый`,
      /* line 5 */ `${region},"${"Биринчи\nрайону"}",x,y,test-oblast.e,city,Бешинчи,Пятый`,
      /* line 7 */ `${region},${district},test-oblast.one.ok,city,Кайра,Снова`,
      /* line 8 */ `${region},${district},BAD CODE!,city,,Пустое`,
      /* line 9 */ `nowhere,oblast,Жок,Нет,,,,nowhere.x,city,Жок,Нет`,
      /* line 10 */ `nowhere,region,Жок,Нет,,,,nowhere.y,city,Жок,Нет`,
      /* line 11 */ `${region},test-oblast.one,Башка аты,Другое имя,test-oblast.one.f,city,Алты,Шесть`,
    );
    const result = await importDirectory(handle.db, content, "csv");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byLine = new Map(result.problems.map((p) => [p.line, p.message]));
    expect([...byLine.keys()]).toEqual([3, 4, 5, 7, 8, 10, 11]);
    expect(byLine.get(3)).toMatch(/kind must be "aiyl_aimak" or "city"/);
    expect(byLine.get(4)).toMatch(/aiyl aimak must belong to a district/);
    expect(byLine.get(5)).toMatch(/district/);
    expect(byLine.get(7)).toMatch(/"test-oblast.one.ok" appears twice/);
    expect(byLine.get(8)).toMatch(/code may only contain/);
    expect(byLine.get(8)).toMatch(/name_ky is empty/);
    expect(byLine.get(10)).toMatch(/region kind must be "oblast" or "city"/);
    expect(byLine.get(11)).toMatch(/district "test-oblast.one" differs from line 2/);
    expect(formatProblem(result.problems[0]!)).toMatch(/^line 3: /);
    expect(await countDirectory(handle.db)).toEqual(before);
    const [row] = await handle.db
      .select()
      .from(municipalities)
      .where(eq(municipalities.code, "test-oblast.one.ok"));
    expect(row).toBeUndefined();
  });

  it("rejects a file without the required columns or rows", async () => {
    const noColumns = await importDirectory(handle.db, "code,name\nx,y\n", "csv");
    expect(noColumns.ok || noColumns.problems[0]).toMatchObject({
      line: 1,
      message: expect.stringMatching(/header lacks column\(s\) region_code/),
    });
    const empty = await importDirectory(handle.db, "", "csv");
    expect(empty.ok).toBe(false);
    const headerOnly = await importDirectory(handle.db, csv(), "csv");
    expect(headerOnly.ok || headerOnly.problems[0]?.message).toBe("no municipality rows");
    const unclosed = await importDirectory(handle.db, csv(`${region},"oops`), "csv");
    expect(unclosed.ok || unclosed.problems[0]).toMatchObject({ line: 2 });
  });
});

describe("JSON import", () => {
  it("reports bad entries by array index and imports nothing", async () => {
    const before = await countDirectory(handle.db);
    const content = JSON.stringify({
      regions: [
        { code: "json-oblast", kind: "oblast", name_ky: "Жсон облусу", name_ru: "Джсон область" },
      ],
      districts: [
        { code: "json-oblast.d", region: "json-oblast", name_ky: "Д району", name_ru: "Д район" },
        { code: "json-oblast.e", region: "missing", name_ky: "Е району", name_ru: "Е район" },
      ],
      municipalities: [
        {
          code: "json-oblast.d.a",
          kind: "aiyl_aimak",
          region: "json-oblast",
          district: "json-oblast.d",
          name_ky: "А",
          name_ru: "А",
        },
        { code: "json-oblast.d.b", kind: "city", region: "json-oblast", name_ky: "Б" },
        {
          code: "json-oblast.x",
          kind: "city",
          region: "json-oblast",
          district: "chui.sokuluk",
          name_ky: "Х",
          name_ru: "Х",
        },
      ],
    });
    const result = await importDirectory(handle.db, content, "json");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = new Map(result.problems.map((p) => [p.path, p.message]));
    expect([...byPath.keys()].sort()).toEqual([
      "districts[1]",
      "municipalities[1]",
      "municipalities[2]",
    ]);
    expect(byPath.get("districts[1]")).toMatch(/unknown region "missing"/);
    expect(byPath.get("municipalities[1]")).toMatch(/name_ru is missing/);
    expect(byPath.get("municipalities[2]")).toMatch(/unknown district "chui.sokuluk"/);
    expect(await countDirectory(handle.db)).toEqual(before);
  });

  it("reports broken JSON plainly", async () => {
    const result = await importDirectory(handle.db, '{"regions": [', "json");
    expect(result.ok || formatProblem(result.problems[0]!)).toMatch(/^file: not valid JSON/);
    const wrongShape = await importDirectory(handle.db, "[]", "json");
    expect(wrongShape.ok).toBe(false);
  });

  it("rolls back a half-written import when the database fails", async () => {
    const before = await countDirectory(handle.db);
    await handle.db.execute(sql`
      create function aimak_test_fail() returns trigger language plpgsql as $$
      begin raise exception 'simulated failure'; end $$`);
    await handle.db.execute(sql`
      create trigger aimak_test_fail before insert on municipalities
      for each row when (new.code = 'boom.city') execute function aimak_test_fail()`);
    try {
      const content = JSON.stringify({
        regions: [{ code: "boom", kind: "oblast", name_ky: "Бум", name_ru: "Бум" }],
        districts: [
          { code: "boom.d", region: "boom", name_ky: "Бум району", name_ru: "Бум район" },
        ],
        municipalities: [
          { code: "boom.city", kind: "city", region: "boom", name_ky: "Бум", name_ru: "Бум" },
        ],
      });
      await expect(importDirectory(handle.db, content, "json")).rejects.toThrow();
      expect(await countDirectory(handle.db)).toEqual(before);
      const [boom] = await handle.db.select().from(regions).where(eq(regions.code, "boom"));
      expect(boom).toBeUndefined();
      const [boomDistrict] = await handle.db
        .select()
        .from(districts)
        .where(eq(districts.code, "boom.d"));
      expect(boomDistrict).toBeUndefined();
    } finally {
      await handle.db.execute(sql`drop trigger aimak_test_fail on municipalities`);
      await handle.db.execute(sql`drop function aimak_test_fail()`);
    }
  });
});

describe("municipalities CLI", () => {
  it("imports a file, printing counts", async () => {
    const file = join(tmp, "directory.json");
    writeFileSync(file, demo);
    const cli = fakeCli();
    expect(await municipalitiesCommand.run(["import", file], cli)).toBe(0);
    expect(cli.stdout).toContain(`municipalities: 0 added, 0 updated, ${shippedCount} unchanged`);
  });

  it("reloads the shipped directory, under its old name too", async () => {
    for (const sub of ["seed", "seed-demo"]) {
      const cli = fakeCli();
      expect(await municipalitiesCommand.run([sub], cli)).toBe(0);
      expect(cli.stdout).toContain(`municipalities: 0 added, 0 updated, ${shippedCount} unchanged`);
    }
  });

  it("imports the shipped example CSV", async () => {
    const cli = fakeCli();
    const example = new URL("../../src/features/municipalities/data/example.csv", import.meta.url);
    expect(await municipalitiesCommand.run(["import", example.pathname], cli)).toBe(0);
    expect(cli.stdout.join("\n")).toMatch(/municipalities: 0 added, 0 updated, \d+ unchanged/);
  });

  it("exits 1 with line-numbered errors on a bad file", async () => {
    const file = join(tmp, "bad.csv");
    writeFileSync(
      file,
      csv(
        "chui,oblast,Чүй облусу,Чуйская область,,,,chui.x,aiyl_aimak,Икс,Икс",
        "chui,oblast,Чүй облусу,Чуйская область,,,,chui.y,town,Игрек,Игрек",
      ),
    );
    const cli = fakeCli();
    expect(await municipalitiesCommand.run(["import", file], cli)).toBe(1);
    expect(cli.stderr[0]).toMatch(/nothing imported, 2 problem/);
    expect(cli.stderr[1]).toMatch(/^ {2}line 2: an aiyl aimak must belong to a district/);
    expect(cli.stderr[2]).toMatch(/^ {2}line 3: kind must be/);
  });

  it("refuses unknown formats and missing files", async () => {
    const cli = fakeCli();
    expect(await municipalitiesCommand.run(["import", join(tmp, "x.xlsx")], cli)).toBe(2);
    expect(await municipalitiesCommand.run(["import", join(tmp, "missing.csv")], cli)).toBe(2);
    expect(await municipalitiesCommand.run(["import"], cli)).toBe(2);
    expect(await municipalitiesCommand.run(["frobnicate"], cli)).toBe(2);
  });

  it("lists regions with counts, and one region's units", async () => {
    const cli = fakeCli();
    expect(await municipalitiesCommand.run(["list"], cli)).toBe(0);
    expect(cli.stdout.some((l) => l.startsWith("chui\t") && l.includes("8 districts"))).toBe(true);
    expect(cli.stdout.at(-1)).toMatch(/^total: \d+ regions, \d+ districts, \d+ municipalities$/);
    const one = fakeCli();
    expect(await municipalitiesCommand.run(["list", "--region", "batken"], one)).toBe(0);
    expect(one.stdout.join("\n")).toContain("batken.leilek.toguz-bulak");
    const inBatken = shipped.municipalities.filter((m) => m.region === "batken").length;
    expect(one.stdout.at(-1)).toBe(`3 districts, ${inBatken} municipalities`);
    const none = fakeCli();
    expect(await municipalitiesCommand.run(["list", "--region", "atlantis"], none)).toBe(1);
  });

  it("searches", async () => {
    const cli = fakeCli();
    expect(await municipalitiesCommand.run(["search", "sokuluk"], cli)).toBe(0);
    expect(cli.stdout[0]).toMatch(/chui\.sokuluk\.sokuluk/);
  });
});
