import { resolve } from "node:path";
import { registerFeatureAudiences } from "../bot/feature";
import { ConfigError, parseConfig } from "../config";
import { type DatabaseHandle, openDatabase } from "../db/client";
import { acquireDataDirLock, isOnDiskDataDir } from "../db/data-dir-lock";
import { migrate } from "../db/migrate";
import { features } from "../features";
import { seedDemoDirectoryIfEmpty } from "../features/municipalities/service";
import { createLogger } from "../logger";
import type { CliContext } from "./command";
import { runInApp } from "./remote";
import { cliCommands, runCli, usesDatabase } from "./run";

/** How long to wait for another command-line run on the same data folder to finish. */
const WAIT_FOR_OTHER_CLI_MS = 30_000;

/** The CLI is a composition root like the app: it reads the feature list. */
const commands = cliCommands(features);
registerFeatureAudiences(features);

async function main(argv: string[]): Promise<number> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const p of error.problems) process.stderr.write(`${p}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);

  // An embedded data folder is opened by one process at a time (PGlite does not survive two).
  // A PostgreSQL server is safe to share: then the command line simply connects.
  const dir =
    !config.databaseUrl && isOnDiskDataDir(config.dataDir) && usesDatabase(commands, argv)
      ? resolve(config.dataDir)
      : undefined;
  const locked = dir
    ? await acquireDataDirLock(dir, {
        holder: "cli",
        waitForCliMs: WAIT_FOR_OTHER_CLI_MS,
        onWait: (other) =>
          err(`Waiting for another command-line run (pid ${other.pid}) on ${dir} to finish…`),
      })
    : undefined;
  if (locked && !locked.ok) {
    if (locked.heldBy.holder === "app") return runInApp(locked.heldBy, dir!, argv, { out, err });
    err(
      `Another command-line run (pid ${locked.heldBy.pid}) is still using the data folder ${dir}; try again when it finishes.`,
    );
    return 1;
  }

  let handle: DatabaseHandle | undefined;
  const ctx: CliContext = {
    config,
    logger,
    async database() {
      if (!handle) {
        handle = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
        await migrate(handle.db);
        // A fresh database gets the shipped directory, except when another one is being imported.
        if (argv[0] !== "municipalities") await seedDemoDirectoryIfEmpty(handle.db);
      }
      return handle;
    },
    out,
    err,
  };
  try {
    return await runCli(commands, argv, ctx);
  } finally {
    await handle?.close();
    if (locked?.ok) locked.lock.release();
  }
}

process.exitCode = await main(process.argv.slice(2));
