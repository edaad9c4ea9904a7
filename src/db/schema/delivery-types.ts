/**
 * The shapes of the delivery tables' JSON columns (outgoing_messages.content and .audience).
 * They live with the schema, which owns its columns; src/delivery/content.ts re-exports them
 * with the functions that render and validate them.
 */
import type { Locale } from "../../locales";
import type { Role } from "./roles";
import type { Channel, Topic } from "./users";

/** Text per language. A recipient gets their language, else Kyrgyz, else Russian, else English. */
export type LocalizedText = Partial<Record<Locale, string>>;

/** An inline button: either callback data (≤ 64 bytes, handled by a feature) or a URL. */
export interface MessageButton {
  text: LocalizedText;
  callbackData?: string;
  url?: string;
}

/**
 * What a proactive message says. With a photo or a document the text is its caption
 * (≤ 1024 characters), otherwise a text message (≤ 4096). `photo` / `document` are a Telegram
 * file_id, an https URL, or a path the app serves ("/polls/12/chart/ky.png", see
 * src/delivery/app-files.ts); a photo may differ per language. `parseMode` applies to every
 * language.
 */
export interface MessageContent {
  text: LocalizedText;
  buttons?: MessageButton[][];
  photo?: string | LocalizedText;
  document?: string;
  parseMode?: "HTML";
  /**
   * Named values of the message (a hearing's title, date and place; a poll's question) that a
   * WhatsApp template fills its parameters from when the person is outside the 24-hour window
   * (see src/channels/whatsapp/templates.ts). Plain text, no markup.
   */
  templateParams?: Record<string, LocalizedText>;
  /**
   * Part of a message sent just before (a hearing notice's files): where only a template can go
   * (WhatsApp, outside the 24-hour window), the first message's template stands for it, and this
   * one is skipped.
   */
  followUp?: boolean;
}

/**
 * Who receives a message. Only active users are ever enqueued.
 * - municipalityId: residents of that municipality (users.municipality_id); with `role`, the
 *   holders of that role granted for that municipality. `null`: every municipality (admins only,
 *   or `{ role: "lawyer", municipalityId: null }` for all lawyers).
 * - topic: only users subscribed to it (hearings / polls / announcements).
 * - channels: restrict to some channels.
 */
export interface Audience {
  municipalityId: number | null;
  role?: Role;
  topic?: Topic;
  channels?: Channel[];
}

/** JSON a registered audience kind is parameterised with (stored with the message). */
export type AudienceParams = { [key: string]: JsonValue };
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * An audience of a kind a feature registered (`registerAudience`), e.g.
 * `{ kind: "hearing_rsvp_going", params: { hearingId: 12 } }`: resolved to users when the
 * message starts.
 */
export interface NamedAudience {
  kind: string;
  params: AudienceParams;
}

/**
 * What a message's `audience` column holds. `Audience` (no `kind`) is the built-in kind
 * "residents", the shape every row had before kinds existed, and is still read as such.
 */
export type StoredAudience = Audience | NamedAudience;
