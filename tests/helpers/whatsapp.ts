import { readFileSync } from "node:fs";
import { WHATSAPP_WEBHOOK_PATH } from "../../src/channels/whatsapp";
import type { Logger } from "../../src/logger";
import {
  FakeGraphApi,
  type FakeGraphApiOptions,
  type Person,
} from "../fixtures/fake-graph-api/server";
import { type RunningTestApp, startTestApp } from "./app";

export const WA_TOKEN = "test-whatsapp-access-token";
export const WA_APP_SECRET = "test-whatsapp-app-secret-0123456789";
export const WA_VERIFY_TOKEN = "test-verify-token";
export const WA_PHONE_NUMBER_ID = "109876543210";

/** The shipped example of the template file (WHATSAPP_TEMPLATES). */
export const EXAMPLE_TEMPLATES = "config/whatsapp-templates.example.json";

/**
 * Meta allows a burst of up to 45 messages to one person within 6 seconds before 131056 (about
 * one per 6 s on average); a test taps far faster than a person, so one that walks through a flow
 * gets Meta's burst (the fake's `pairLimit`) rather than the fake's strict default of 6.
 */
export const META_PAIR_BURST = 45;

/** A template file's names and language codes, as the fake's approved templates. */
export function approvedTemplates(path: string): Record<string, string[]> {
  const file = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const [kind, entry] of Object.entries(file)) {
    if (kind.startsWith("_")) continue;
    const { name, language } = entry as { name: string; language: Record<string, string> };
    out[name] = Object.values(language);
  }
  return out;
}

export interface RunningWhatsApp extends RunningTestApp {
  fake: FakeGraphApi;
  /** A WhatsApp person with a number (wa_id) and a business-scoped id. */
  person(name: string, waId: string): Person;
  stop(): Promise<void>;
}

/**
 * The whole app with the WhatsApp channel on, against the fake Graph API (real HTTP both ways:
 * the app sends to the fake, the fake posts signed webhooks to the app).
 */
export async function startWhatsAppApp(
  options: {
    fake?: FakeGraphApiOptions;
    env?: NodeJS.ProcessEnv;
    jobSchedules?: Record<string, string>;
    /** Telegram's Bot API client (fakeTelegram().fetch from tests/helpers/bot.ts) with BOT_TOKEN in env. */
    telegramFetch?: typeof fetch;
    /** Where the app logs (silent unless given). */
    logger?: Logger;
  } = {},
): Promise<RunningWhatsApp> {
  const fake = new FakeGraphApi({
    token: WA_TOKEN,
    appSecret: WA_APP_SECRET,
    phoneNumberId: WA_PHONE_NUMBER_ID,
    ...options.fake,
  });
  const apiRoot = await fake.start();
  const running = await startTestApp({
    env: {
      WHATSAPP_ACCESS_TOKEN: WA_TOKEN,
      WHATSAPP_PHONE_NUMBER_ID: WA_PHONE_NUMBER_ID,
      WHATSAPP_APP_SECRET: WA_APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: WA_VERIFY_TOKEN,
      WHATSAPP_API_ROOT: apiRoot,
      ...options.env,
    },
    ...(options.jobSchedules ? { jobSchedules: options.jobSchedules } : {}),
    ...(options.telegramFetch ? { fetch: options.telegramFetch } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  fake.webhookUrl = `${running.base}${WHATSAPP_WEBHOOK_PATH}`;
  return {
    ...running,
    fake,
    person: (name, waId) => ({ name, waId, userId: `KG.${waId}0001` }),
    async stop() {
      await running.app.stop();
      await fake.stop();
    },
  };
}
