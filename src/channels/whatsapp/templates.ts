/**
 * WhatsApp message templates: what a proactive message becomes when its recipient has not
 * written in the last 24 hours (outside that window Meta accepts approved templates only).
 *
 * The template file (WHATSAPP_TEMPLATES, JSON) maps a message kind to a template approved in
 * Meta's WhatsApp Manager, its language code per Aimak locale and, in order, what fills its
 * {{1}}, {{2}}… parameters:
 *
 *   { "hearing_notice": {
 *       "name": "aimak_hearing_notice",
 *       "language": { "ky": "ky_KG", "ru": "ru", "en": "en" },
 *       "header": ["municipality"],
 *       "body": ["title", "date", "place"] } }
 *
 * A parameter name is "text" (the message's visible text, on one line) or a key of the
 * message's templateParams (each feature documents the ones it gives). Keys starting with "_"
 * are comments and ignored (the example file shows each template's approved text in one).
 * The file is checked at start: every problem is one line naming its JSON path.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { MESSAGE_KINDS, type MessageKind } from "../../db/schema/delivery";
import { pickText, type RenderedMessage, visibleText } from "../../delivery/content";
import { isLocale, LOCALES, type Locale } from "../../locales";
import type { WaTemplate, WaTemplateParameter } from "./types";

/** The parameter that stands for the message's own text. */
export const TEXT_PARAMETER = "text";

/** What fills a parameter the message does not have (Meta refuses an empty one). */
export const MISSING_PARAMETER = "—";

/** Meta's limits on one parameter: a body parameter, and the whole text of a header. */
const BODY_PARAMETER_MAX = 1024;
const HEADER_PARAMETER_MAX = 60;

export interface TemplateSpec {
  name: string;
  /** Meta's language code per Aimak locale ("ky_KG", "ru", "en"); at least one. */
  language: Partial<Record<Locale, string>>;
  header: string[];
  body: string[];
}

/** A template file that cannot be used; `problems` holds one line per problem. */
export class TemplateFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "TemplateFileError";
  }
}

// ── the file's shape ──────────────────────────────────────────────────────────────────────

/** zod's `error` hook: a missing field says so, anything else says what it must be. */
function needs(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? "is missing" : what);
}

const PARAMETER_NAME = /^[a-z_]{1,32}$/;
const parameterName = z
  .string({ error: needs("must be a parameter name") })
  .regex(PARAMETER_NAME, 'must be "text" or a parameter name (a-z and _, at most 32)');

const languageCode = z
  .string({ error: needs('must be a Meta language code like "ky_KG", "ru" or "en_US"') })
  .regex(
    /^[a-z]{2,3}(?:_[A-Z]{2})?$/,
    'must be a Meta language code like "ky_KG", "ru" or "en_US"',
  );

const LANGUAGE_KEYS = LOCALES.join(", ");

const templateSchema = z.object({
  name: z
    .string({ error: needs("must be the template's name in WhatsApp Manager") })
    .regex(/^[a-z0-9_]{1,512}$/, "must be the template's name in WhatsApp Manager (a-z, 0-9, _)"),
  language: z
    .record(z.string(), z.unknown(), {
      error: needs(`must be an object of language codes by locale (${LANGUAGE_KEYS})`),
    })
    .superRefine((language, ctx) => {
      const keys = Object.keys(language);
      for (const key of keys) {
        if (isLocale(key)) {
          const code = languageCode.safeParse(language[key]);
          if (!code.success) {
            ctx.addIssue({ code: "custom", path: [key], message: code.error.issues[0]?.message });
          }
        } else {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `is not a locale of Aimak (${LANGUAGE_KEYS})`,
          });
        }
      }
      if (!keys.some(isLocale)) {
        ctx.addIssue({
          code: "custom",
          message: `needs a code for at least one of ${LANGUAGE_KEYS}`,
        });
      }
    })
    .transform((language) => language as Partial<Record<Locale, string>>),
  // Meta allows one parameter in a text header.
  header: z
    .array(parameterName, { error: needs("must be a list of parameter names") })
    .max(1, "a header takes at most one parameter")
    .default([]),
  body: z.array(parameterName, { error: needs("must be a list of parameter names") }).default([]),
});

const TEMPLATE_KEYS = ["name", "language", "header", "body"];

/** "hearing_notice.body[1]" from a zod path under a kind. */
function pathText(kind: string, path: readonly PropertyKey[]): string {
  let out = kind;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isMessageKind(key: string): key is MessageKind {
  return (MESSAGE_KINDS as readonly string[]).includes(key);
}

/** Checks a parsed template file; `source` starts every problem line (the variable, the path). */
export function parseTemplates(json: unknown, source: string): WhatsAppTemplates {
  const problems: string[] = [];
  const specs = new Map<MessageKind, TemplateSpec>();
  if (!isPlainObject(json)) {
    throw new TemplateFileError([
      `${source}: must be an object of templates by message kind (e.g. "hearing_notice")`,
    ]);
  }
  for (const [kind, value] of Object.entries(json)) {
    if (kind.startsWith("_")) continue;
    if (!isMessageKind(kind)) {
      problems.push(
        `${source}: ${kind}: unknown message kind (one of ${MESSAGE_KINDS.join(", ")})`,
      );
      continue;
    }
    if (!isPlainObject(value)) {
      problems.push(`${source}: ${kind}: must be an object with name, language and body`);
      continue;
    }
    for (const key of Object.keys(value)) {
      if (!key.startsWith("_") && !TEMPLATE_KEYS.includes(key)) {
        problems.push(
          `${source}: ${kind}.${key}: unknown key (one of ${TEMPLATE_KEYS.join(", ")})`,
        );
      }
    }
    const parsed = templateSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${source}: ${pathText(kind, issue.path)}: ${issue.message}`);
      }
      continue;
    }
    specs.set(kind, parsed.data);
  }
  if (problems.length > 0) throw new TemplateFileError(problems);
  return new WhatsAppTemplates(specs);
}

/** Reads and checks the template file. Throws TemplateFileError (unreadable, not JSON, wrong). */
export async function loadTemplates(
  path: string,
  source = `WHATSAPP_TEMPLATES (${path})`,
): Promise<WhatsAppTemplates> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TemplateFileError([`${source}: cannot read the file (${code})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new TemplateFileError([`${source}: not valid JSON (${(error as Error).message})`]);
  }
  return parseTemplates(json, source);
}

// ── building a template message ───────────────────────────────────────────────────────────

/** Cuts to `max` characters at a word, with "…" (never splitting a surrogate pair). */
function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uDC00-\uDFFF]/.test(text.charAt(end))) end--;
  let cut = text.slice(0, end);
  const space = cut.lastIndexOf(" ");
  // A word boundary only when it keeps most of the room; a long word is cut hard.
  if (space > max / 2) cut = cut.slice(0, space);
  return `${cut.trimEnd()}…`;
}

/**
 * A value Meta accepts as a parameter: no newlines or tabs (Meta refuses them; a line break
 * becomes " · "), no run of spaces, trimmed, at most `max` characters, never empty.
 */
export function templateParameterText(value: string, max = BODY_PARAMETER_MAX): string {
  const oneLine = value
    .split(/\s*[\r\n\u2028\u2029\v\f]+\s*/)
    .filter((part) => part.trim() !== "")
    .join(" · ")
    .replace(/[\t ]+/g, " ")
    .trim();
  return oneLine ? cutAtWord(oneLine, max) : MISSING_PARAMETER;
}

/** The templates of the file, by message kind. */
export class WhatsAppTemplates {
  /** No template file: every kind goes inside the 24-hour window only. */
  static readonly none = new WhatsAppTemplates(new Map());

  constructor(private readonly specs: ReadonlyMap<MessageKind, TemplateSpec>) {}

  has(kind: MessageKind): boolean {
    return this.specs.has(kind);
  }

  /** The kinds that have a template, in MESSAGE_KINDS order. */
  kinds(): MessageKind[] {
    return MESSAGE_KINDS.filter((kind) => this.specs.has(kind));
  }

  spec(kind: MessageKind): TemplateSpec | undefined {
    return this.specs.get(kind);
  }

  /**
   * The template message for a rendered message of `kind` for a reader of `locale`: the
   * template's language for their locale, else ky, ru, en (as pickText). The parameters come
   * from `rendered` (already in the reader's language); a missing one is "—". Undefined when
   * the kind has no template.
   */
  build(
    kind: MessageKind,
    locale: string | null,
    rendered: RenderedMessage,
  ): WaTemplate | undefined {
    const spec = this.specs.get(kind);
    if (!spec) return undefined;
    const value = (name: string): string => {
      if (name === TEXT_PARAMETER) {
        return rendered.parseMode === "HTML" ? visibleText(rendered.text) : rendered.text;
      }
      return rendered.templateParams?.[name] ?? "";
    };
    const parameters = (names: string[], max: number): WaTemplateParameter[] =>
      names.map((name) => ({ type: "text", text: templateParameterText(value(name), max) }));
    const components: NonNullable<WaTemplate["components"]> = [];
    if (spec.header.length > 0) {
      components.push({
        type: "header",
        parameters: parameters(spec.header, HEADER_PARAMETER_MAX),
      });
    }
    if (spec.body.length > 0) {
      components.push({ type: "body", parameters: parameters(spec.body, BODY_PARAMETER_MAX) });
    }
    return {
      name: spec.name,
      language: { code: pickText(spec.language, locale) },
      ...(components.length > 0 ? { components } : {}),
    };
  }
}
