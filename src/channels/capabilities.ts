import type { Channel } from "../db/schema";

/**
 * What a channel can do, for features and the delivery engine to ask instead of guessing. The one
 * place these limits live: the delivery engine paces chats by `perChatIntervalSeconds` and the
 * WhatsApp sender counts its 24-hour window from `proactiveWindowHours`.
 */
export interface ChannelCapabilities {
  /** Messages can be edited in place (otherwise an edit arrives as a new message). */
  edits: boolean;
  /** Buttons one message shows at once (more go into a list, or pages of one). */
  buttonsPerMessage: number;
  /** Proactive messages only this many hours after the person's last message (null: any time). */
  proactiveWindowHours: number | null;
  /**
   * At least this many seconds between two proactive messages to one person (0: no pause). Also
   * how long a person is held back after the platform says they got too many (WhatsApp 131056).
   */
  perChatIntervalSeconds: number;
  /** Files (a hearing's .ics, a CSV) arrive as attachments (otherwise: send a link). */
  files: boolean;
}

export const CHANNEL_CAPABILITIES: Record<Channel, ChannelCapabilities> = {
  // Telegram: about 1 message per second per chat.
  telegram: {
    edits: true,
    buttonsPerMessage: 100,
    proactiveWindowHours: null,
    perChatIntervalSeconds: 1,
    files: true,
  },
  // The page shows what arrives at once; nothing to pace.
  web: {
    edits: true,
    buttonsPerMessage: 100,
    proactiveWindowHours: null,
    perChatIntervalSeconds: 0,
    files: false,
  },
  // Up to 3 reply buttons, or a list of 10 rows (longer keyboards page through "more"). Meta's
  // pair rate: about 1 message per 6 s to one person (a faster pace meets 131056).
  whatsapp: {
    edits: false,
    buttonsPerMessage: 10,
    proactiveWindowHours: 24,
    perChatIntervalSeconds: 6,
    files: true,
  },
};

export function capabilitiesOf(channel: Channel): ChannelCapabilities {
  return CHANNEL_CAPABILITIES[channel];
}
