/**
 * The strict command-line parsing of the feature commands (hearings, polls, residents): an
 * unknown flag, a flag given twice (unless it may repeat), a value flag without its value and a
 * stray argument are each refused by name instead of being guessed at (the looser parseFlags in
 * command.ts serves the older commands). A refusal is one line on stderr and exit code 2.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { FeatureError } from "../core/errors";
import { translator } from "../i18n";
import type { CliContext } from "./command";

/** A refusal of the command line's input: printed as one line, exit code 2. */
export class CliRefusal extends Error {}

export interface FlagSpec {
  /** Flags that take a value, once. */
  values?: readonly string[];
  /** Flags that take a value and may be given several times (polls' --option). */
  repeated?: readonly string[];
  /** Flags that stand alone. */
  switches?: readonly string[];
  /** The positional arguments (an id, a file): exactly these, named for the refusal. */
  positional?: readonly string[];
}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string>;
  repeated: Map<string, string[]>;
  switches: Set<string>;
}

export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const switches = new Set<string>();
  const positional: string[] = [];
  const valueFlags = new Set(spec.values ?? []);
  const repeatedFlags = new Set(spec.repeated ?? []);
  const switchFlags = new Set(spec.switches ?? []);
  const wanted = spec.positional ?? [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith("--")) {
      if (positional.length >= wanted.length) throw new CliRefusal(`unexpected argument "${arg}"`);
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (values.has(name) || switches.has(name)) throw new CliRefusal(`--${name} is given twice`);
    if (switchFlags.has(name)) {
      if (eq !== -1) throw new CliRefusal(`--${name} takes no value`);
      switches.add(name);
    } else if (valueFlags.has(name) || repeatedFlags.has(name)) {
      const value = eq === -1 ? args[i + 1] : arg.slice(eq + 1);
      if (value === undefined || (eq === -1 && value.startsWith("--"))) {
        throw new CliRefusal(`--${name} needs a value`);
      }
      if (eq === -1) i++;
      if (repeatedFlags.has(name)) repeated.set(name, [...(repeated.get(name) ?? []), value]);
      else values.set(name, value);
    } else {
      throw new CliRefusal(`unknown flag --${name}`);
    }
  }
  if (positional.length < wanted.length) {
    throw new CliRefusal(`${wanted[positional.length]} is missing`);
  }
  return { positional, values, repeated, switches };
}

/** The value of a flag that must be given. */
export function requiredFlag(parsed: ParsedArgs, name: string): string {
  const value = parsed.values.get(name);
  if (value === undefined) throw new CliRefusal(`--${name} is required`);
  return value;
}

/** Ids are positive whole numbers (bigint in the database, safe in JavaScript). */
export function idOf(text: string, what: string): number {
  const id = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new CliRefusal(`${what} must be a positive whole number, got "${text}"`);
  }
  return id;
}

/**
 * A feature's refusal in English, on one line (locale texts may hold Telegram HTML): the text
 * of `<namespace>.errors.<code>`, or the bare code when there is none.
 */
export function describeRefusal(namespace: string, error: FeatureError): string {
  const key = `${namespace}.errors.${error.code}`;
  const text = translator("en")(key, error.params);
  if (text === key) return `refused (${error.code})`;
  return text
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

/** What a refused command prints: one line, even when it quotes typed text with line breaks. */
export function refusalLine(command: string, sub: string | undefined, why: string): string {
  return `${command} ${sub}: ${why}`.replace(/\s*[\r\n]+\s*/g, " ");
}

/**
 * Refuses an --out path that cannot be written (no such folder, a folder, read-only) before
 * anything is done. A command run inside the app for a command line beside it has the file
 * written back by that command line, which checks its own file system.
 */
export async function assertWritable(ctx: CliContext, path: string): Promise<void> {
  if (ctx.files) return;
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new CliRefusal(`cannot write ${path}: it is a folder`);
  try {
    await access(target ? path : dirname(resolve(path)), constants.W_OK);
  } catch {
    throw new CliRefusal(
      `cannot write ${path}: ${target ? "the file is read-only" : "no such folder, or it is read-only"}`,
    );
  }
}
