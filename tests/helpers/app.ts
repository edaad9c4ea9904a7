import { type App, type AppOptions, createApp } from "../../src/app";
import { parseConfig } from "../../src/config";
import { municipalities } from "../../src/db/schema";
import { createLogger, type Logger } from "../../src/logger";
import { TEST_BALLOT_SECRET } from "./bot";
import { createTestDatabase } from "./db";

export interface RunningTestApp {
  app: App;
  /** http://127.0.0.1:PORT of the app's HTTP server. */
  base: string;
  /** The first municipality of the shipped directory. */
  municipalityId: number;
}

/**
 * The whole app in this process on a fresh test database, serving HTTP on a free port, with its
 * delivery engine and scheduler running; no Telegram token.
 */
export async function startTestApp(
  options: Omit<AppOptions, "config" | "logger" | "database"> & {
    /** More environment for the configuration (WHATSAPP_*, …). */
    env?: NodeJS.ProcessEnv;
    /** Where the app logs (tests that assert on a warning); silent unless given. */
    logger?: Logger;
  } = {},
): Promise<RunningTestApp> {
  const { env, logger, ...appOptions } = options;
  const app = await createApp({
    config: parseConfig({
      LOG_LEVEL: "silent",
      PORT: "0",
      BALLOT_SECRET: TEST_BALLOT_SECRET,
      ...env,
    }),
    logger: logger ?? createLogger("silent"),
    database: await createTestDatabase(),
    ...appOptions,
  });
  const base = `http://127.0.0.1:${(await app.start()).port}`;
  const [first] = await app.database.db
    .select({ id: municipalities.id })
    .from(municipalities)
    .orderBy(municipalities.id)
    .limit(1);
  return { app, base, municipalityId: Number(first?.id) };
}
