import type { Update, UserFromGetMe } from "grammy/types";
import type { BotDeps } from "../../src/bot/context";
import { createBot, OFFLINE_BOT_INFO } from "../../src/bot/create-bot";
import { LocaleCache } from "../../src/bot/locale-cache";
import { ChannelDirectory } from "../../src/channels/directory";
import { parseConfig } from "../../src/config";
import type { Database } from "../../src/db/client";
import { features } from "../../src/features";
import { createLogger } from "../../src/logger";

export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
}

export const TEST_TOKEN = "123456:TEST-token-for-unit-tests-only-000000";
export const TEST_BOT_INFO: UserFromGetMe = {
  ...OFFLINE_BOT_INFO,
  id: 123456,
  username: "aimak_test_bot",
};

/**
 * A stand-in for the Telegram Bot API behind grammY's `client.fetch`: records every call and
 * answers like Telegram would. It reaches inside conversations too, since they reuse the client.
 */
export function fakeTelegram() {
  const calls: ApiCall[] = [];
  let messageId = 1000;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = url.slice(url.lastIndexOf("/") + 1);
    const payload = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {};
    if (method === "getUpdates") {
      // Long polling with nothing new: wait a little (or until aborted), then no updates.
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 200);
        init?.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      return new Response(JSON.stringify({ ok: true, result: [] }));
    }
    calls.push({ method, payload });
    let result: unknown = true;
    if (method.startsWith("send") && method !== "sendChatAction") {
      result = {
        message_id: ++messageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: payload.chat_id, type: "private" },
        text: payload.text,
      };
    } else if (method === "getMe") result = TEST_BOT_INFO;
    return new Response(JSON.stringify({ ok: true, result }), {
      headers: { "content-type": "application/json" },
    });
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

let updateId = 0;

export function person(id: number, languageCode = "ru") {
  return { id, is_bot: false as const, first_name: `User${id}`, language_code: languageCode };
}

export function textUpdate(from: ReturnType<typeof person>, text: string): Update {
  const command = /^\/\w+/.exec(text);
  return {
    update_id: ++updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: from.id, type: "private", first_name: from.first_name },
      from,
      text,
      ...(command
        ? { entities: [{ type: "bot_command" as const, offset: 0, length: command[0].length }] }
        : {}),
    },
  };
}

export function pressUpdate(from: ReturnType<typeof person>, data: string, messageId = 1): Update {
  return {
    update_id: ++updateId,
    callback_query: {
      id: `cb${updateId}`,
      from,
      chat_instance: "1",
      data,
      message: {
        message_id: messageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: from.id, type: "private", first_name: from.first_name },
        text: "",
      },
    },
  };
}

export function testDeps(db: Database): BotDeps {
  return {
    db,
    config: parseConfig({ LOG_LEVEL: "silent" }),
    logger: createLogger("silent"),
    locales: new LocaleCache(),
    botUsername: TEST_BOT_INFO.username,
  };
}

/** The real bot with every plugin, on a real database, with Telegram faked at the HTTP client. */
export function createTestBot(db: Database) {
  const telegram = fakeTelegram();
  const deps = testDeps(db);
  const bot = createBot({
    deps,
    features,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: telegram.fetch,
    directory: new ChannelDirectory(db),
  });
  return {
    bot,
    deps,
    calls: telegram.calls,
    /** Texts the bot sent or edited, in order. */
    texts: () =>
      telegram.calls
        .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
        .map((c) => String(c.payload.text)),
    lastCall: (method: string) => [...telegram.calls].reverse().find((c) => c.method === method),
    /** callback_data of every button in the most recent message or keyboard edit. */
    lastButtons: () => {
      const call = [...telegram.calls]
        .reverse()
        .find(
          (c) =>
            (c.payload.reply_markup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard,
        );
      const kb = (
        call?.payload.reply_markup as {
          inline_keyboard: { text: string; callback_data?: string }[][];
        }
      )?.inline_keyboard;
      return (kb ?? []).flat().map((b) => ({ text: b.text, data: b.callback_data ?? "" }));
    },
    send: (update: Update) => bot.handleUpdate(update),
  };
}
