import { createApp } from "./app";
import { ConfigError, parseConfig } from "./config";
import { DataDirBusyError } from "./db/data-dir-lock";
import { BallotSecretMismatch } from "./features/polls/keys";
import { createLogger } from "./logger";

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${problem}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const app = await createApp({ config, logger });
  const { port } = await app.start();
  logger.info(
    { url: `http://${config.host}:${port}/`, database: app.database.kind },
    "aimak is running",
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    // In-flight work gets a bounded grace period; after it the process exits regardless.
    const timer = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    app
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    // Found after the environment was read (the WhatsApp template file): same one-line form.
    for (const problem of error.problems) process.stderr.write(`${problem}\n`);
    process.exit(2);
  }
  if (error instanceof BallotSecretMismatch) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof DataDirBusyError) {
    // Someone else has the data folder: that is all the person needs to know, not a stack.
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`aimak failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
