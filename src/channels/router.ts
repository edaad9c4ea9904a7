import { GrammyError, type Transformer } from "grammy";
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

/**
 * The API transformer behind the channel seam: calls for chats of another channel go to that
 * channel's adapter, everything else continues to Telegram. Install it on bot.api and, through
 * the conversations `plugins` option, on the fresh Api objects conversations create.
 */
export function channelRouter(
  adapterFor: (chatId: number) => Promise<ChannelAdapter | undefined>,
): Transformer {
  return async (prev, method, payload, signal) => {
    const chatId = chatIdOfCall(method, payload as Record<string, unknown>);
    if (chatId === undefined || !isSyntheticChatId(chatId)) return prev(method, payload, signal);
    const adapter = await adapterFor(chatId);
    if (!adapter) {
      throw new GrammyError(
        `no channel serves chat ${chatId}`,
        { ok: false, error_code: 400, description: "Bad Request: chat not found" },
        method,
        payload,
      );
    }
    try {
      const result = await adapter.call(method, payload as Record<string, unknown>);
      // biome-ignore lint/suspicious/noExplicitAny: the transformer signature is generic over every method's result
      return { ok: true, result } as any;
    } catch (error) {
      if (error instanceof ChannelError) {
        // Surface channel failures the way Telegram reports them, so callers handle one shape.
        const code = {
          blocked: 403,
          rate_limited: 429,
          unreachable: 403,
          transient: 502,
          permanent: 400,
        }[error.kind];
        throw new GrammyError(
          error.message,
          {
            ok: false,
            error_code: code,
            description: error.message,
            ...(error.retryAfterSeconds
              ? { parameters: { retry_after: error.retryAfterSeconds } }
              : {}),
          },
          method,
          payload,
        );
      }
      throw error;
    }
  };
}
