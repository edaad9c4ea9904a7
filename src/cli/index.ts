import { ConfigError, parseConfig } from "../config";
import { type DatabaseHandle, openDatabase } from "../db/client";
import { migrate } from "../db/migrate";
import { seedDemoDirectoryIfEmpty } from "../features/municipalities/service";
import { createLogger } from "../logger";
import type { CliCommand, CliContext } from "./command";
import { commands } from "./registry";

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
  const [name, ...rest] = argv;
  let handle: DatabaseHandle | undefined;
  const ctx: CliContext = {
    config,
    logger,
    async database() {
      if (!handle) {
        handle = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
        await migrate(handle.db);
        // A fresh database gets the demo directory, except when a real one is being imported.
        if (name !== "municipalities") await seedDemoDirectoryIfEmpty(handle.db);
      }
      return handle;
    },
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  const command: CliCommand | undefined = commands.find((c) => c.name === name);
  if (!command) {
    ctx.err(name && name !== "help" ? `Unknown command: ${name}\n` : "");
    ctx.err("Usage: npm run cli -- <command> ...");
    for (const c of commands) for (const u of c.usage) ctx.err(`  ${u}`);
    return name && name !== "help" ? 2 : 0;
  }
  try {
    return await command.run(rest, ctx);
  } finally {
    await handle?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
