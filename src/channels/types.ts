import type { Channel } from "../db/schema";
import type { ChannelCapabilities } from "./capabilities";

/**
 * The channel seam. grammY is the one place where conversational flows live; a channel adapter
 * (1) turns what a person does on its channel into grammY updates fed to the same bot, and
 * (2) carries out the bot's outgoing Bot API calls for the chats that live on that channel.
 * Telegram is the identity case: its updates and API calls pass straight through.
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  /** What the channel can do (buttons, edits, a messaging window, files): see capabilities.ts. */
  readonly capabilities: ChannelCapabilities;
  /**
   * Performs a Bot API call (sendMessage, editMessageText, answerCallbackQuery, ...) for a chat
   * of this channel and returns what the Bot API would have returned as `result`.
   * Throws ChannelError for failures that the caller must tell apart.
   */
  call(method: string, payload: Record<string, unknown>): Promise<unknown>;
  /** Whether a proactive message can reach this chat now (false: skipped as unreachable). */
  canReach(chatId: number): boolean | Promise<boolean>;
  /**
   * Optional, for channels that keep messages for people who are away (the web chat keeps its
   * history): false means the message is stored but not seen yet; the delivery is `held` until
   * the channel reports it shown.
   */
  isPresent?(chatId: number): boolean | Promise<boolean>;
}

export type ChannelErrorKind =
  /** The person blocked the bot / deleted the account: stop messaging them. */
  | "blocked"
  /** Slow down: retry after `retryAfterSeconds`. */
  | "rate_limited"
  /** Nobody is there right now (web page closed, outside a messaging window): skip. */
  | "unreachable"
  /** Outside the channel's messaging window with no template for this message: skip. */
  | "outside_window"
  /** Too many messages to this one person just now: retry this one after `retryAfterSeconds`. */
  | "recipient_rate_limited"
  /** Worth retrying later (network, 5xx). */
  | "transient"
  /** Will never succeed as sent (bad request). */
  | "permanent";

export class ChannelError extends Error {
  constructor(
    readonly kind: ChannelErrorKind,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

// How chat ids are laid out is the users table's business (core creates the synthetic ones);
// re-exported here for the channels that read them.
export { isSyntheticChatId, SYNTHETIC_CHAT_ID_BASE, syntheticChatId } from "../db/schema/users";

/**
 * The longest message a person may send, on every channel: Telegram's own limit for one
 * message. The web chat's box counts down to it; the FAQ takes questions of any length up to it.
 */
export const MAX_MESSAGE_LENGTH = 4096;
