import type { Channel } from "../db/schema";

/** What a channel can do, for features and the delivery engine to ask instead of guessing. */
export interface ChannelCapabilities {
  /** Messages can be edited in place (otherwise an edit arrives as a new message). */
  edits: boolean;
  /** Buttons one message shows at once (more go into a list, or pages of one). */
  buttonsPerMessage: number;
  /** Proactive messages only this many hours after the person's last message (null: any time). */
  proactiveWindowHours: number | null;
  /** Files (a hearing's .ics, a CSV) arrive as attachments (otherwise: send a link). */
  files: boolean;
}

export const CHANNEL_CAPABILITIES: Record<Channel, ChannelCapabilities> = {
  telegram: { edits: true, buttonsPerMessage: 100, proactiveWindowHours: null, files: true },
  web: { edits: true, buttonsPerMessage: 100, proactiveWindowHours: null, files: false },
  // Up to 3 reply buttons, or a list of 10 rows (longer keyboards page through "more").
  whatsapp: { edits: false, buttonsPerMessage: 10, proactiveWindowHours: 24, files: true },
};

export function capabilitiesOf(channel: Channel): ChannelCapabilities {
  return CHANNEL_CAPABILITIES[channel];
}
