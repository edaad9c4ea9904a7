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

/** The ballot secret of test configurations (polls), so tests write no secret file. */
export const TEST_BALLOT_SECRET = "test-ballot-secret-0123456789abcdef0123";

export const TEST_TOKEN = "123456:TEST-token-for-unit-tests-only-000000";
export const TEST_BOT_INFO: UserFromGetMe = {
  ...OFFLINE_BOT_INFO,
  id: 123456,
  username: "aimak_test_bot",
};

/** A file uploaded with a call (grammY's InputFile), as the fake Bot API recorded it. */
export interface UploadedFile {
  filename: string;
  /** The bytes read as UTF-8 (tests upload text: calendar files, CSV). */
  content: string;
}

function jsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The fields of a multipart call (grammY sends one when a payload holds an InputFile): plain
 * fields as JSON would have carried them, and each file in place of its `attach://` reference.
 */
async function multipartPayload(init: RequestInit): Promise<Record<string, unknown>> {
  const type = new Headers(init.headers).get("content-type") ?? "";
  const boundary = /boundary=([^;]+)/.exec(type)?.[1];
  const chunks: Buffer[] = [];
  for await (const chunk of init.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
  }
  const payload: Record<string, unknown> = {};
  if (!boundary) return payload;
  const files = new Map<string, UploadedFile>();
  for (const raw of Buffer.concat(chunks).toString("utf8").split(`--${boundary}`)) {
    const part = raw.replace(/^\r\n/, "").replace(/\r\n$/, "");
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const head = part.slice(0, split);
    const value = part.slice(split + 4);
    const name = /name="([^"]+)"/.exec(head)?.[1];
    if (!name) continue;
    const filename = /filename=("?)([^";\r\n]+)\1/.exec(head)?.[2];
    if (filename !== undefined) files.set(name, { filename, content: value });
    else if (/_id$/.test(name) && /^-?\d+$/.test(value)) payload[name] = Number(value);
    else payload[name] = /^[[{]/.test(value) ? jsonOr(value) : value;
  }
  for (const [key, value] of Object.entries(payload)) {
    const file =
      typeof value === "string" && value.startsWith("attach://") && files.get(value.slice(9));
    if (file) payload[key] = file;
  }
  return payload;
}

/**
 * A stand-in for the Telegram Bot API behind grammY's `client.fetch`: records every call and
 * answers like Telegram would. It reaches inside conversations too, since they reuse the client.
 * Uploads (multipart) are recorded too, their files as `UploadedFile`s.
 */
export function fakeTelegram() {
  const calls: ApiCall[] = [];
  let messageId = 1000;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = url.slice(url.lastIndexOf("/") + 1);
    const payload =
      init?.body && typeof init.body !== "string"
        ? await multipartPayload(init)
        : init?.body
          ? (JSON.parse(String(init.body)) as Record<string, unknown>)
          : {};
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
    config: parseConfig({ LOG_LEVEL: "silent", BALLOT_SECRET: TEST_BALLOT_SECRET }),
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
