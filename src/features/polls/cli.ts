/**
 * `npm run cli -- polls …` and `npm run cli -- residents import …`: polls and the resident list
 * for admins and automation, with the same rules and audit entries as the chat flows (the
 * service checks everything; the command line acts as CLI_ACTOR, an administrator audited as
 * "cli").
 *
 * A refused input (an unknown sub-command or flag, a flag given twice or without its value, an id
 * that is not a number, a bad time or language, a wrong file, or the service's PollError) exits
 * with code 2 and ONE line on stderr naming what is wrong, and changes nothing.
 */
import { readFile, writeFile } from "node:fs/promises";
import {
  assertWritable,
  CliRefusal,
  describeRefusal,
  idOf,
  type ParsedArgs,
  parseArgs,
  refusalLine,
  requiredFlag,
} from "../../cli/args";
import { type CliCommand, type CliContext, writeCliFile } from "../../cli/command";
import type { Database } from "../../db/client";
import { isLocale, type Locale } from "../../locales";
import { formatTyped, parseHearingTime } from "../hearings/time";
import { municipalityFilterOf, municipalityOf } from "../municipalities/cli-args";
import { pollChart } from "./chart";
import { chartPath, pollText } from "./notices";
import { PHONE_COLUMN_NAMES, parseResidentFile } from "./resident-file";
import type { PollRow, PollText } from "./schema";
import { PollsService, pollSettingsOf } from "./service";
import { CLI_ACTOR, POLL_LIMITS, PollError, type PollInput, type PollTally } from "./types";

/** More polls than a deployment holds in years. */
const LIST_LIMIT = 100_000;
/** Headers and texts of the CSV and the chart when --lang is not given. */
const DEFAULT_LANG: Locale = "ru";

/** Something outside the input keeps the command from working: one line, exit code 1. */
class Unable extends Error {}

function timeOf(flag: string, text: string, timeZone: string): Date {
  const at = parseHearingTime(text, timeZone);
  if (!at) {
    throw new CliRefusal(
      `--${flag} "${text}" is not a time; write "YYYY-MM-DD HH:MM" (${timeZone})`,
    );
  }
  return at;
}

function langOf(parsed: ParsedArgs): Locale {
  const lang = parsed.values.get("lang");
  if (lang === undefined) return DEFAULT_LANG;
  if (!isLocale(lang)) throw new CliRefusal(`--lang must be ky, ru or en, got "${lang}"`);
  return lang;
}

/**
 * An option as typed: "ky text|ru text" (split on the first "|"), or one text for both. An empty
 * half counts as not given; one text is used for every language of the question (validate.ts).
 */
function optionOf(typed: string): PollText {
  const bar = typed.indexOf("|");
  if (bar === -1) return { ky: typed };
  const ky = typed.slice(0, bar).trim();
  const ru = typed.slice(bar + 1).trim();
  return { ...(ky ? { ky } : {}), ...(ru ? { ru } : {}) };
}

function statusLine(poll: PollRow): string {
  return JSON.stringify({ id: poll.id, status: poll.status });
}

function serviceOf(ctx: CliContext, db: Database): PollsService {
  return new PollsService(db, pollSettingsOf(ctx.config));
}

/** Kyrgyz, else Russian: one line of text. */
function oneLine(text: PollText): string {
  return pollText(text, "ky").replace(/\s+/g, " ");
}

/** An option for the terminal: "ky / ru" when the two differ. */
function optionLabel(option: PollText): string {
  const ky = option.ky?.trim();
  const ru = option.ru?.trim();
  if (ky && ru && ky !== ru) return `${ky} / ${ru}`;
  return ky || ru || "";
}

function percent(count: number, voters: number): string {
  return voters > 0 ? ((count / voters) * 100).toFixed(1) : "0.0";
}

function when(at: Date, ctx: CliContext): string {
  return `${formatTyped(at, ctx.config.timezone)} (${ctx.config.timezone})`;
}

// ── polls sub-commands ───────────────────────────────────────────────────────────────────

async function runCreate(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, {
    values: ["municipality", "question-ky", "question-ru", "multiple", "opens", "closes"],
    repeated: ["option"],
    switches: ["verified-only", "live-results"],
  });
  const municipalityId = idOf(requiredFlag(parsed, "municipality"), "--municipality");
  const ky = parsed.values.get("question-ky");
  const ru = parsed.values.get("question-ru");
  if (ky === undefined && ru === undefined) {
    throw new CliRefusal("--question-ky (or --question-ru) is required");
  }
  const question: PollText = {
    ...(ky !== undefined ? { ky } : {}),
    ...(ru !== undefined ? { ru } : {}),
  };
  const options = (parsed.repeated.get("option") ?? []).map(optionOf);
  let maxChoices: number | undefined;
  const multiple = parsed.values.get("multiple");
  if (multiple !== undefined) {
    maxChoices = /^[0-9]+$/.test(multiple) ? Number(multiple) : Number.NaN;
    // With too few or too many options the service says that first.
    const countOk =
      options.length >= POLL_LIMITS.minOptions && options.length <= POLL_LIMITS.maxOptions;
    if (
      !Number.isSafeInteger(maxChoices) ||
      (countOk && (maxChoices < 2 || maxChoices > options.length))
    ) {
      throw new CliRefusal(
        `--multiple must be a whole number from 2 to ${countOk ? options.length : "the number of options"}, got "${multiple}"`,
      );
    }
  }
  const tz = ctx.config.timezone;
  const closesAt = timeOf("closes", requiredFlag(parsed, "closes"), tz);
  const opensText = parsed.values.get("opens");
  const opensAt = opensText === undefined ? undefined : timeOf("opens", opensText, tz);
  // A past --opens would open the poll at once and message its audience: most likely a typo.
  // The current minute is still "now" (times are typed to the minute).
  if (opensAt && opensAt.getTime() < Math.floor(Date.now() / 60_000) * 60_000) {
    throw new CliRefusal(
      `--opens "${opensText}" has passed; leave --opens out to open the poll now`,
    );
  }
  const input: PollInput = {
    municipalityId,
    question,
    options,
    audience: parsed.switches.has("verified-only") ? "verified" : "subscribers",
    closesAt,
    liveResults: parsed.switches.has("live-results"),
    ...(maxChoices !== undefined ? { maxChoices } : {}),
    ...(opensAt !== undefined ? { opensAt } : {}),
  };
  const service = serviceOf(ctx, (await ctx.database()).db);
  const poll = await service.create(CLI_ACTOR, input);
  ctx.out(
    poll.status === "open"
      ? `Poll ${poll.id} is open now and goes out to its audience; it closes ${when(poll.closesAt, ctx)}.`
      : `Poll ${poll.id} is scheduled: it opens ${when(poll.opensAt, ctx)} and closes ${when(poll.closesAt, ctx)}.`,
  );
  if (poll.audience === "verified" && !(await service.residentList(CLI_ACTOR, municipalityId))) {
    ctx.out(
      `Note: municipality ${municipalityId} has no resident list yet, so nobody can vote in this poll until one is imported (residents import --municipality ${municipalityId} FILE).`,
    );
  }
  ctx.out(statusLine(poll));
  return 0;
}

async function runList(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { values: ["municipality"], switches: ["json"] });
  const { db } = await ctx.database();
  // All of them (the chat shows pages; automation wants the whole list).
  const summaries = await serviceOf(ctx, db).list(CLI_ACTOR, {
    limit: LIST_LIMIT,
    ...(await municipalityFilterOf(db, parsed.values.get("municipality"))),
  });
  if (parsed.switches.has("json")) {
    ctx.out(
      JSON.stringify(
        summaries.map(({ poll: p, tally }) => ({
          id: p.id,
          status: p.status,
          municipality_id: p.municipalityId,
          question: { ky: p.question.ky ?? null, ru: p.question.ru ?? null },
          audience: p.audience,
          max_choices: p.maxChoices,
          live_results: p.liveResults,
          voters: tally.voters,
          opens_at: p.opensAt.toISOString(),
          closes_at: (p.closedAt ?? p.closesAt).toISOString(),
        })),
      ),
    );
    return 0;
  }
  if (summaries.length === 0) {
    ctx.out("no polls");
    return 0;
  }
  const tz = ctx.config.timezone;
  ctx.out(["id", "status", "municipality", "voters", `closes (${tz})`, "question"].join("\t"));
  for (const { poll: p, tally } of summaries) {
    ctx.out(
      [
        String(p.id),
        p.status,
        String(p.municipalityId),
        String(tally.voters),
        formatTyped(p.closedAt ?? p.closesAt, tz),
        oneLine(p.question),
      ].join("\t"),
    );
  }
  return 0;
}

function resultLines(poll: PollRow, tally: PollTally, ctx: CliContext): string[] {
  const closes = poll.status === "closed" ? "closed" : "closes";
  const lines = [
    `Poll ${poll.id} (${poll.status}; ${closes} ${when(poll.closedAt ?? poll.closesAt, ctx)}): ${oneLine(poll.question)}`,
  ];
  poll.options.forEach((option, i) => {
    const votes = tally.counts[i] ?? 0;
    lines.push(`  ${i + 1}. ${optionLabel(option)}: ${votes} (${percent(votes, tally.voters)}%)`);
  });
  lines.push(
    poll.maxChoices > 1
      ? `Voted: ${tally.voters} (up to ${poll.maxChoices} options each; shares are of the people who voted)`
      : `Voted: ${tally.voters}`,
  );
  return lines;
}

async function runResults(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], switches: ["json"] });
  const id = idOf(parsed.positional[0] as string, "ID");
  const { poll, tally } = await serviceOf(ctx, (await ctx.database()).db).get(CLI_ACTOR, id);
  if (parsed.switches.has("json")) {
    ctx.out(
      JSON.stringify({
        id: poll.id,
        status: poll.status,
        question: { ky: poll.question.ky ?? null, ru: poll.question.ru ?? null },
        options: poll.options.map((o, i) => ({
          ky: o.ky ?? null,
          ru: o.ru ?? null,
          votes: tally.counts[i] ?? 0,
        })),
        voters: tally.voters,
      }),
    );
    return 0;
  }
  for (const line of resultLines(poll, tally, ctx)) ctx.out(line);
  return 0;
}

async function runClose(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"] });
  const id = idOf(parsed.positional[0] as string, "ID");
  const { poll, tally } = await serviceOf(ctx, (await ctx.database()).db).close(CLI_ACTOR, id);
  ctx.out(
    `Poll ${poll.id} closed: ${tally.voters} voted; the result goes out to its audience and staff.`,
  );
  ctx.out(statusLine(poll));
  return 0;
}

async function runExport(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], values: ["out", "lang"] });
  const id = idOf(parsed.positional[0] as string, "ID");
  const out = requiredFlag(parsed, "out");
  if (!/\.csv$/i.test(out)) throw new CliRefusal(`--out must name a .csv file, got "${out}"`);
  const lang = langOf(parsed);
  await assertWritable(ctx, out);
  const csv = await serviceOf(ctx, (await ctx.database()).db).exportCsv(CLI_ACTOR, id, lang);
  try {
    await writeCliFile(ctx, out, csv);
  } catch (error) {
    throw new CliRefusal(`cannot write ${out}: ${error instanceof Error ? error.message : error}`);
  }
  ctx.out(`Poll ${id}: counts written to ${out}.`);
  return 0;
}

/**
 * The result chart of a closed poll. Not before: counts are published when a poll closes (an
 * open poll's staff see them with `polls results`), and the chart is what gets published.
 */
async function runChart(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], values: ["out", "lang"] });
  const id = idOf(parsed.positional[0] as string, "ID");
  const out = requiredFlag(parsed, "out");
  if (!/\.png$/i.test(out)) throw new CliRefusal(`--out must name a .png file, got "${out}"`);
  const lang = langOf(parsed);
  const service = serviceOf(ctx, (await ctx.database()).db);
  // Staff may see it (and a clear "no such poll") before its status is looked at.
  const { poll } = await service.get(CLI_ACTOR, id);
  if (poll.status === "cancelled") {
    throw new CliRefusal(`poll ${id} was cancelled: it has no result to chart`);
  }
  if (poll.status !== "closed") {
    throw new CliRefusal(
      `poll ${id} is ${poll.status}: its chart is made when it closes (see the counts so far with "polls results ${id}")`,
    );
  }
  if (ctx.files) {
    // The app hands files back to the command line as UTF-8 text, which a PNG is not; the app
    // serves the same chart itself.
    throw new Unable(
      `polls chart: the app running on this data folder cannot hand a PNG back; download it from ${ctx.config.publicUrl}${chartPath(id, lang)}`,
    );
  }
  await assertWritable(ctx, out);
  const result = await service.closedResult(id);
  if (!result) throw new PollError("not_closed");
  const png = pollChart(result.poll, result.tally, lang, ctx.config.timezone);
  try {
    await writeFile(out, png);
  } catch (error) {
    throw new CliRefusal(`cannot write ${out}: ${error instanceof Error ? error.message : error}`);
  }
  ctx.out(`Poll ${id}: result chart (${lang}) written to ${out}.`);
  return 0;
}

// ── residents ────────────────────────────────────────────────────────────────────────────

/**
 * The file's bytes, so the parser can tell UTF-8, UTF-16 and Windows-1251 apart. A command run
 * inside the app got the file as UTF-8 text: a file in another encoding arrives broken.
 */
async function residentFileContent(ctx: CliContext, path: string): Promise<string | Uint8Array> {
  try {
    if (!ctx.files) return await readFile(path);
    const text = await ctx.files.read(path);
    if (text.includes("\uFFFD")) {
      throw new CliRefusal(
        `${path} is not UTF-8, which is the only encoding that reaches the running app; save it as "CSV UTF-8" or stop the app and run the command again`,
      );
    }
    return text;
  } catch (error) {
    if (error instanceof CliRefusal) throw error;
    throw new CliRefusal(`cannot read ${path}: ${error instanceof Error ? error.message : error}`);
  }
}

async function runResidentsImport(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["FILE"], values: ["municipality"] });
  const municipalityText = requiredFlag(parsed, "municipality");
  idOf(municipalityText, "--municipality");
  const path = parsed.positional[0] as string;
  const content = await residentFileContent(ctx, path);
  // The whole file is checked before anything is written: bad rows import nothing.
  const file = parseResidentFile(content);
  const { db } = await ctx.database();
  const municipalityId = await municipalityOf(db, municipalityText);
  const { numbers } = await serviceOf(ctx, db).importResidents(
    CLI_ACTOR,
    municipalityId,
    file.phones,
  );
  ctx.out(
    `Municipality ${municipalityId}: the resident list now holds ${numbers} phone numbers (${file.rows} rows read); the previous list was replaced.`,
  );
  ctx.out(JSON.stringify({ municipality_id: municipalityId, numbers }));
  return 0;
}

// ── the commands ─────────────────────────────────────────────────────────────────────────

type SubCommandRun = (args: string[], ctx: CliContext) => Promise<number>;

interface SubCommand {
  run: SubCommandRun;
  /** What `--help` prints: the usage, then what it does. */
  help: readonly string[];
}

const POLLS: Readonly<Record<string, SubCommand>> = {
  create: {
    run: runCreate,
    help: [
      "polls create --municipality ID --question-ky TEXT [--question-ru TEXT]",
      "    --option TEXT --option TEXT [--option …] [--multiple MAX] [--verified-only]",
      '    [--opens "YYYY-MM-DD HH:MM"] --closes "YYYY-MM-DD HH:MM" [--live-results]',
      "",
      "Creates a poll; it opens now (the opening goes to the municipality's subscribers to polls)",
      "or at --opens. Times are in TIMEZONE. The question in Kyrgyz and/or Russian (one is",
      `enough). ${POLL_LIMITS.minOptions} to ${POLL_LIMITS.maxOptions} options, each "ky text|ru text" or one text for both, at most`,
      `${POLL_LIMITS.option} characters (a button's width). --multiple MAX: multiple choice, up to MAX options`,
      "each. --verified-only: only residents whose verified phone is on the resident list vote.",
      "--live-results: voters see the counts before closing.",
      'The last line is {"id":…,"status":"open"|"scheduled"}.',
    ],
  },
  list: {
    run: runList,
    help: [
      "polls list [--municipality ID] [--json]",
      "",
      "Every poll, newest first: id, status, municipality, voters, closing time, question.",
    ],
  },
  results: {
    run: runResults,
    help: [
      "polls results ID [--json]",
      "",
      "Votes per option with their share of the people who voted, and how many voted. Never who",
      'chose what. JSON: {"id","status","question","options":[{"ky","ru","votes"}],"voters"}.',
    ],
  },
  close: {
    run: runClose,
    help: [
      "polls close ID",
      "",
      "Closes a poll before its time; the result (chart and numbers) goes out to its audience",
      "and the municipality's staff.",
    ],
  },
  export: {
    run: runExport,
    help: [
      "polls export ID --out FILE.csv [--lang ky|ru|en]",
      "",
      `The counts as CSV (UTF-8 with BOM), headers in --lang (default ${DEFAULT_LANG}). Counts only.`,
    ],
  },
  chart: {
    run: runChart,
    help: [
      "polls chart ID --out FILE.png [--lang ky|ru|en]",
      "",
      `The result chart of a closed poll, in --lang (default ${DEFAULT_LANG}). An open poll has no chart`,
      "yet: results are published when it closes.",
    ],
  },
};

const RESIDENTS: Readonly<Record<string, SubCommand>> = {
  import: {
    run: runResidentsImport,
    help: [
      "residents import --municipality ID FILE",
      "",
      "Replaces the municipality's resident list (for --verified-only polls) with the phone",
      "numbers in FILE: a CSV (`,` `;` or tab; UTF-8, UTF-16 or Windows-1251) with a header",
      "row and a phone column; other columns are ignored. The phone column's header is one of:",
      `  ${PHONE_COLUMN_NAMES.join(", ")}`,
      "Numbers are stored only as keyed hashes. A file with unreadable rows is refused with",
      "their line numbers, and nothing is imported.",
    ],
  },
};

function firstLines(subs: Readonly<Record<string, SubCommand>>): string[] {
  return Object.values(subs).flatMap((s) => {
    const blank = s.help.indexOf("");
    return s.help.slice(0, blank === -1 ? undefined : blank);
  });
}

function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/** One command word with its sub-commands, refusals turned into one line and exit code 2. */
function commandOf(name: string, subs: Readonly<Record<string, SubCommand>>): CliCommand {
  const names = Object.keys(subs).join(", ");
  return {
    name,
    usage: firstLines(subs),
    usesDatabase: (args) => !wantsHelp(args) && Object.hasOwn(subs, args[0] ?? ""),
    async run(args, ctx) {
      const [sub, ...rest] = args;
      if (sub === "--help" || sub === "-h" || sub === "help") {
        for (const line of firstLines(subs)) ctx.out(line);
        ctx.out(`Run "${name} SUB-COMMAND --help" for one of: ${names}.`);
        return 0;
      }
      const command = sub !== undefined && Object.hasOwn(subs, sub) ? subs[sub] : undefined;
      if (!command) {
        const what =
          sub === undefined ? "a sub-command is missing" : `unknown sub-command "${sub}"`;
        ctx.err(`${name}: ${what}; use one of ${names}`);
        return 2;
      }
      if (wantsHelp(rest)) {
        for (const line of command.help) ctx.out(line);
        return 0;
      }
      try {
        return await command.run(rest, ctx);
      } catch (error) {
        let why: string;
        if (error instanceof CliRefusal) why = error.message;
        else if (error instanceof PollError) why = describeRefusal("polls", error);
        else if (error instanceof Unable) {
          ctx.err(error.message);
          return 1;
        } else throw error;
        ctx.err(refusalLine(name, sub, why));
        return 2;
      }
    },
  };
}

export const pollsCommand: CliCommand = commandOf("polls", POLLS);
export const residentsCommand: CliCommand = commandOf("residents", RESIDENTS);
