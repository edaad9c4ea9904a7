import { InputFile, type Transformer } from "grammy";
import { type ChannelAdapter, ChannelError, isSyntheticChatId } from "./types";

/** Callback query ids minted by non-Telegram channels start with their channel name and ":". */
export function syntheticCallbackId(channel: string, chatId: number, serial: number): string {
  return `${channel}:${chatId}:${serial}`;
}

/**
 * Finds the chat an outgoing Bot API call is for, so it can be routed to the right channel.
 * Calls that name no chat (getMe, setWebhook, ...) belong to Telegram.
 */
export function chatIdOfCall(method: string, payload: Record<string, unknown>): number | undefined {
  const chatId = payload.chat_id;
  if (typeof chatId === "number") return chatId;
  if (typeof chatId === "string" && /^\d+$/.test(chatId)) return Number(chatId);
  if (method === "answerCallbackQuery" && typeof payload.callback_query_id === "string") {
    const [, id] = payload.callback_query_id.split(":");
    if (id && /^\d+$/.test(id)) return Number(id);
  }
  return undefined;
}

const STATUS: Record<ChannelError["kind"], number> = {
  blocked: 403,
  rate_limited: 429,
  unreachable: 403,
  outside_window: 403,
  recipient_rate_limited: 429,
  transient: 502,
  permanent: 400,
};

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

/**
 * The channel seam, at the lowest layer grammY has: its HTTP client. Bot API calls for chats of
 * another channel are answered by that channel's adapter, in the Bot API's own response shape;
 * everything else goes on to Telegram. Sitting below every API transformer means it applies
 * alike to bot.api, to the Api objects conversations create (and their replay log), and to the
 * delivery engine, with nothing to install anywhere else.
 */
export function channelFetch(
  adapterFor: (chatId: number) => Promise<ChannelAdapter | undefined>,
  telegramFetch: typeof fetch = fetch,
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    // grammY sends JSON bodies as strings; file uploads (multipart) only ever go to Telegram.
    if (typeof init?.body !== "string") return telegramFetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    const method = url.slice(url.lastIndexOf("/") + 1);
    const payload = JSON.parse(init.body) as Record<string, unknown>;
    const chatId = chatIdOfCall(method, payload);
    if (chatId === undefined || !isSyntheticChatId(chatId)) return telegramFetch(input, init);
    const adapter = await adapterFor(chatId);
    if (!adapter)
      return json({ ok: false, error_code: 400, description: "Bad Request: chat not found" });
    try {
      return json({ ok: true, result: await adapter.call(method, payload) });
    } catch (error) {
      if (!(error instanceof ChannelError)) throw error;
      return json({
        ok: false,
        error_code: STATUS[error.kind],
        description: error.message,
        ...(error.retryAfterSeconds
          ? { parameters: { retry_after: error.retryAfterSeconds } }
          : {}),
      });
    }
  }) as typeof fetch;
}

/** A file the bot uploads (grammY's InputFile), read into memory for a channel adapter. */
export interface ChannelUpload {
  upload: { bytes: Uint8Array; filename: string };
}

export function isChannelUpload(value: unknown): value is ChannelUpload {
  return typeof value === "object" && value !== null && "upload" in value;
}

const UPLOAD_FIELDS: Record<string, string> = {
  sendDocument: "document",
  sendPhoto: "photo",
};

async function readInputFile(file: InputFile): Promise<Uint8Array> {
  const raw = await file.toRaw();
  if (raw instanceof Uint8Array) return raw;
  const parts: Uint8Array[] = [];
  for await (const part of raw as AsyncIterable<Uint8Array>) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * Uploads (an InputFile: a hearing's .ics, a CSV) for chats of other channels. grammY sends
 * them as multipart bodies, which the channel router below cannot read, so this API
 * transformer hands them to the adapter before they are encoded, as bytes and a file name.
 */
export function channelUploadsTransformer(
  adapterFor: (chatId: number) => Promise<ChannelAdapter | undefined>,
): Transformer {
  return async (prev, method, payload, signal) => {
    const field = UPLOAD_FIELDS[method];
    const p = payload as Record<string, unknown>;
    const chatId = Number(p.chat_id);
    const file = field ? p[field] : undefined;
    if (!field || !(file instanceof InputFile) || !isSyntheticChatId(chatId)) {
      return prev(method, payload, signal);
    }
    const adapter = await adapterFor(chatId);
    if (!adapter) return prev(method, payload, signal);
    const upload: ChannelUpload = {
      upload: { bytes: await readInputFile(file), filename: file.filename ?? field },
    };
    try {
      const result = await adapter.call(method, { ...p, [field]: upload });
      return { ok: true, result } as Awaited<ReturnType<typeof prev>>;
    } catch (error) {
      if (!(error instanceof ChannelError)) throw error;
      return {
        ok: false,
        error_code: STATUS[error.kind],
        description: error.message,
      } as Awaited<ReturnType<typeof prev>>;
    }
  };
}
