import { z } from "zod";
import type { Role } from "../db/schema/roles";
import type { Channel, Topic } from "../db/schema/users";

/** Locales a message can be written in. */
export type MessageLocale = "ky" | "ru" | "en";

/** Text per language. A recipient gets their language, else Kyrgyz, else Russian, else English. */
export interface LocalizedText {
  ky?: string;
  ru?: string;
  en?: string;
}

/** An inline button: either callback data (≤ 64 bytes, handled by a feature) or a URL. */
export interface MessageButton {
  text: LocalizedText;
  callbackData?: string;
  url?: string;
}

/**
 * What a proactive message says. With a photo or a document the text is its caption
 * (≤ 1024 characters), otherwise a text message (≤ 4096). `photo` / `document` are a Telegram
 * file_id or an https URL. `parseMode` applies to every language.
 */
export interface MessageContent {
  text: LocalizedText;
  buttons?: MessageButton[][];
  photo?: string;
  document?: string;
  parseMode?: "HTML";
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

/** The message as one recipient sees it: one language picked, buttons resolved. */
export interface RenderedMessage {
  text: string;
  buttons?: { text: string; callbackData?: string; url?: string }[][];
  photo?: string;
  document?: string;
  parseMode?: "HTML";
}

const FALLBACK: readonly MessageLocale[] = ["ky", "ru", "en"];

/** Picks the recipient's language, else ky, else ru, else en; "" when there is no text at all. */
export function pickText(text: LocalizedText, locale: string | null | undefined): string {
  const own = locale === "ky" || locale === "ru" || locale === "en" ? text[locale] : undefined;
  if (own) return own;
  for (const l of FALLBACK) {
    const t = text[l];
    if (t) return t;
  }
  return "";
}

/** Renders content for a recipient's locale, exactly what the channel sender will send. */
export function renderForRecipient(
  content: MessageContent,
  locale: string | null | undefined,
): RenderedMessage {
  const out: RenderedMessage = { text: pickText(content.text, locale) };
  if (content.buttons?.length) {
    out.buttons = content.buttons.map((row) =>
      row.map((b) => ({
        text: pickText(b.text, locale),
        ...(b.callbackData ? { callbackData: b.callbackData } : {}),
        ...(b.url ? { url: b.url } : {}),
      })),
    );
  }
  if (content.photo) out.photo = content.photo;
  if (content.document) out.document = content.document;
  if (content.parseMode) out.parseMode = content.parseMode;
  return out;
}

const localizedText = z
  .object({
    ky: z.string().trim().min(1).optional(),
    ru: z.string().trim().min(1).optional(),
    en: z.string().trim().min(1).optional(),
  })
  .strict()
  .refine((t) => Boolean(t.ky || t.ru || t.en), "needs text in at least one language");

const button = z
  .object({
    text: localizedText,
    callbackData: z
      .string()
      .min(1)
      .refine((s) => Buffer.byteLength(s, "utf8") <= 64, "callback data is at most 64 bytes")
      .optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict()
  .refine((b) => Boolean(b.callbackData) !== Boolean(b.url), "a button has callbackData or url");

const NAMED_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/** What a reader sees of a Telegram HTML text: tags dropped, character entities decoded. */
export function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(
      /&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi,
      (m, dec?: string, hex?: string, name?: string) => {
        if (dec) return String.fromCodePoint(Number(dec));
        if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
        return NAMED_ENTITIES[name?.toLowerCase() ?? ""] ?? m;
      },
    );
}

/**
 * Validates content; caption/text length limits are Telegram's (the strictest channel), which
 * counts what the reader sees: markup of an HTML text does not count.
 */
export const messageContentSchema = z
  .object({
    text: localizedText,
    buttons: z.array(z.array(button).min(1).max(8)).max(10).optional(),
    photo: z.string().min(1).optional(),
    document: z.string().min(1).optional(),
    parseMode: z.literal("HTML").optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.photo && c.document) {
      ctx.addIssue({ code: "custom", message: "a message has a photo or a document, not both" });
    }
    const max = c.photo || c.document ? 1024 : 4096;
    for (const [l, t] of Object.entries(c.text)) {
      if (t && (c.parseMode === "HTML" ? visibleText(t) : t).length > max) {
        ctx.addIssue({ code: "custom", path: ["text", l], message: `longer than ${max}` });
      }
    }
  });

export function validateContent(content: MessageContent): MessageContent {
  return messageContentSchema.parse(content) as MessageContent;
}
