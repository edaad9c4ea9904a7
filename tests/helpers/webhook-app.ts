import { type App, createApp } from "../../src/app";
import { parseConfig } from "../../src/config";
import type { DatabaseHandle } from "../../src/db/client";
import { createLogger, type Logger } from "../../src/logger";
import { TEST_BALLOT_SECRET, TEST_TOKEN } from "./bot";

/** The secret Telegram sends with each webhook request to the apps these tests start. */
export const TEST_WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789abcdef";

/**
 * The whole app in Telegram webhook mode on a free port, its Bot API faked by `fetch`. Returns
 * the app and its base URL (`http://127.0.0.1:<port>`).
 */
export async function startWebhookApp(options: {
  database: DatabaseHandle;
  fetch: typeof globalThis.fetch;
  logger?: Logger;
  secret?: string;
}): Promise<{ app: App; base: string }> {
  const app = await createApp({
    config: parseConfig({
      LOG_LEVEL: "silent",
      PORT: "0",
      BOT_TOKEN: TEST_TOKEN,
      WEBHOOK_URL: "https://aimak.example/telegram/webhook",
      WEBHOOK_SECRET: options.secret ?? TEST_WEBHOOK_SECRET,
      BALLOT_SECRET: TEST_BALLOT_SECRET,
    }),
    logger: options.logger ?? createLogger("silent"),
    fetch: options.fetch,
    database: options.database,
  });
  const { port } = await app.start();
  return { app, base: `http://127.0.0.1:${port}` };
}
