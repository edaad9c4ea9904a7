import { z } from "zod";
import type { MessageKind } from "../db/schema/delivery";
import type { LocalizedText, MessageContent } from "../db/schema/delivery-types";
import { isLocale, LOCALES, type Locale } from "../locales";

// The JSON column types belong to the schema; re-exported here, where they are built and read.
export type {
  Audience,
  AudienceParams,
  JsonValue,
  LocalizedText,
  MessageButton,
  MessageContent,
  NamedAudience,
  StoredAudience,
} from "../db/schema/delivery-types";

/** The message as one recipient sees it: one language picked, buttons resolved. */
export interface RenderedMessage {
  text: string;
  buttons?: { text: string; callbackData?: string; url?: string }[][];
  photo?: string;
  document?: string;
  parseMode?: "HTML";
  /** The message's kind (set by the delivery engine): which WhatsApp template stands in. */
  kind?: MessageKind;
  /** The content's template parameters in the recipient's language (WhatsApp templates). */
  templateParams?: Record<string, string>;
  /** See MessageContent.followUp. */
  followUp?: boolean;
}

/** Picks the recipient's language, else ky, else ru, else en; "" when there is no text at all. */
export function pickText(text: LocalizedText, locale: string | null | undefined): string {
  const own = isLocale(locale) ? text[locale] : undefined;
  if (own) return own;
  for (const l of LOCALES) {
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
  if (content.photo) {
    const photo =
      typeof content.photo === "string" ? content.photo : pickText(content.photo, locale);
    if (photo) out.photo = photo;
  }
  if (content.document) out.document = content.document;
  if (content.parseMode) out.parseMode = content.parseMode;
  if (content.followUp) out.followUp = true;
  if (content.templateParams) {
    out.templateParams = Object.fromEntries(
      Object.entries(content.templateParams).map(([name, text]) => [name, pickText(text, locale)]),
    );
  }
  return out;
}

const oneText = z.string().trim().min(1).optional();
const localizedText = z
  .object(Object.fromEntries(LOCALES.map((l) => [l, oneText])) as Record<Locale, typeof oneText>)
  .strict()
  .refine((t) => LOCALES.some((l) => Boolean(t[l])), "needs text in at least one language");

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
const messageContentSchema = z
  .object({
    text: localizedText,
    buttons: z.array(z.array(button).min(1).max(8)).max(10).optional(),
    photo: z.union([z.string().min(1), localizedText]).optional(),
    document: z.string().min(1).optional(),
    parseMode: z.literal("HTML").optional(),
    templateParams: z.record(z.string().regex(/^[a-z_]{1,32}$/), localizedText).optional(),
    followUp: z.boolean().optional(),
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
