import { readFile, writeFile } from "node:fs/promises";
import type { Config } from "../config";
import type { DatabaseHandle } from "../db/client";
import type { Logger } from "../logger";

/** What every CLI command gets: parsed config, an open and migrated database, and output. */
export interface CliContext {
  config: Config;
  /** Opens (once) and migrates the configured database. */
  database(): Promise<DatabaseHandle>;
  logger: Logger;
  out(line: string): void;
  err(line: string): void;
  /**
   * The files named on the command line. Absent: this process's own file system. A command run
   * inside the app for a command line beside it gets the files that command line sent.
   */
  files?: CliFiles;
}

export interface CliFiles {
  read(path: string): Promise<string>;
  write(path: string, content: string): Promise<void>;
}

/** Reads a file named on the command line (UTF-8). */
export function readCliFile(ctx: CliContext, path: string): Promise<string> {
  return ctx.files ? ctx.files.read(path) : readFile(path, "utf8");
}

/** Writes a file named on the command line. */
export function writeCliFile(ctx: CliContext, path: string, content: string): Promise<void> {
  return ctx.files ? ctx.files.write(path, content) : writeFile(path, content);
}

export interface CliCommand {
  /** First word on the command line, e.g. "faq" in `npm run cli -- faq eval`. */
  name: string;
  /** One line per sub-command for `npm run cli -- help`. */
  usage: string[];
  /** Returns the process exit code. */
  run(args: string[], ctx: CliContext): Promise<number>;
  /**
   * Whether this run works on the configured database (default: yes). Runs that do not (e.g.
   * `faq eval`, which loads its own in-memory one) always run in the command line's own process.
   */
  usesDatabase?(args: string[]): boolean;
}

/** Minimal --flag value / --flag parser shared by commands. */
export function parseFlags(args: string[]): {
  positional: string[];
  flags: Map<string, string | true>;
} {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
      const next = args[i + 1];
      if (inline !== undefined) flags.set(name, inline);
      else if (next !== undefined && !next.startsWith("--")) {
        flags.set(name, next);
        i++;
      } else flags.set(name, true);
    } else positional.push(arg);
  }
  return { positional, flags };
}
