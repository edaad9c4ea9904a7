import { Api, GrammyError, HttpError } from "grammy";
import { type ChannelAdapter, ChannelError } from "../channels/types";
import type { Channel } from "../db/schema/users";
import { appFilesTransformer } from "./app-files";
import type { RenderedMessage } from "./content";

/** The person a row is for, as the engine hands it to a sender. */
export interface Recipient {
  userId: number;
  /** The chat id as used in grammY (synthetic ≥ 2^52 outside Telegram). */
  chatId: number;
  locale: string | null;
  channel: Channel;
  /** The person's ids on their channel (WhatsApp: phone number and business-scoped id). */
  channelUserId?: string;
  channelAltId?: string | null;
  /** The person's last message to us (WhatsApp's 24-hour window). */
  lastMessageAt?: Date | null;
  /** The row failed before outside the window and must go as a template (WhatsApp). */
  reengage?: boolean;
}

/**
 * Sends one rendered message to one recipient on one channel. Returns the channel's message id.
 * Throws ChannelError to tell failures apart (blocked → user inactive, rate_limited → channel
 * pauses, unreachable → skipped, transient → retried with backoff, permanent → failed);
 * anything else thrown counts as transient.
 */
export interface DeliverySender {
  /**
   * With `gatesRequests`, `gate` is given: the sender awaits it right before each request to
   * the platform (it resolves when the channel's rate allows one more) and calls what it
   * returns when that request's answer arrives.
   */
  send(
    recipient: Recipient,
    message: RenderedMessage,
    gate?: () => Promise<() => void>,
  ): Promise<SendResult>;
  /** The sender passes the rate gate itself before each request (work before it, or several). */
  gatesRequests?: boolean;
  /** Optional: opens connections before the first send (so the first sends do not bunch). */
  warmUp?(): Promise<void>;
}

export interface SendResult {
  channelMessageId: string | null;
  /** Stored for a person who is not looking now (closed web chat): `held` until shown. */
  held?: boolean;
  /** WhatsApp's window was closed and the message went as its template. */
  viaTemplate?: boolean;
}

/** A Bot API method call: (method, payload) → result, throwing ChannelError on failure. */
export type BotApiCall = (method: string, payload: Record<string, unknown>) => Promise<unknown>;

/** Bot API method and payload for a rendered message (sendMessage / sendPhoto / sendDocument). */
export function toBotApiCall(
  chatId: number,
  message: RenderedMessage,
): { method: string; payload: Record<string, unknown> } {
  const payload: Record<string, unknown> = { chat_id: chatId };
  if (message.parseMode) payload.parse_mode = message.parseMode;
  if (message.buttons?.length) {
    payload.reply_markup = {
      inline_keyboard: message.buttons.map((row) =>
        row.map((b) =>
          b.url ? { text: b.text, url: b.url } : { text: b.text, callback_data: b.callbackData },
        ),
      ),
    };
  }
  if (message.photo) {
    return {
      method: "sendPhoto",
      payload: { ...payload, photo: message.photo, caption: message.text },
    };
  }
  if (message.document) {
    return {
      method: "sendDocument",
      payload: { ...payload, document: message.document, caption: message.text },
    };
  }
  return {
    method: "sendMessage",
    payload: { ...payload, text: message.text, link_preview_options: { is_disabled: true } },
  };
}

function messageIdOf(result: unknown): string | null {
  if (result && typeof result === "object" && "message_id" in result) {
    return String((result as { message_id: unknown }).message_id);
  }
  return null;
}

/** A sender over any Bot API-shaped call (Telegram's, or a channel adapter's). */
function botApiSender(
  call: BotApiCall,
  canReach?: (chatId: number) => boolean | Promise<boolean>,
  isPresent?: (chatId: number) => boolean | Promise<boolean>,
): DeliverySender {
  return {
    async send(recipient, message) {
      if (canReach && !(await canReach(recipient.chatId))) {
        throw new ChannelError("unreachable", "not connected");
      }
      // Asked before the send: a page that opens meanwhile finds the message in its history,
      // and showing it there turns `held` into `sent`.
      const held = isPresent ? !(await isPresent(recipient.chatId)) : false;
      const { method, payload } = toBotApiCall(recipient.chatId, message);
      const channelMessageId = messageIdOf(await call(method, payload));
      return held ? { channelMessageId, held } : { channelMessageId };
    },
  };
}

/** A sender over a channel adapter (web chat, WhatsApp): checks `canReach` before each send. */
export function adapterSender(adapter: ChannelAdapter): DeliverySender {
  return botApiSender(
    (method, payload) => adapter.call(method, payload),
    (chatId) => adapter.canReach(chatId),
    adapter.isPresent ? (chatId) => adapter.isPresent?.(chatId) ?? true : undefined,
  );
}

/**
 * Maps a grammY error to a ChannelError: 429 → rate_limited (retry_after), 403 and "user is
 * deactivated" / "chat not found" → blocked, other 4xx → permanent, 5xx and network → transient.
 */
function classifyTelegramError(err: unknown): ChannelError {
  if (err instanceof ChannelError) return err;
  if (err instanceof GrammyError) {
    const d = err.description;
    if (err.error_code === 429) {
      return new ChannelError("rate_limited", d, err.parameters.retry_after ?? 1);
    }
    if (err.error_code === 403 || /user is deactivated|chat not found|bot was blocked/i.test(d)) {
      return new ChannelError("blocked", d);
    }
    if (err.error_code >= 500) return new ChannelError("transient", d);
    return new ChannelError("permanent", `${err.error_code}: ${d}`);
  }
  if (err instanceof HttpError) return new ChannelError("transient", err.message);
  return new ChannelError("transient", err instanceof Error ? err.message : String(err));
}

export interface TelegramSenderOptions {
  token: string;
  /** TELEGRAM_API_ROOT (a local Bot API server or the fake one in tests); default Telegram's. */
  apiRoot?: string | undefined;
  /** HTTP timeout per call; keep it well under the engine's lease. */
  timeoutSeconds?: number;
}

/**
 * A grammY `Api` without the auto-retry plugin: on this path the engine itself handles 429
 * (pausing the whole channel for every process) and retries.
 */
export function createTelegramApi(options: TelegramSenderOptions): Api {
  return new Api(options.token, {
    ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
    timeoutSeconds: options.timeoutSeconds ?? 20,
  });
}

/**
 * The Telegram sender: a grammY Api call per message, errors classified. Paths of the app's own
 * files (a poll's chart) are uploaded (appFilesTransformer, installed on `api`).
 */
export function telegramSender(api: Api): DeliverySender {
  api.config.use(appFilesTransformer);
  const raw = api.raw as unknown as Record<
    string,
    (p: Record<string, unknown>) => Promise<unknown>
  >;
  const sender = botApiSender(async (method, payload) => {
    const fn = raw[method];
    if (!fn) throw new ChannelError("permanent", `unknown method ${method}`);
    try {
      return await fn(payload);
    } catch (err) {
      throw classifyTelegramError(err);
    }
  });
  return {
    send: sender.send,
    warmUp: async () => {
      await api.getMe();
    },
  };
}
