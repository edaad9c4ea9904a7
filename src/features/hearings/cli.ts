/**
 * `npm run cli -- hearings …`: the hearing lifecycle for admins and automation, with the same
 * rules and audit entries as the chat flows (the service checks everything; the command line
 * acts as CLI_ACTOR, an administrator audited as "cli").
 *
 * A refused input (an unknown sub-command or flag, a flag given twice or without its value, an id
 * that is not a number, a bad kind or time, a wrong file, or the service's HearingError) exits
 * with code 2 and ONE line on stderr naming what is wrong, and changes nothing.
 */
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
import { type CliCommand, type CliContext, readCliFile, writeCliFile } from "../../cli/command";
import type { Database } from "../../db/client";
import { municipalityFilterOf, municipalityOf } from "../municipalities/cli-args";
import { HEARING_KINDS, type HearingKind, type HearingRow, type HearingText } from "./schema";
import { HearingsService } from "./service";
import { formatTyped, parseHearingTime } from "./time";
import { CLI_ACTOR, HearingError, type HearingInput, hearingSettingsOf } from "./types";

/** More hearings than a deployment holds in years. */
const LIST_LIMIT = 100_000;

function startsOf(text: string, timeZone: string): Date {
  const at = parseHearingTime(text, timeZone);
  if (!at) {
    throw new CliRefusal(
      `--starts "${text}" is not a time; write "YYYY-MM-DD HH:MM" (${timeZone})`,
    );
  }
  return at;
}

/** Only the languages given: { ky: "…" } when --title-ru is not on the command line. */
function textOf(parsed: ParsedArgs, flag: string): HearingText {
  const ky = parsed.values.get(`${flag}-ky`);
  const ru = parsed.values.get(`${flag}-ru`);
  return { ...(ky !== undefined ? { ky } : {}), ...(ru !== undefined ? { ru } : {}) };
}

function statusLine(hearing: HearingRow): string {
  return JSON.stringify({ id: hearing.id, status: hearing.status });
}

function serviceOf(ctx: CliContext, db: Database): HearingsService {
  return new HearingsService(db, hearingSettingsOf(ctx.config));
}

/** Kyrgyz, else Russian: one title for a line of text. */
function oneTitle(text: HearingText): string {
  return (text.ky?.trim() || text.ru?.trim() || "").replace(/\s+/g, " ");
}

// ── sub-commands ─────────────────────────────────────────────────────────────────────────

async function runCreate(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, {
    values: [
      "municipality",
      "kind",
      "title-ky",
      "title-ru",
      "agenda-ky",
      "agenda-ru",
      "starts",
      "duration-min",
      "place-ky",
      "place-ru",
      "online-url",
    ],
    switches: ["publish"],
  });
  const kind = requiredFlag(parsed, "kind");
  if (!HEARING_KINDS.includes(kind as HearingKind)) {
    throw new CliRefusal(`--kind must be one of ${HEARING_KINDS.join(", ")}, got "${kind}"`);
  }
  // Staff write in Kyrgyz and/or Russian: one of the two is enough (the usage shows Kyrgyz).
  const title = textOf(parsed, "title");
  if (title.ky === undefined && title.ru === undefined) {
    throw new CliRefusal("--title-ky (or --title-ru) is required");
  }
  const place = textOf(parsed, "place");
  if (place.ky === undefined && place.ru === undefined) {
    throw new CliRefusal("--place-ky (or --place-ru) is required");
  }
  const startsAt = startsOf(requiredFlag(parsed, "starts"), ctx.config.timezone);
  const durationText = parsed.values.get("duration-min");
  let durationMin: number | undefined;
  if (durationText !== undefined) {
    durationMin = /^[0-9]+$/.test(durationText) ? Number(durationText) : Number.NaN;
    if (!Number.isSafeInteger(durationMin)) {
      throw new CliRefusal(
        `--duration-min must be a whole number of minutes, got "${durationText}"`,
      );
    }
  }
  const { db } = await ctx.database();
  const input: HearingInput = {
    municipalityId: await municipalityOf(db, requiredFlag(parsed, "municipality")),
    kind: kind as HearingKind,
    title,
    agenda: textOf(parsed, "agenda"),
    startsAt,
    place,
    ...(durationMin !== undefined ? { durationMin } : {}),
    ...(parsed.values.has("online-url") ? { onlineUrl: parsed.values.get("online-url") } : {}),
  };
  const service = serviceOf(ctx, db);
  let hearing = await service.create(CLI_ACTOR, input);
  if (parsed.switches.has("publish")) {
    try {
      hearing = await service.publish(CLI_ACTOR, hearing.id);
    } catch (error) {
      if (!(error instanceof HearingError)) throw error;
      // The draft exists now: say so, and that it was not announced (not a plain refusal).
      ctx.err(
        `hearings create: saved as draft ${hearing.id} but not published: ${describeRefusal("hearings", error)}`,
      );
      ctx.out(statusLine(hearing));
      return 1;
    }
  }
  ctx.out(
    `Hearing ${hearing.id} ${hearing.status === "published" ? "published" : "saved as a draft"}: starts ${formatTyped(hearing.startsAt, ctx.config.timezone)} (${ctx.config.timezone}).`,
  );
  ctx.out(statusLine(hearing));
  return 0;
}

/** `hearings publish|held ID`: one transition on one hearing. */
async function runTransition(
  sub: "publish" | "held",
  args: string[],
  ctx: CliContext,
): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"] });
  const id = idOf(parsed.positional[0]!, "ID");
  const service = serviceOf(ctx, (await ctx.database()).db);
  const hearing =
    sub === "publish"
      ? await service.publish(CLI_ACTOR, id)
      : await service.markHeld(CLI_ACTOR, id);
  ctx.out(`Hearing ${hearing.id} ${sub === "publish" ? "published" : "marked as held"}.`);
  ctx.out(statusLine(hearing));
  return 0;
}

async function runReschedule(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], values: ["starts"] });
  const id = idOf(parsed.positional[0]!, "ID");
  const startsAt = startsOf(requiredFlag(parsed, "starts"), ctx.config.timezone);
  const service = serviceOf(ctx, (await ctx.database()).db);
  const hearing = await service.reschedule(CLI_ACTOR, id, startsAt);
  ctx.out(
    `Hearing ${hearing.id} now starts ${formatTyped(hearing.startsAt, ctx.config.timezone)} (${ctx.config.timezone}).`,
  );
  ctx.out(statusLine(hearing));
  return 0;
}

async function runCancel(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], values: ["reason"] });
  const id = idOf(parsed.positional[0]!, "ID");
  const reason = requiredFlag(parsed, "reason");
  const service = serviceOf(ctx, (await ctx.database()).db);
  const hearing = await service.cancel(CLI_ACTOR, id, reason);
  ctx.out(`Hearing ${hearing.id} cancelled.`);
  ctx.out(statusLine(hearing));
  return 0;
}

/**
 * The minutes' text from a file: UTF-8 text, not empty. Node decodes invalid UTF-8 to U+FFFD and
 * keeps NUL bytes, which is how a PDF or a Word file shows itself here.
 */
async function minutesFromFile(ctx: CliContext, path: string): Promise<string> {
  let content: string;
  try {
    content = await readCliFile(ctx, path);
  } catch (error) {
    throw new CliRefusal(`cannot read ${path}: ${error instanceof Error ? error.message : error}`);
  }
  if (content.includes("\u0000") || content.includes("\uFFFD"))
    throw new CliRefusal(`${path} is not a UTF-8 text file`);
  const text = content
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .trim();
  if (text === "") throw new CliRefusal(`${path} is empty`);
  return text;
}

async function runMinutes(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], values: ["text", "file"] });
  const id = idOf(parsed.positional[0]!, "ID");
  const given = ["text", "file"].filter((f) => parsed.values.has(f));
  if (given.length !== 1) throw new CliRefusal("give the minutes with --text TEXT or --file PATH");
  const file = parsed.values.get("file");
  const text = file !== undefined ? await minutesFromFile(ctx, file) : parsed.values.get("text")!;
  const service = serviceOf(ctx, (await ctx.database()).db);
  const hearing = await service.publishMinutes(CLI_ACTOR, id, { text });
  ctx.out(`Minutes of hearing ${hearing.id} published.`);
  ctx.out(statusLine(hearing));
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
        summaries.map(({ hearing: h, counts }) => ({
          id: h.id,
          status: h.status,
          kind: h.kind,
          municipality_id: h.municipalityId,
          title: h.title,
          starts_at: h.startsAt.toISOString(),
          duration_min: h.durationMin,
          counts: { going: counts.going, not_going: counts.notGoing, questions: counts.questions },
        })),
      ),
    );
    return 0;
  }
  const tz = ctx.config.timezone;
  for (const { hearing: h, counts } of summaries) {
    ctx.out(
      [
        String(h.id),
        h.status,
        `${formatTyped(h.startsAt, tz)} (${h.durationMin} min)`,
        h.kind,
        `municipality ${h.municipalityId}`,
        `going ${counts.going}, not going ${counts.notGoing}, questions ${counts.questions}`,
        oneTitle(h.title),
      ].join("\t"),
    );
  }
  if (summaries.length === 0) ctx.out("no hearings");
  return 0;
}

async function runExport(args: string[], ctx: CliContext): Promise<number> {
  const parsed = parseArgs(args, { positional: ["ID"], values: ["out"] });
  const id = idOf(parsed.positional[0]!, "ID");
  const out = requiredFlag(parsed, "out");
  if (!/\.csv$/i.test(out)) throw new CliRefusal(`--out must name a .csv file, got "${out}"`);
  // Before exporting: the export is audited, and a refused command line changes nothing.
  await assertWritable(ctx, out);
  const service = serviceOf(ctx, (await ctx.database()).db);
  const csv = await service.exportCsv(CLI_ACTOR, id, ctx.config.defaultLocale);
  try {
    await writeCliFile(ctx, out, csv);
  } catch (error) {
    throw new CliRefusal(`cannot write ${out}: ${error instanceof Error ? error.message : error}`);
  }
  ctx.out(`Hearing ${id}: answers and questions written to ${out}.`);
  return 0;
}

const SUB_COMMANDS = {
  create: runCreate,
  publish: (args: string[], ctx: CliContext) => runTransition("publish", args, ctx),
  reschedule: runReschedule,
  cancel: runCancel,
  held: (args: string[], ctx: CliContext) => runTransition("held", args, ctx),
  minutes: runMinutes,
  list: runList,
  export: runExport,
} as const;

type SubCommand = keyof typeof SUB_COMMANDS;

function isSubCommand(value: string | undefined): value is SubCommand {
  return value !== undefined && Object.hasOwn(SUB_COMMANDS, value);
}

export const hearingsCommand: CliCommand = {
  name: "hearings",
  usage: [
    "hearings create --municipality ID --kind draft_budget|budget_report|other --title-ky TEXT [--title-ru TEXT]",
    '    [--agenda-ky TEXT] [--agenda-ru TEXT] --starts "YYYY-MM-DD HH:MM" [--duration-min N]',
    "    --place-ky TEXT [--place-ru TEXT] [--online-url URL] [--publish]   (time in TIMEZONE)",
    "hearings publish ID",
    'hearings reschedule ID --starts "YYYY-MM-DD HH:MM"',
    "hearings cancel ID --reason TEXT",
    "hearings held ID",
    "hearings minutes ID (--text TEXT | --file PATH)",
    "hearings list [--municipality ID] [--json]",
    "hearings export ID --out FILE.csv            answers and questions (UTF-8 with BOM)",
  ],
  async run(args, ctx) {
    const [sub, ...rest] = args;
    if (!isSubCommand(sub)) {
      const what = sub === undefined ? "a sub-command is missing" : `unknown sub-command "${sub}"`;
      ctx.err(`hearings: ${what}; use one of ${Object.keys(SUB_COMMANDS).join(", ")}`);
      return 2;
    }
    try {
      return await SUB_COMMANDS[sub](rest, ctx);
    } catch (error) {
      let why: string;
      if (error instanceof CliRefusal) why = error.message;
      else if (error instanceof HearingError) why = describeRefusal("hearings", error);
      else throw error;
      ctx.err(refusalLine("hearings", sub, why));
      return 2;
    }
  },
};
