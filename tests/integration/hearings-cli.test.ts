/**
 * `hearings …` on the command line, on a real database (PGlite, or PostgreSQL with
 * DATABASE_URL): the lifecycle with its audit entries, the list and the CSV export, and every
 * refused input: exit code 2, one line naming what is wrong, and nothing changed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, asc, count, eq, like, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/command";
import { parseConfig } from "../../src/config";
import type { DatabaseHandle } from "../../src/db/client";
import { auditLog, outgoingMessages } from "../../src/db/schema";
import { hearingsCommand } from "../../src/features/hearings/cli";
import { hearings } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import { hearingSettingsOf } from "../../src/features/hearings/types";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { createTestDatabase } from "../helpers/db";
import { seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

const config = parseConfig({ LOG_LEVEL: "silent", PUBLIC_URL: "https://aimak.example.kg" });
const en = translator("en");
let handle: DatabaseHandle;
let tmp: string;
let muniA: number;
let muniB: number;
let resident: number;

interface Run {
  code: number;
  out: string[];
  err: string[];
}

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
  const code = await hearingsCommand.run(argv, ctx);
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

async function hearing(id: number) {
  const [row] = await handle.db.select().from(hearings).where(eq(hearings.id, id));
  return row!;
}

/** The line a future date and time is typed as: "2031-06-10 10:00" (Asia/Bishkek). */
const FUTURE = "2031-06-10 10:00";
const FUTURE_UTC = "2031-06-10T04:00:00.000Z";

function createArgs(...extra: string[]): string[] {
  return [
    "create",
    "--municipality",
    String(muniA),
    "--kind",
    "draft_budget",
    "--title-ky",
    "2032-жылдын бюджетинин долбоору",
    "--title-ru",
    "Проект бюджета на 2032 год",
    "--agenda-ky",
    "1. Кирешелер\n2. Чыгашалар",
    "--starts",
    FUTURE,
    "--duration-min",
    "90",
    "--place-ky",
    "Айыл өкмөтүнүн залы",
    "--place-ru",
    "Зал айыл окмоту",
    "--online-url",
    "https://meet.example.kg/budget",
    ...extra,
  ];
}

beforeAll(async () => {
  handle = await createTestDatabase();
  tmp = mkdtempSync(join(tmpdir(), "aimak-hearings-cli-"));
  [muniA, muniB] = (await seedMunicipalities(handle.db, 2)) as [number, number];
  [resident] = (await seedUsers(handle.db, [{ chatId: 7001, municipalityId: muniA }])) as [number];
});

afterAll(async () => {
  await handle?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("hearings CLI: the lifecycle", () => {
  let published: number;
  let draft: number;

  it("creates and publishes a hearing; its last line is {id, status}", async () => {
    const run = await ok(...createArgs("--publish"));
    expect(run.last).toEqual({ id: expect.any(Number), status: "published" });
    published = (run.last as { id: number }).id;
    const row = await hearing(published);
    expect(row.status).toBe("published");
    expect(row.municipalityId).toBe(muniA);
    // Typed in Asia/Bishkek (UTC+6), stored in UTC.
    expect(row.startsAt.toISOString()).toBe(FUTURE_UTC);
    expect(row.durationMin).toBe(90);
    expect(row.title).toEqual({
      ky: "2032-жылдын бюджетинин долбоору",
      ru: "Проект бюджета на 2032 год",
    });
    expect(row.onlineUrl).toBe("https://meet.example.kg/budget");
    // Announced through the delivery engine, audited as "cli".
    const notices = await handle.db
      .select()
      .from(outgoingMessages)
      .where(
        and(
          eq(outgoingMessages.kind, "hearing_notice"),
          like(outgoingMessages.dedupeKey, `hearing:${published}:%`),
        ),
      );
    expect(notices.length).toBeGreaterThan(0);
    const audits = await handle.db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.details}->>'hearingId' = ${String(published)}`)
      .orderBy(asc(auditLog.id));
    expect(audits.map((a) => [a.action, a.actorLabel, a.actorUserId])).toEqual([
      ["hearing.create", "cli", null],
      ["hearing.publish", "cli", null],
    ]);
  });

  it("creates a draft and publishes it with `hearings publish ID`", async () => {
    const created = await ok(
      "create",
      "--municipality",
      String(muniB),
      "--kind",
      "budget_report",
      "--title-ru",
      "Отчёт об исполнении бюджета",
      "--starts",
      "2031-03-01 15:00",
      "--place-ru",
      "Клуб",
    );
    expect(created.last).toEqual({ id: expect.any(Number), status: "draft" });
    draft = (created.last as { id: number }).id;
    expect((await hearing(draft)).title).toEqual({ ru: "Отчёт об исполнении бюджета" });
    const run = await ok("publish", String(draft));
    expect(run.last).toEqual({ id: draft, status: "published" });
    expect((await hearing(draft)).status).toBe("published");
  });

  it("lists hearings as JSON with their counts", async () => {
    const service = new HearingsService(handle.db, hearingSettingsOf(config));
    await service.answer(resident, published, "going");
    await service.ask(resident, published, '=HYPERLINK("x") Мектепке канча бөлүнөт?');
    const run = await ok("list", "--json");
    const list = run.last as Record<string, unknown>[];
    expect(run.out).toHaveLength(1);
    const mine = list.find((h) => h.id === published);
    expect(mine).toEqual({
      id: published,
      status: "published",
      kind: "draft_budget",
      municipality_id: muniA,
      title: { ky: "2032-жылдын бюджетинин долбоору", ru: "Проект бюджета на 2032 год" },
      starts_at: FUTURE_UTC,
      duration_min: 90,
      counts: { going: 1, not_going: 0, questions: 1 },
    });
    expect(list.map((h) => h.id).sort()).toEqual([published, draft].sort());
    const onlyB = (await ok("list", "--municipality", String(muniB), "--json")).last as {
      id: number;
    }[];
    expect(onlyB.map((h) => h.id)).toEqual([draft]);
  });

  it("lists hearings as text, one line each", async () => {
    const run = await ok("list");
    expect(run.out).toHaveLength(2);
    const line = run.out.find((l) => l.startsWith(`${published}\t`))!;
    expect(line).toContain("published");
    expect(line).toContain("2031-06-10 10:00");
    expect(line).toContain("going 1, not going 0, questions 1");
    expect(line).toContain("2032-жылдын бюджетинин долбоору");
  });

  it("reschedules: the new time in UTC, the sequence grows", async () => {
    const before = await hearing(published);
    const run = await ok("reschedule", String(published), "--starts", "2031-06-12 15:30");
    expect(run.last).toEqual({ id: published, status: "published" });
    const after = await hearing(published);
    expect(after.startsAt.toISOString()).toBe("2031-06-12T09:30:00.000Z");
    expect(after.sequence).toBeGreaterThan(before.sequence);
  });

  it("exports the answers and questions as CSV with a BOM, formulas escaped", async () => {
    const file = join(tmp, "hearing.csv");
    const run = await ok("export", String(published), "--out", file);
    expect(run.out.at(-1)).toContain(file);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString("utf8");
    expect(text).toContain("Мектепке канча бөлүнөт?");
    expect(text).toContain("'=HYPERLINK");
    expect(text).not.toMatch(/(^|[,\n])"?=HYPERLINK/);
    // One header line, one answer, one question.
    expect(text.trim().split(/\r?\n/)).toHaveLength(3);
  });

  it("cancels with a reason", async () => {
    const run = await ok("cancel", String(draft), "--reason", "Зал ремонтталып жатат");
    expect(run.last).toEqual({ id: draft, status: "cancelled" });
    const row = await hearing(draft);
    expect(row.status).toBe("cancelled");
    expect(row.cancelReason).toBe("Зал ремонтталып жатат");
  });

  it("marks a started hearing as held and publishes its minutes from a file", async () => {
    // The hearing's time has come: moved into the past as the clock would.
    await handle.db
      .update(hearings)
      .set({ startsAt: new Date(Date.now() - 60 * 60_000) })
      .where(eq(hearings.id, published));
    expect((await ok("held", String(published))).last).toEqual({ id: published, status: "held" });
    const file = join(tmp, "minutes.txt");
    writeFileSync(file, "\uFEFFПротокол:\r\n1. Бюджет кабыл алынды.\r\n");
    expect((await ok("minutes", String(published), "--file", file)).last).toEqual({
      id: published,
      status: "held",
    });
    const row = await hearing(published);
    expect(row.minutesText).toBe("Протокол:\n1. Бюджет кабыл алынды.");
    expect(row.minutesPublishedAt).not.toBeNull();
  });
});

describe("hearings CLI: refused input", () => {
  let published: number;
  let future: number;
  let cancelled: number;
  let held: number;

  beforeAll(async () => {
    published = ((await ok(...createArgs("--publish"))).last as { id: number }).id;
    future = ((await ok(...createArgs("--publish"))).last as { id: number }).id;
    cancelled = ((await ok(...createArgs())).last as { id: number }).id;
    await ok("cancel", String(cancelled), "--reason", "Жок");
    held = ((await ok(...createArgs("--publish"))).last as { id: number }).id;
    await handle.db
      .update(hearings)
      .set({ startsAt: new Date(Date.now() - 60 * 60_000) })
      .where(eq(hearings.id, held));
    await ok("held", String(held));
    writeFileSync(join(tmp, "empty.txt"), " \n\n");
    writeFileSync(join(tmp, "binary.txt"), Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0xfe]));
  });

  /** What a refusal must not change: the hearings, the audit log and the outgoing messages. */
  async function snapshot(): Promise<string> {
    const rows = await handle.db.select().from(hearings).orderBy(asc(hearings.id));
    const [audits] = await handle.db.select({ n: count() }).from(auditLog);
    const [messages] = await handle.db.select({ n: count() }).from(outgoingMessages);
    return JSON.stringify({ rows, audits: audits?.n, messages: messages?.n });
  }

  const error = (code: string, params?: Record<string, unknown>) =>
    en(`hearings.errors.${code}`, params);

  // [arguments, what the one line must say]; ids are filled in when the test runs.
  const cases: [() => string[], string | RegExp][] = [
    [() => [], /^hearings: a sub-command is missing; use one of create, publish/],
    [() => ["frobnicate"], /^hearings: unknown sub-command "frobnicate"/],
    [
      () => createArgs().filter((a, i, all) => a !== "--kind" && all[i - 1] !== "--kind"),
      "--kind is required",
    ],
    [() => createArgs("--kind", "other"), "--kind is given twice"],
    [
      () => swap(createArgs(), "--kind", "budget"),
      /--kind must be one of draft_budget, budget_report, other, got "budget"/,
    ],
    [() => createArgs("--colour", "red"), "unknown flag --colour"],
    [() => createArgs("--publish", "--publish"), "--publish is given twice"],
    [() => createArgs("--publish=yes"), "--publish takes no value"],
    [() => createArgs("extra"), 'unexpected argument "extra"'],
    [() => createArgs("--agenda-ru", "--publish"), "--agenda-ru needs a value"],
    [() => ["reschedule", String(future), "--starts"], "--starts needs a value"],
    [
      () =>
        createArgs().filter(
          (a, i, all) => !a.startsWith("--title") && !all[i - 1]?.startsWith("--title"),
        ),
      "--title-ky (or --title-ru) is required",
    ],
    [
      () =>
        createArgs().filter(
          (a, i, all) => !a.startsWith("--place") && !all[i - 1]?.startsWith("--place"),
        ),
      "--place-ky (or --place-ru) is required",
    ],
    [
      () => swap(createArgs(), "--starts", "tomorrow 10am"),
      /--starts "tomorrow 10am" is not a time; write "YYYY-MM-DD HH:MM" \(Asia\/Bishkek\)/,
    ],
    [
      () => swap(createArgs(), "--starts", "2031-02-30 10:00"),
      /--starts "2031-02-30 10:00" is not a time/,
    ],
    [() => swap(createArgs(), "--starts", "2020-01-01 10:00"), error("time_past")],
    [
      () => swap(createArgs(), "--municipality", "abc"),
      '--municipality must be a positive whole number, got "abc"',
    ],
    [() => swap(createArgs(), "--municipality", "987654"), "no municipality with id 987654"],
    [() => swap(createArgs(), "--online-url", "http://meet.example.kg"), error("link_not_https")],
    [
      () => swap(createArgs(), "--duration-min", "5"),
      error("duration_bad", { min: 15, max: 1440 }),
    ],
    [
      () => swap(createArgs(), "--duration-min", "ninety"),
      /--duration-min must be a whole number of minutes/,
    ],
    [() => swap(without(createArgs(), "--title-ru"), "--title-ky", ""), error("no_title")],
    [
      () => swap(createArgs(), "--agenda-ky", "ы".repeat(3001)),
      error("agenda_too_long", { max: 3000 }),
    ],
    [() => ["publish"], "ID is missing"],
    [() => ["publish", "abc"], 'ID must be a positive whole number, got "abc"'],
    [() => ["publish", "-3"], 'ID must be a positive whole number, got "-3"'],
    [() => ["publish", "1", "2"], 'unexpected argument "2"'],
    [() => ["publish", "987654321"], error("not_found")],
    [() => ["publish", String(published)], error("already_published")],
    [() => ["publish", String(cancelled)], error("cancelled")],
    [() => ["reschedule", String(future)], "--starts is required"],
    [() => ["reschedule", String(future), "--starts", "31.02.2031 10:00"], /is not a time/],
    [() => ["reschedule", String(future), "--starts", "2020-01-01 10:00"], error("time_past")],
    [() => ["reschedule", String(cancelled), "--starts", "2031-06-11 10:00"], error("cancelled")],
    [() => ["reschedule", String(future), "--when", FUTURE], "unknown flag --when"],
    [() => ["cancel", String(future)], "--reason is required"],
    [() => ["cancel", String(future), "--reason", "   "], error("reason_empty")],
    [() => ["cancel", String(future), "--reason", "a", "--reason", "b"], "--reason is given twice"],
    [() => ["held", String(future)], error("not_started")],
    [() => ["held", "x1"], 'ID must be a positive whole number, got "x1"'],
    [() => ["minutes", String(held)], "give the minutes with --text TEXT or --file PATH"],
    [
      () => ["minutes", String(held), "--text", "a", "--file", "b.txt"],
      "give the minutes with --text TEXT or --file PATH",
    ],
    [
      () => ["minutes", String(held), "--file", join(tmp, "missing.txt")],
      /cannot read .*missing\.txt/,
    ],
    [
      () => ["minutes", String(held), "--file", join(tmp, "binary.txt")],
      /binary\.txt is not a UTF-8 text file/,
    ],
    [() => ["minutes", String(held), "--file", join(tmp, "empty.txt")], /empty\.txt is empty/],
    [() => ["minutes", String(held), "--text", "  "], error("minutes_empty")],
    [() => ["minutes", String(future), "--text", "Протокол"], error("not_held")],
    [
      () => ["list", "--municipality", "abc"],
      '--municipality must be a positive whole number, got "abc"',
    ],
    [() => ["list", "--municipality", "987654"], "no municipality with id 987654"],
    [() => ["list", "--json", "--json"], "--json is given twice"],
    [() => ["list", "--format", "csv"], "unknown flag --format"],
    [() => ["export", String(published)], "--out is required"],
    [
      () => ["export", String(published), "--out", join(tmp, "x.txt")],
      /--out must name a \.csv file/,
    ],
    [() => ["export", "987654321", "--out", join(tmp, "never.csv")], error("not_found")],
    [
      () => ["export", String(published), "--out", join(tmp, "no-such-dir", "x.csv")],
      /cannot write .*x\.csv/,
    ],
  ];

  cases.forEach(([args, expected], i) => {
    it(`refuses (${i + 1}): ${String(expected).slice(0, 70)}`, async () => {
      const argv = args();
      const before = await snapshot();
      const run = await cli(...argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.err, argv.join(" ")).toHaveLength(1);
      const line = run.err[0]!;
      expect(line).toMatch(/^hearings( [a-z]+)?: /);
      expect(line).not.toContain("\n");
      // Never a bare error code or locale key.
      expect(line).not.toMatch(/refused \(|hearings\.errors\./);
      if (typeof expected === "string") expect(line).toContain(expected);
      else expect(line).toMatch(expected);
      expect(await snapshot(), argv.join(" ")).toBe(before);
    });
  });

  it("wrote no file for a refused export", () => {
    expect(() => readFileSync(join(tmp, "never.csv"))).toThrow();
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
