/**
 * `polls …` and `residents import …` on the command line, on a real database (PGlite, or
 * PostgreSQL with DATABASE_URL): creating single, multiple, verified and scheduled polls, the
 * list, results, closing, the CSV and the chart, the resident list, and every refused input:
 * exit code 2, one line naming what is wrong, and nothing changed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, asc, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/command";
import { runCli } from "../../src/cli/run";
import { parseConfig } from "../../src/config";
import { type DatabaseHandle, rowsOf } from "../../src/db/client";
import { auditLog, outgoingMessages } from "../../src/db/schema";
import { formatTyped } from "../../src/features/hearings/time";
import { pollsCommand, residentsCommand } from "../../src/features/polls/cli";
import {
  pollBallots,
  pollResidentLists,
  pollResidents,
  polls,
  pollVoters,
} from "../../src/features/polls/schema";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { CLI_ACTOR, type Voter } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { createTestDatabase } from "../helpers/db";
import { seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

const config = parseConfig({
  LOG_LEVEL: "silent",
  PUBLIC_URL: "https://aimak.example.kg",
  BALLOT_SECRET: "polls-cli-test-secret-0123456789abcdef",
});
const en = translator("en");
const ru = translator("ru");
const TZ = config.timezone;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let handle: DatabaseHandle;
let service: PollsService;
let tmp: string;
let muniA: number;
let muniB: number;
let voters: Voter[];

interface Run {
  code: number;
  out: string[];
  err: string[];
}

/** One command line through the CLI's own dispatcher, as `npm run cli -- …` runs it. */
async function cli(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    config,
    logger: createLogger("silent"),
    database: async () => handle,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  const code = await runCli([pollsCommand, residentsCommand], argv, ctx);
  return { code, out, err };
}

/** A run that must succeed; its last line parsed when it is JSON. */
async function ok(...argv: string[]): Promise<Run & { last: unknown }> {
  const run = await cli(...argv);
  expect(run.err, argv.join(" ")).toEqual([]);
  expect(run.code, argv.join(" ")).toBe(0);
  const lastLine = run.out.at(-1) ?? "";
  return {
    ...run,
    last: lastLine.startsWith("{") || lastLine.startsWith("[") ? JSON.parse(lastLine) : undefined,
  };
}

/** When the file started: every typed time is counted from it, so none moves between tests. */
const START = Date.now();

/** "YYYY-MM-DD HH:MM" in the deployment's time zone, `ms` from START (cut to the minute). */
function typed(ms: number): string {
  return formatTyped(new Date(START + ms), TZ);
}

/** The instant typed(ms) stands for, in UTC. */
function minuteOf(ms: number): string {
  const at = new Date(START + ms);
  at.setUTCSeconds(0, 0);
  return at.toISOString();
}

async function poll(id: number) {
  const [row] = await handle.db.select().from(polls).where(eq(polls.id, id));
  return row;
}

function createArgs(...extra: string[]): string[] {
  return [
    "polls",
    "create",
    "--municipality",
    String(muniA),
    "--question-ky",
    "Кайсы көчөнү биринчи оңдойбуз?",
    "--question-ru",
    "Какую улицу ремонтируем первой?",
    "--option",
    "Ленин көчөсү|Улица Ленина",
    "--option",
    "Токтогул көчөсү | Улица Токтогула",
    "--option",
    "Манас",
    "--closes",
    typed(7 * DAY),
    ...extra,
  ];
}

async function createdId(...argv: string[]): Promise<number> {
  return ((await ok(...argv)).last as { id: number }).id;
}

beforeAll(async () => {
  handle = await createTestDatabase();
  service = new PollsService(handle.db, pollSettingsOf(config));
  tmp = mkdtempSync(join(tmpdir(), "aimak-polls-cli-"));
  [muniA, muniB] = (await seedMunicipalities(handle.db, 2)) as [number, number];
  const ids = await seedUsers(
    handle.db,
    [1, 2, 3, 4, 5].map((i) => ({ chatId: 7_310_000 + i, municipalityId: muniA })),
  );
  voters = ids.map((userId) => ({
    userId,
    municipalityId: muniA,
    channel: "telegram",
    verifiedPhone: null,
    createdAt: new Date(Date.now() - 30 * DAY),
  }));
});

afterAll(async () => {
  await handle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("polls CLI: creating", () => {
  it("creates a single-choice poll that opens now; its last line is {id, status}", async () => {
    const run = await ok(...createArgs());
    expect(run.last).toEqual({ id: expect.any(Number), status: "open" });
    expect(run.out[0]).toMatch(
      /^Poll \d+ is open now .* closes \d{4}-\d\d-\d\d \d\d:\d\d \(Asia\/Bishkek\)\.$/,
    );
    const row = await poll((run.last as { id: number }).id);
    expect(row?.municipalityId).toBe(muniA);
    expect(row?.maxChoices).toBe(1);
    expect(row?.audience).toBe("subscribers");
    expect(row?.liveResults).toBe(false);
    expect(row?.question).toEqual({
      ky: "Кайсы көчөнү биринчи оңдойбуз?",
      ru: "Какую улицу ремонтируем первой?",
    });
    // "ky|ru" split on the bar and trimmed; one text used for both languages.
    expect(row?.options).toEqual([
      { ky: "Ленин көчөсү", ru: "Улица Ленина" },
      { ky: "Токтогул көчөсү", ru: "Улица Токтогула" },
      { ky: "Манас", ru: "Манас" },
    ]);
    // Typed in Asia/Bishkek, stored in UTC.
    expect(row?.closesAt.toISOString()).toBe(minuteOf(7 * DAY));
    // The opening goes through the delivery engine; the creation is audited as "cli".
    const [opening] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, `poll:${row?.id}:opening`));
    expect(opening?.kind).toBe("poll_opened");
    const [audit] = await handle.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, "poll.create"),
          sql`${auditLog.details}->>'pollId' = ${String(row?.id)}`,
        ),
      );
    expect(audit?.actorLabel).toBe("cli");
  });

  it("creates a multiple-choice poll with live results, the question in Russian only", async () => {
    const id = await createdId(
      "polls",
      "create",
      "--municipality",
      String(muniA),
      "--question-ru",
      "Что построить?",
      "--option",
      "Парк",
      "--option",
      "Школу",
      "--option",
      "Дорогу",
      "--option",
      "Баню",
      "--multiple",
      "2",
      "--live-results",
      "--closes",
      typed(3 * DAY),
    );
    const row = await poll(id);
    expect(row?.status).toBe("open");
    expect(row?.maxChoices).toBe(2);
    expect(row?.liveResults).toBe(true);
    expect(row?.question).toEqual({ ru: "Что построить?" });
    expect(row?.options.map((o) => o.ru)).toEqual(["Парк", "Школу", "Дорогу", "Баню"]);
  });

  it("creates a verified-residents poll and says when the municipality has no resident list", async () => {
    const run = await ok(...createArgs("--verified-only"));
    const id = (run.last as { id: number }).id;
    expect((await poll(id))?.audience).toBe("verified");
    expect(run.out.join("\n")).toContain(
      `municipality ${muniA} has no resident list yet, so nobody can vote`,
    );
  });

  it("schedules a poll that opens later, its opening message scheduled for that time", async () => {
    const run = await ok(...createArgs("--opens", typed(2 * DAY)));
    expect(run.last).toEqual({ id: expect.any(Number), status: "scheduled" });
    expect(run.out[0]).toMatch(/is scheduled: it opens .* and closes /);
    const id = (run.last as { id: number }).id;
    const row = await poll(id);
    expect(row?.status).toBe("scheduled");
    expect(row?.opensAt.toISOString()).toBe(minuteOf(2 * DAY));
    const [opening] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, `poll:${id}:opening`));
    expect(opening?.scheduledAt?.toISOString()).toBe(minuteOf(2 * DAY));
  });

  it("prints help for the command and each sub-command, without a database", async () => {
    const top = await ok("polls", "--help");
    expect(top.out.join("\n")).toContain("polls create --municipality ID");
    expect(top.out.join("\n")).toContain("polls chart ID --out FILE.png [--lang ky|ru|en]");
    const create = await ok("polls", "create", "--help");
    expect(create.out.join("\n")).toMatch(/"ky text\|ru text" or one text for both/);
    const exp = await ok("polls", "export", "--help");
    expect(exp.out.join("\n")).toContain("default ru");
    const residents = await ok("residents", "import", "--help");
    expect(residents.out.join("\n")).toContain("nothing is imported");
    expect(pollsCommand.usesDatabase?.(["create", "--help"])).toBe(false);
    expect(pollsCommand.usesDatabase?.(["list"])).toBe(true);
  });
});

/** Prefixes "polls" to the sub-command's arguments. */
function polls_(...args: string[]): string[] {
  return ["polls", ...args];
}

describe("polls CLI: counts, closing, CSV and chart", () => {
  let single: number;
  let multiple: number;

  beforeAll(async () => {
    single = await createdId(...createArgs());
    multiple = await createdId(
      ...polls_(
        "create",
        "--municipality",
        String(muniA),
        "--question-ky",
        "Эмне куралы?",
        "--option",
        "Парк|Парк",
        "--option",
        "Мектеп|Школа",
        "--option",
        "Жол|Дорога",
        "--multiple",
        "2",
        "--closes",
        typed(5 * DAY),
      ),
    );
    // Single: 3 for Lenin, 1 for Toktogul, 0 for Manas. Multiple: 2 people.
    const [a, b, c, d, e] = voters as [Voter, Voter, Voter, Voter, Voter];
    for (const v of [a, b, c]) await service.vote(v, single, [0]);
    await service.vote(d, single, [1]);
    await service.vote(e, multiple, [0, 2]);
    await service.vote(a, multiple, [2]);
  });

  it("lists polls as JSON with their voters", async () => {
    const run = await ok("polls", "list", "--municipality", String(muniA), "--json");
    const list = run.last as {
      id: number;
      voters: number;
      status: string;
      municipality_id: number;
    }[];
    expect(list.find((p) => p.id === single)).toMatchObject({
      status: "open",
      municipality_id: muniA,
      voters: 4,
      question: { ky: "Кайсы көчөнү биринчи оңдойбуз?", ru: "Какую улицу ремонтируем первой?" },
    });
    expect(list.find((p) => p.id === multiple)).toMatchObject({ voters: 2, max_choices: 2 });
    expect(run.out).toHaveLength(1);
    const other = await ok("polls", "list", "--municipality", String(muniB), "--json");
    expect(other.last).toEqual([]);
  });

  it("lists polls as a table, one line each", async () => {
    const run = await ok("polls", "list");
    expect(run.out[0]).toBe(`id\tstatus\tmunicipality\tvoters\tcloses (${TZ})\tquestion`);
    const line = run.out.find((l) => l.startsWith(`${single}\t`));
    expect(line?.split("\t")).toEqual([
      String(single),
      "open",
      String(muniA),
      "4",
      typed(7 * DAY),
      "Кайсы көчөнү биринчи оңдойбуз?",
    ]);
    expect((await ok("polls", "list", "--municipality", String(muniB))).out).toEqual(["no polls"]);
  });

  it("shows results with counts, percentages and turnout; JSON as the contract says", async () => {
    const text = await ok("polls", "results", String(single));
    expect(text.out).toEqual([
      expect.stringMatching(new RegExp(`^Poll ${single} \\(open; closes .*\\): Кайсы көчөнү`)),
      "  1. Ленин көчөсү / Улица Ленина: 3 (75.0%)",
      "  2. Токтогул көчөсү / Улица Токтогула: 1 (25.0%)",
      "  3. Манас: 0 (0.0%)",
      "Voted: 4",
    ]);
    const json = await ok("polls", "results", String(multiple), "--json");
    expect(json.out).toHaveLength(1);
    expect(json.last).toEqual({
      id: multiple,
      status: "open",
      question: { ky: "Эмне куралы?", ru: null },
      options: [
        { ky: "Парк", ru: "Парк", votes: 1 },
        { ky: "Мектеп", ru: "Школа", votes: 0 },
        { ky: "Жол", ru: "Дорога", votes: 2 },
      ],
      voters: 2,
    });
    const multi = await ok("polls", "results", String(multiple));
    expect(multi.out.at(-1)).toBe(
      "Voted: 2 (up to 2 options each; shares are of the people who voted)",
    );
    expect(multi.out).toContain("  3. Жол / Дорога: 2 (100.0%)");
  });

  it("exports the counts as CSV with a BOM, headers in Russian by default, no voter in it", async () => {
    const out = join(tmp, "single.csv");
    const run = await ok("polls", "export", String(single), "--out", out);
    expect(run.out).toEqual([`Poll ${single}: counts written to ${out}.`]);
    const bytes = readFileSync(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString("utf8").replace(/^\uFEFF/, "");
    const lines = text.trim().split(/\r?\n/);
    expect(lines[0]).toBe(
      ["option", "text_ky", "text_ru", "votes", "percent"]
        .map((c) => ru(`polls.csv.${c}`))
        .map((c) => (c.includes(",") ? `"${c}"` : c))
        .join(","),
    );
    expect(lines[1]).toBe("1,Ленин көчөсү,Улица Ленина,3,75.0");
    expect(lines[2]).toBe("2,Токтогул көчөсү,Улица Токтогула,1,25.0");
    expect(lines[3]).toBe("3,Манас,Манас,0,0.0");
    expect(lines[4]).toMatch(
      new RegExp(`^"?${ru("polls.csv.voters").replace(/[()]/g, "\\$&")}"?,,,4,$`),
    );
    // Nothing that leads to a voter: no chat ids, user ids as such, voter keys or ballot tokens.
    const keys = await handle.db.select().from(pollVoters).where(eq(pollVoters.pollId, single));
    const tokens = await handle.db.select().from(pollBallots).where(eq(pollBallots.pollId, single));
    expect(keys.length).toBe(4);
    for (const k of keys) expect(text).not.toContain(k.voterKey);
    for (const b of tokens) expect(text).not.toContain(b.token);
    expect(text).not.toMatch(/731000\d/);
    expect(text).not.toMatch(/user|chat|token/i);

    const english = join(tmp, "single-en.csv");
    await ok("polls", "export", String(single), "--out", english, "--lang", "en");
    expect(readFileSync(english, "utf8")).toContain(en("polls.csv.votes"));
  });

  it("closes a poll early: the result goes out once, audited as cli", async () => {
    const run = await ok("polls", "close", String(single));
    expect(run.last).toEqual({ id: single, status: "closed" });
    expect(run.out[0]).toBe(
      `Poll ${single} closed: 4 voted; the result goes out to its audience and staff.`,
    );
    expect((await poll(single))?.status).toBe("closed");
    const results = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, `poll:${single}:result`));
    expect(results).toHaveLength(1);
    expect(results[0]?.kind).toBe("poll_result");
    const [audit] = await handle.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, "poll.close"),
          sql`${auditLog.details}->>'pollId' = ${String(single)}`,
        ),
      );
    expect(audit?.actorLabel).toBe("cli");
  });

  it("writes the chart of a closed poll as PNG, in the language asked", async () => {
    for (const lang of ["ky", "ru", "en"]) {
      const out = join(tmp, `chart-${lang}.png`);
      const run = await ok("polls", "chart", String(single), "--out", out, "--lang", lang);
      expect(run.out).toEqual([`Poll ${single}: result chart (${lang}) written to ${out}.`]);
      const png = readFileSync(out);
      expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
      expect(png.length).toBeGreaterThan(2000);
    }
    // Default language: Russian.
    const out = join(tmp, "chart-default.png");
    await ok("polls", "chart", String(single), "--out", out);
    expect(readFileSync(out).equals(readFileSync(join(tmp, "chart-ru.png")))).toBe(true);
  });

  it("refuses the chart of an open poll: results are published when it closes", async () => {
    const out = join(tmp, "open.png");
    const run = await cli("polls", "chart", String(multiple), "--out", out);
    expect(run.code).toBe(2);
    expect(run.err).toEqual([
      `polls chart: poll ${multiple} is open: its chart is made when it closes (see the counts so far with "polls results ${multiple}")`,
    ]);
    expect(() => readFileSync(out)).toThrow();
  });

  it("a chart through the running app points to the app's own chart address instead", async () => {
    const written: string[] = [];
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(
      [pollsCommand],
      ["polls", "chart", String(single), "--out", "x.png", "--lang", "ky"],
      {
        config,
        logger: createLogger("silent"),
        database: async () => handle,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        files: {
          read: async () => "",
          write: async (path) => {
            written.push(path);
          },
        },
      },
    );
    expect(code).toBe(1);
    expect(err).toEqual([
      `polls chart: the app running on this data folder cannot hand a PNG back; download it from https://aimak.example.kg/polls/${single}/chart/ky.png`,
    ]);
    expect(written).toEqual([]);
  });
});

describe("residents import", () => {
  const GOOD = [
    "ФИО;Телефон;Адрес",
    "Асанов Бакыт;0555 123 456;Ленина 1",
    "Иванова Анна;+996 700 123 456;Ленина 2",
    "",
    'Токтогулова Айгүл;"0770123456, 555 987 654";Манаса 3',
    "Дубль;0555123456;Ленина 1",
  ].join("\r\n");
  const DIGITS = ["555123456", "700123456", "770123456", "555987654"];

  async function residentRows(municipalityId: number): Promise<number> {
    const [row] = await handle.db
      .select({ n: count() })
      .from(pollResidents)
      .where(eq(pollResidents.municipalityId, municipalityId));
    return Number(row?.n ?? 0);
  }

  it("imports a good file: numbers counted once, stored only as keyed hashes", async () => {
    const file = join(tmp, "residents.csv");
    writeFileSync(file, `\uFEFF${GOOD}`);
    const run = await ok("residents", "import", "--municipality", String(muniA), file);
    expect(run.out[0]).toBe(
      `Municipality ${muniA}: the resident list now holds 4 phone numbers (4 rows read); the previous list was replaced.`,
    );
    expect(run.last).toEqual({ municipality_id: muniA, numbers: 4 });
    expect(await residentRows(muniA)).toBe(4);
    const [list] = await handle.db
      .select()
      .from(pollResidentLists)
      .where(eq(pollResidentLists.municipalityId, muniA));
    expect(list?.numbers).toBe(4);
    // No plain number anywhere the import wrote: the hashes, the list row, the audit log.
    const stored = JSON.stringify([
      await handle.db.select().from(pollResidents),
      await handle.db.select().from(pollResidentLists),
      await handle.db.select().from(auditLog).where(eq(auditLog.action, "poll.residents_import")),
    ]);
    for (const digits of DIGITS) expect(stored).not.toContain(digits);
    expect(stored).not.toContain("Асанов");
  });

  it("reads a Windows-1251 file (Excel's CSV in a Russian locale)", async () => {
    const file = join(tmp, "residents-1251.csv");
    const text = "Телефон,Имя\n0555 123 456,Асан\n";
    const bytes = Buffer.from(
      [...text].map((ch) => {
        const code = ch.charCodeAt(0);
        // Cyrillic А..я are 0xC0..0xFF in Windows-1251.
        return code >= 0x410 && code <= 0x44f ? code - 0x410 + 0xc0 : code;
      }),
    );
    writeFileSync(file, bytes);
    const run = await ok("residents", "import", "--municipality", String(muniB), file);
    expect(run.last).toEqual({ municipality_id: muniB, numbers: 1 });
    expect(await residentRows(muniB)).toBe(1);
  });

  it("importing again replaces the list", async () => {
    const file = join(tmp, "residents-2.csv");
    writeFileSync(file, "phone\n+996 555 000 111\n0700 000 222\n");
    const run = await ok("residents", "import", "--municipality", String(muniA), file);
    expect(run.last).toEqual({ municipality_id: muniA, numbers: 2 });
    expect(await residentRows(muniA)).toBe(2);
    // The other municipality's list is untouched.
    expect(await residentRows(muniB)).toBe(1);
  });

  it("reports bad rows by line and imports nothing", async () => {
    const file = join(tmp, "residents-bad.csv");
    writeFileSync(
      file,
      ["Телефон;Имя", "0555 123 456;А", "не помню;Б", "0700 123 456;В", ";Г", "12;Д"].join("\n"),
    );
    const before = await residentRows(muniA);
    const run = await cli("residents", "import", "--municipality", String(muniA), file);
    expect(run.code).toBe(2);
    expect(run.out).toEqual([]);
    expect(run.err).toEqual([
      `residents import: ${en("polls.errors.resident_file_bad_rows", { count: 3, lines: "3, 5, 6" })}`,
    ]);
    expect(await residentRows(muniA)).toBe(before);
  });
});

describe("polls CLI: refused input", () => {
  let open = 0;
  let closed = 0;
  let cancelled = 0;

  beforeAll(async () => {
    open = await createdId(...createArgs());
    closed = await createdId(...createArgs());
    await ok("polls", "close", String(closed));
    cancelled = await createdId(...createArgs());
    await service.cancel(CLI_ACTOR, cancelled);
    writeFileSync(join(tmp, "no-phone.csv"), "Имя;Адрес\nАсан;Ленина 1\n");
    writeFileSync(join(tmp, "empty.csv"), "Телефон\n");
    writeFileSync(join(tmp, "good.csv"), "phone\n0555 123 456\n");
  });

  /** What a refusal must not change: the polls, the resident lists, audit and messages. */
  async function snapshot(): Promise<string> {
    const rows = await handle.db.select().from(polls).orderBy(asc(polls.id));
    const residents = rowsOf<{ n: number }>(
      await handle.db.execute(sql`select count(*)::int as n from poll_residents`),
    );
    const [lists] = await handle.db.select({ n: count() }).from(pollResidentLists);
    const [audits] = await handle.db.select({ n: count() }).from(auditLog);
    const [messages] = await handle.db.select({ n: count() }).from(outgoingMessages);
    return JSON.stringify({
      rows,
      residents: residents[0]?.n,
      lists: lists?.n,
      audits: audits?.n,
      messages: messages?.n,
    });
  }

  const error = (code: string, params?: Record<string, unknown>) =>
    en(`polls.errors.${code}`, params);

  /** createArgs with the options replaced by these. */
  function withOptions(...options: string[]): string[] {
    const args = createArgs();
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === "--option") {
        i++;
        continue;
      }
      out.push(args[i] as string);
    }
    return [...out, ...options.flatMap((o) => ["--option", o])];
  }

  // [arguments, what the one line must say]; ids are filled in when the test runs.
  const cases: [() => string[], string | RegExp][] = [
    [() => ["polls"], /^polls: a sub-command is missing; use one of create, list, results/],
    [() => ["polls", "frobnicate"], /^polls: unknown sub-command "frobnicate"/],
    [() => ["residents"], /^residents: a sub-command is missing; use one of import$/],
    [() => ["residents", "export"], /^residents: unknown sub-command "export"/],
    // create: flags
    [() => createArgs("--colour", "red"), "unknown flag --colour"],
    [() => createArgs("--closes", typed(2 * DAY)), "--closes is given twice"],
    [() => createArgs("--verified-only", "--verified-only"), "--verified-only is given twice"],
    [() => createArgs("--live-results=yes"), "--live-results takes no value"],
    [() => createArgs("--opens"), "--opens needs a value"],
    [() => createArgs("--question-ru", "--live-results"), "--question-ru is given twice"],
    [() => createArgs("--multiple", "--live-results"), "--multiple needs a value"],
    [() => createArgs("extra"), 'unexpected argument "extra"'],
    [() => without(createArgs(), "--closes"), "--closes is required"],
    [() => without(createArgs(), "--municipality"), "--municipality is required"],
    [
      () => without(without(createArgs(), "--question-ky"), "--question-ru"),
      "--question-ky (or --question-ru) is required",
    ],
    [
      () => swap(createArgs(), "--municipality", "abc"),
      '--municipality must be a positive whole number, got "abc"',
    ],
    [
      () => swap(createArgs(), "--municipality", "987654"),
      error("no_such_municipality", { id: 987654 }),
    ],
    // create: the question and options
    [
      () => swap(without(createArgs(), "--question-ru"), "--question-ky", "  "),
      error("question_empty"),
    ],
    [
      () => swap(createArgs(), "--question-ky", "ы".repeat(301)),
      error("question_too_long", { max: 300 }),
    ],
    [() => withOptions("Ооба|Да"), error("too_few_options", { min: 2 })],
    [() => withOptions(), error("too_few_options", { min: 2 })],
    [
      () => withOptions(...Array.from({ length: 11 }, (_, i) => `Вариант ${i + 1}`)),
      error("too_many_options", { max: 10 }),
    ],
    [() => withOptions("Ооба|Да", "   "), error("option_empty", { n: 2 })],
    [() => withOptions("|", "Жок|Нет"), error("option_empty", { n: 1 })],
    [() => withOptions("Ооба|Да", "ооба|Конечно"), error("option_duplicate", { text: "ооба" })],
    [() => withOptions("Парк", "Парк"), error("option_duplicate", { text: "Парк" })],
    [
      () => withOptions("Ооба|Да", `Жок|${"н".repeat(41)}`),
      error("option_too_long", { n: 2, max: 40 }),
    ],
    // create: multiple choice
    [() => createArgs("--multiple", "1"), '--multiple must be a whole number from 2 to 3, got "1"'],
    [() => createArgs("--multiple", "4"), '--multiple must be a whole number from 2 to 3, got "4"'],
    [
      () => createArgs("--multiple", "two"),
      '--multiple must be a whole number from 2 to 3, got "two"',
    ],
    // create: times
    [
      () => swap(createArgs(), "--closes", "next friday"),
      /--closes "next friday" is not a time; write "YYYY-MM-DD HH:MM" \(Asia\/Bishkek\)/,
    ],
    [
      () => swap(createArgs(), "--closes", "2031-02-30 10:00"),
      /--closes "2031-02-30 10:00" is not a time/,
    ],
    [() => createArgs("--opens", "25:00"), /--opens "25:00" is not a time/],
    [() => swap(createArgs(), "--closes", typed(-HOUR)), error("closes_past")],
    [() => createArgs("--opens", typed(8 * DAY)), error("closes_before_opens")],
    [
      () => createArgs("--opens", typed(-2 * HOUR)),
      /--opens ".*" has passed; leave --opens out to open the poll now/,
    ],
    [() => swap(createArgs(), "--closes", typed(120 * DAY)), error("too_long_open", { days: 90 })],
    // results, close, export, chart: ids and states
    [() => ["polls", "results"], "ID is missing"],
    [() => ["polls", "results", "abc"], 'ID must be a positive whole number, got "abc"'],
    [() => ["polls", "results", "-3"], 'ID must be a positive whole number, got "-3"'],
    [() => ["polls", "results", "1", "2"], 'unexpected argument "2"'],
    [() => ["polls", "results", "987654321"], error("not_found")],
    [() => ["polls", "results", String(open), "--json", "--json"], "--json is given twice"],
    [() => ["polls", "close", "x1"], 'ID must be a positive whole number, got "x1"'],
    [() => ["polls", "close", "987654321"], error("not_found")],
    [() => ["polls", "close", String(closed)], error("already_closed")],
    [() => ["polls", "close", String(cancelled)], error("already_cancelled")],
    [() => ["polls", "close", String(open), "--force"], "unknown flag --force"],
    [() => ["polls", "export", String(open)], "--out is required"],
    [
      () => ["polls", "export", String(open), "--out", join(tmp, "x.txt")],
      /--out must name a \.csv file/,
    ],
    [
      () => ["polls", "export", String(open), "--out", join(tmp, "x.csv"), "--lang", "de"],
      '--lang must be ky, ru or en, got "de"',
    ],
    [() => ["polls", "export", "987654321", "--out", join(tmp, "never.csv")], error("not_found")],
    [
      () => ["polls", "export", String(open), "--out", join(tmp, "no-such-dir", "x.csv")],
      /cannot write .*x\.csv/,
    ],
    [() => ["polls", "chart", String(closed)], "--out is required"],
    [
      () => ["polls", "chart", String(closed), "--out", join(tmp, "x.jpg")],
      /--out must name a \.png file/,
    ],
    [
      () => ["polls", "chart", String(closed), "--out", join(tmp, "never.png"), "--lang", "kz"],
      '--lang must be ky, ru or en, got "kz"',
    ],
    [() => ["polls", "chart", "987654321", "--out", join(tmp, "never.png")], error("not_found")],
    [
      () => ["polls", "chart", String(open), "--out", join(tmp, "never.png")],
      /is open: its chart is made when it closes/,
    ],
    [
      () => ["polls", "chart", String(cancelled), "--out", join(tmp, "never.png")],
      /^polls chart: poll \d+ was cancelled: it has no result to chart$/,
    ],
    [
      () => ["polls", "chart", String(closed), "--out", join(tmp, "no-such-dir", "x.png")],
      /cannot write .*x\.png/,
    ],
    // list
    [
      () => ["polls", "list", "--municipality", "abc"],
      '--municipality must be a positive whole number, got "abc"',
    ],
    [() => ["polls", "list", "--municipality", "987654"], "no municipality with id 987654"],
    [() => ["polls", "list", "--json", "--json"], "--json is given twice"],
    [() => ["polls", "list", "--format", "csv"], "unknown flag --format"],
    // residents import
    [() => ["residents", "import", join(tmp, "good.csv")], "--municipality is required"],
    [() => ["residents", "import", "--municipality", String(muniA)], "FILE is missing"],
    [
      () => ["residents", "import", "--municipality", "abc", join(tmp, "good.csv")],
      '--municipality must be a positive whole number, got "abc"',
    ],
    [
      () => ["residents", "import", "--municipality", "987654", join(tmp, "good.csv")],
      "no municipality with id 987654",
    ],
    [
      () => ["residents", "import", "--municipality", String(muniA), join(tmp, "missing.csv")],
      /cannot read .*missing\.csv/,
    ],
    [
      () => ["residents", "import", "--municipality", String(muniA), join(tmp, "no-phone.csv")],
      error("resident_file_no_phone_column", { columns: "Имя, Адрес" }),
    ],
    [
      () => ["residents", "import", "--municipality", String(muniA), join(tmp, "empty.csv")],
      error("resident_file_empty"),
    ],
    [
      () => [
        "residents",
        "import",
        "--municipality",
        String(muniA),
        join(tmp, "good.csv"),
        join(tmp, "good.csv"),
      ],
      /unexpected argument/,
    ],
  ];

  cases.forEach(([args, expected], i) => {
    it(`refuses (${i + 1}): ${String(expected).slice(0, 70)}`, async () => {
      const argv = args();
      const before = await snapshot();
      const run = await cli(...argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.err, argv.join(" ")).toHaveLength(1);
      expect(run.out, argv.join(" ")).toEqual([]);
      const line = run.err[0] as string;
      expect(line).toMatch(/^(polls|residents)( [a-z]+)?: /);
      expect(line).not.toContain("\n");
      // Never a bare error code, locale key or unfilled placeholder.
      expect(line).not.toMatch(/refused \(|polls\.errors\.|\{\{/);
      if (typeof expected === "string") expect(line).toContain(expected);
      else expect(line).toMatch(expected);
      expect(await snapshot(), argv.join(" ")).toBe(before);
    });
  });

  it("refuses a resident file over the size limit, naming the limit", async () => {
    const file = join(tmp, "huge.csv");
    writeFileSync(file, `phone\n${"0555 123 456\n".repeat(500_000)}`);
    const before = await snapshot();
    const run = await cli("residents", "import", "--municipality", String(muniA), file);
    expect(run.code).toBe(2);
    expect(run.err).toHaveLength(1);
    expect(run.err[0]).toMatch(/^residents import: The resident file is too big/);
    // The limit is said in numbers, not as an unfilled placeholder.
    expect(run.err[0]).not.toContain("{{");
    expect(run.err[0]).toMatch(/\b5\b/);
    expect(await snapshot()).toBe(before);
  });

  it("wrote no file for a refused export or chart", () => {
    expect(() => readFileSync(join(tmp, "never.csv"))).toThrow();
    expect(() => readFileSync(join(tmp, "never.png"))).toThrow();
    expect(() => readFileSync(join(tmp, "x.csv"))).toThrow();
  });
});

/** The arguments with one flag's value replaced. */
function swap(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i === -1) throw new Error(`no ${flag} in the arguments`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

/** The arguments without one flag and its value. */
function without(args: string[], flag: string): string[] {
  const i = args.indexOf(flag);
  if (i === -1) throw new Error(`no ${flag} in the arguments`);
  return [...args.slice(0, i), ...args.slice(i + 2)];
}
