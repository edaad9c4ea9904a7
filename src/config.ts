import { z } from "zod";
import { LOCALES, type Locale } from "./locales";

/**
 * Application configuration, read from the environment once at start-up.
 * Every bad value is reported with the variable's name so an operator can fix it in one go.
 */
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

/** Meta's Graph API with the version Aimak was written against. */
export const WHATSAPP_DEFAULT_API_ROOT = "https://graph.facebook.com/v23.0";

const WHATSAPP_REQUIRED = [
  "WHATSAPP_ACCESS_TOKEN",
  "WHATSAPP_PHONE_NUMBER_ID",
  "WHATSAPP_APP_SECRET",
  "WHATSAPP_VERIFY_TOKEN",
] as const;

const schema = z
  .object({
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
        .optional(),
    ),
    DATA_DIR: optionalString.default("./data"),
    HOST: optionalString.default("127.0.0.1"),
    PORT: optionalString
      .default("3000")
      .pipe(z.string().regex(/^\d{1,5}$/, "must be a port number from 0 to 65535"))
      .transform(Number)
      .refine((port) => port <= 65535, "must be a port number from 0 to 65535"),
    BOT_TOKEN: optionalString.pipe(
      z
        .string()
        .regex(/^\d+:[\w-]{30,}$/, "does not look like a Telegram bot token (digits:secret)")
        .optional(),
    ),
    TELEGRAM_API_ROOT: optionalString.pipe(z.url("must be a URL").optional()),
    WEBHOOK_URL: optionalString.pipe(
      z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    ),
    WEBHOOK_SECRET: optionalString.pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{16,256}$/, "must be 16-256 characters of A-Z, a-z, 0-9, _ or -")
        .optional(),
    ),
    DEFAULT_LOCALE: optionalString.default("ky").pipe(z.enum(LOCALES)),
    TIMEZONE: optionalString.default("Asia/Bishkek").refine(isTimeZone, "is not a known time zone"),
    LOG_LEVEL: optionalString.default("info").pipe(z.enum(LOG_LEVELS)),
    FAQ_REMIND_AFTER_HOURS: optionalString
      .default("24")
      .pipe(z.string().regex(/^\d{1,4}$/, "must be a whole number of hours from 0 to 8760"))
      .transform(Number)
      .refine((h) => h <= 8760, "must be a whole number of hours from 0 to 8760"),
    RETENTION_DAYS: optionalString
      .default("180")
      .pipe(z.string().regex(/^\d{1,4}$/, "must be a whole number of days from 1 to 3650"))
      .transform(Number)
      .refine((d) => d >= 1 && d <= 3650, "must be a whole number of days from 1 to 3650"),
    PUBLIC_URL: optionalString.pipe(
      z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    ),
    WEBCHAT_EMBED_ORIGINS: optionalString.default("").transform((v, ctx) => {
      const origins = v
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o.length > 0);
      for (const origin of origins) {
        let parsed: URL | undefined;
        try {
          parsed = new URL(origin);
        } catch {
          parsed = undefined;
        }
        if (parsed?.protocol !== "https:" || parsed.origin !== origin) {
          ctx.addIssue({
            code: "custom",
            message: `must be https origins separated by commas, like "https://sokuluk.gov.kg" (not "${origin}")`,
          });
          return z.NEVER;
        }
      }
      return origins;
    }),
    HEARING_REMINDERS: optionalString.default("7d,1d,2h").transform((v, ctx) => {
      const offsets = parseReminderOffsets(v);
      if (!offsets) {
        ctx.addIssue({
          code: "custom",
          message: 'must be offsets before the start like "7d,1d,2h" (d, h or m; at most 10)',
        });
        return z.NEVER;
      }
      return offsets;
    }),
    WHATSAPP_ACCESS_TOKEN: optionalString,
    WHATSAPP_PHONE_NUMBER_ID: optionalString.pipe(
      z
        .string()
        .regex(/^\d{5,20}$/, "must be the phone number id (digits) from Meta's app")
        .optional(),
    ),
    WHATSAPP_APP_SECRET: optionalString.pipe(
      z.string().min(16, "must be the app secret from the Meta app's basic settings").optional(),
    ),
    WHATSAPP_VERIFY_TOKEN: optionalString.pipe(
      z.string().min(8, "must be at least 8 characters").optional(),
    ),
    WHATSAPP_API_ROOT: optionalString
      .default(WHATSAPP_DEFAULT_API_ROOT)
      .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })),
    WHATSAPP_RATE: optionalString
      .default("80")
      .pipe(z.string().regex(/^\d{1,4}$/, "must be a whole number of messages per second (1-1000)"))
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, "must be a whole number of messages per second (1-1000)"),
    WHATSAPP_TEMPLATES: optionalString,
    BALLOT_SECRET: optionalString.pipe(
      z.string().min(32, "must be at least 32 characters (e.g. openssl rand -hex 32)").optional(),
    ),
    TRUST_PROXY: optionalString
      .default("false")
      .transform((v) => v.toLowerCase())
      .pipe(
        z.enum(["true", "false", "1", "0", "yes", "no"], {
          error:
            "must be true or false (true only when a reverse proxy of yours sets X-Forwarded-For)",
        }),
      )
      .transform((v) => v === "true" || v === "1" || v === "yes"),
  })
  .superRefine((env, ctx) => {
    const whatsappSet = WHATSAPP_REQUIRED.filter((name) => env[name] !== undefined);
    if (whatsappSet.length > 0 && whatsappSet.length < WHATSAPP_REQUIRED.length) {
      const missing = WHATSAPP_REQUIRED.filter((name) => env[name] === undefined);
      ctx.addIssue({
        code: "custom",
        path: ["WHATSAPP_*"],
        message: `is set only in part: missing ${missing.join(", ")} (set all four of ${WHATSAPP_REQUIRED.join(", ")}, or none)`,
      });
    }
    if (env.WEBHOOK_URL && !env.WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET"],
        message: "is required with WEBHOOK_URL",
      });
    }
    if (env.WEBHOOK_URL && !env.BOT_TOKEN) {
      ctx.addIssue({
        code: "custom",
        path: ["BOT_TOKEN"],
        message: "is required with WEBHOOK_URL",
      });
    }
  });

/**
 * "7d,1d,2h" → minutes before the start, largest first, without repeats; undefined when any
 * part is unreadable, zero, or over a year. Staff type the same form for one hearing.
 */
export function parseReminderOffsets(text: string): number[] | undefined {
  const unit: Record<string, number> = { d: 1440, h: 60, m: 1 };
  const parts = text
    .split(/[,\s]+/)
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  if (parts.length === 0 || parts.length > 10) return undefined;
  const minutes = new Set<number>();
  for (const part of parts) {
    const m = /^(\d{1,4})([dhm])$/.exec(part);
    if (!m) return undefined;
    const n = Number(m[1]) * (unit[m[2] as string] ?? 0);
    if (n <= 0 || n > 366 * 1440) return undefined;
    minutes.add(n);
  }
  return [...minutes].sort((a, b) => b - a);
}

function isTimeZone(tz: string | undefined): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  botToken: string | undefined;
  telegramApiRoot: string | undefined;
  webhook: { url: string; secret: string } | undefined;
  defaultLocale: Locale;
  timezone: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /**
   * Lawyers are reminded of a question still unanswered this many hours after it was asked
   * (or taken), and again every as many hours while it stays so; 0 turns reminders off.
   */
  faqRemindAfterHours: number;
  /**
   * Delivery rows of messages that ended, and web chat messages, are deleted this many days
   * after (a daily job); each message keeps its totals.
   */
  retentionDays: number;
  /**
   * Where the app is reachable from outside (https://aimak.example.kg), for links in messages:
   * a hearing's calendar file. Unset: http://HOST:PORT, fine for the web chat on one machine.
   */
  publicUrl: string;
  /**
   * WEBCHAT_EMBED_ORIGINS: the municipality sites allowed to show the web chat in a frame
   * (Content-Security-Policy frame-ancestors); none by default.
   */
  webchatEmbedOrigins: string[];
  /** HEARING_REMINDERS: minutes before a hearing's start at which reminders go, largest first. */
  hearingReminders: number[];
  /**
   * BALLOT_SECRET: the key of the polls' voter keys, ballot tokens and resident hashes. Unset:
   * generated once into DATA_DIR/ballot-secret. Several instances must share one.
   */
  ballotSecret: string | undefined;
  /** The WhatsApp Cloud API channel; undefined when none of WHATSAPP_* is set. */
  whatsapp: WhatsAppConfig | undefined;
  /**
   * TRUST_PROXY: the app stands behind a reverse proxy or load balancer of its operator, so a
   * client's address (the web chat's per-address limits) is the last one in X-Forwarded-For,
   * not the socket's (which would be the proxy's for everyone). Off: X-Forwarded-For is ignored,
   * as anyone can write it.
   */
  trustProxy: boolean;
}

export interface WhatsAppConfig {
  accessToken: string;
  phoneNumberId: string;
  appSecret: string;
  verifyToken: string;
  /** WHATSAPP_API_ROOT without a trailing slash. */
  apiRoot: string;
  /** WHATSAPP_RATE: messages per second for the whole number. */
  rate: number;
  /** WHATSAPP_TEMPLATES: the template file's path (read and checked at start). */
  templatesPath: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const value = env[name];
      // Never echo secrets back into logs or terminals.
      const shown = value && !/TOKEN|SECRET|URL/.test(name) ? ` (got "${value}")` : "";
      return `Configuration error: ${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  const e = result.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    host: e.HOST,
    port: e.PORT,
    botToken: e.BOT_TOKEN,
    telegramApiRoot: e.TELEGRAM_API_ROOT,
    webhook:
      e.WEBHOOK_URL && e.WEBHOOK_SECRET
        ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET }
        : undefined,
    defaultLocale: e.DEFAULT_LOCALE,
    timezone: e.TIMEZONE,
    logLevel: e.LOG_LEVEL,
    faqRemindAfterHours: e.FAQ_REMIND_AFTER_HOURS,
    retentionDays: e.RETENTION_DAYS,
    publicUrl: (e.PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`).replace(/\/+$/, ""),
    hearingReminders: e.HEARING_REMINDERS,
    webchatEmbedOrigins: e.WEBCHAT_EMBED_ORIGINS,
    ballotSecret: e.BALLOT_SECRET,
    trustProxy: e.TRUST_PROXY,
    whatsapp:
      e.WHATSAPP_ACCESS_TOKEN &&
      e.WHATSAPP_PHONE_NUMBER_ID &&
      e.WHATSAPP_APP_SECRET &&
      e.WHATSAPP_VERIFY_TOKEN
        ? {
            accessToken: e.WHATSAPP_ACCESS_TOKEN,
            phoneNumberId: e.WHATSAPP_PHONE_NUMBER_ID,
            appSecret: e.WHATSAPP_APP_SECRET,
            verifyToken: e.WHATSAPP_VERIFY_TOKEN,
            apiRoot: e.WHATSAPP_API_ROOT.replace(/\/+$/, ""),
            rate: e.WHATSAPP_RATE,
            templatesPath: e.WHATSAPP_TEMPLATES,
          }
        : undefined,
  };
}
