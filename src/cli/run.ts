import type { CliCommand, CliContext } from "./command";
import { migrateCommand } from "./commands/migrate";

/** The commands of the CLI: its own, then every feature's, in the order of the feature list. */
export function cliCommands(features: readonly { cli?: readonly CliCommand[] }[]): CliCommand[] {
  return [migrateCommand, ...features.flatMap((f) => f.cli ?? [])];
}

/** The command named by the first word, if there is one. */
export function findCommand(
  commands: readonly CliCommand[],
  argv: readonly string[],
): CliCommand | undefined {
  return commands.find((c) => c.name === argv[0]);
}

/** Whether running argv opens the configured database (unknown commands only print usage). */
export function usesDatabase(commands: readonly CliCommand[], argv: readonly string[]): boolean {
  const command = findCommand(commands, argv);
  return command ? (command.usesDatabase?.(argv.slice(1)) ?? true) : false;
}

/**
 * Runs one command line (`argv` without the program name) and returns its exit code. The same
 * for the command line's own process and for a run the app does for it (src/cli/admin-endpoint.ts).
 */
export async function runCli(
  commands: readonly CliCommand[],
  argv: readonly string[],
  ctx: CliContext,
): Promise<number> {
  const [name, ...rest] = argv;
  const command = findCommand(commands, argv);
  if (!command) {
    if (name && name !== "help") ctx.err(`Unknown command: ${name}\n`);
    ctx.err("Usage: npm run cli -- <command> ...");
    for (const c of commands) for (const u of c.usage) ctx.err(`  ${u}`);
    return name && name !== "help" ? 2 : 0;
  }
  return command.run(rest, ctx);
}
