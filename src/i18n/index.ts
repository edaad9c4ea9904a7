import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import i18next, { type i18n, type TFunction } from "i18next";
import { type Locale, SUPPORTED_LOCALES } from "../config";

export type { Locale, TFunction };

const LOCALES_DIR = fileURLToPath(new URL("../../locales/", import.meta.url));

export type Messages = Record<string, unknown>;

export function loadMessages(locale: Locale): Messages {
  return JSON.parse(readFileSync(`${LOCALES_DIR}${locale}.json`, "utf8")) as Messages;
}

let instance: i18n | undefined;

/**
 * One shared i18next instance with every locale loaded up front (three small JSON files), so
 * `t` is synchronous everywhere: in handlers, inside conversations and in the delivery engine.
 */
export function getI18n(): i18n {
  if (instance) return instance;
  const created = i18next.createInstance();
  void created.init({
    initAsync: false,
    resources: Object.fromEntries(
      SUPPORTED_LOCALES.map((l) => [l, { translation: loadMessages(l) }]),
    ),
    fallbackLng: false,
    supportedLngs: [...SUPPORTED_LOCALES],
    // Telegram renders our messages as HTML; values are escaped by the callers that need it.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  instance = created;
  return created;
}

const translators = new Map<Locale, TFunction>();

/** A `t` bound to one locale; made once per locale, as it is needed on every update. */
export function translator(locale: Locale): TFunction {
  let t = translators.get(locale);
  if (!t) {
    t = getI18n().getFixedT(locale);
    translators.set(locale, t);
  }
  return t;
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/**
 * The locale to talk to a person in: their saved choice, else what Telegram says their app uses,
 * else the deployment's default.
 */
export function resolveLocale(
  saved: string | null | undefined,
  languageCode: string | undefined,
  fallback: Locale,
): Locale {
  if (isLocale(saved)) return saved;
  const fromClient = languageCode?.slice(0, 2).toLowerCase();
  if (isLocale(fromClient)) return fromClient;
  return fallback;
}

const INTL_LOCALE: Record<Locale, string> = { ky: "ky-KG", ru: "ru-RU", en: "en-GB" };

/** "23-ноябрь 2026-ж., 14:30" style date and time, in the deployment's time zone. */
export function formatDateTime(date: Date, locale: Locale, timeZone: string): string {
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], {
    dateStyle: "long",
    timeStyle: "short",
    timeZone,
  }).format(date);
}

export function formatDate(date: Date, locale: Locale, timeZone: string): string {
  return new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: "long", timeZone }).format(date);
}

/** Escapes text for Telegram's HTML parse mode. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
