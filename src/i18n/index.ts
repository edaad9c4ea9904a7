import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import i18next, { type i18n, type TFunction } from "i18next";
import { isLocale, LOCALES, type Locale } from "../locales";

export type { TFunction };

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
    resources: Object.fromEntries(LOCALES.map((l) => [l, { translation: loadMessages(l) }])),
    fallbackLng: false,
    supportedLngs: [...LOCALES],
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
    t = memoized(getI18n().getFixedT(locale));
    translators.set(locale, t);
  }
  return t;
}

/** Enough for every message with its usual values; user-typed values just cycle through. */
const MEMO_LIMIT = 5_000;

/**
 * Remembers rendered messages. A conversation re-runs from its start on every update (that is
 * how @grammyjs/conversations resumes), so each step re-renders the same texts and buttons of
 * all the steps before it; i18next's lookup and interpolation were a tenth of the bot's CPU.
 * The resources never change while the process runs, so a rendered message stays right.
 */
function memoized(t: TFunction): TFunction {
  const memo = new Map<string, string>();
  const render = (key: unknown, options?: unknown): unknown => {
    if (typeof key !== "string") return (t as (k: unknown, o?: unknown) => unknown)(key, options);
    const id = options === undefined ? key : `${key}\u0000${JSON.stringify(options)}`;
    let text = memo.get(id);
    if (text === undefined) {
      text = String((t as (k: string, o?: unknown) => unknown)(key, options));
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(id, text);
    }
    return text;
  };
  return render as TFunction;
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

/**
 * What staff wrote in Kyrgyz and/or Russian (a poll's question, a hearing's title), for one
 * reader: their language, else the other one of the two. English readers get the Kyrgyz text
 * (inside English labels); an empty or blank half counts as not written.
 */
export function staffText(text: { ky?: string; ru?: string }, locale: Locale): string {
  const order = locale === "ru" ? (["ru", "ky"] as const) : (["ky", "ru"] as const);
  for (const l of order) {
    const t = text[l]?.trim();
    if (t) return t;
  }
  return "";
}

const INTL_LOCALE: Record<Locale, string> = { ky: "ky-KG", ru: "ru-RU", en: "en-GB" };

// Building an Intl formatter costs far more than using one (it was 2 % of the web chat bench's
// CPU when every FAQ answer built its own), so each (kind, locale, zone) is built once.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => T): T {
  let f = formatters.get(key);
  if (!f) {
    f = make();
    formatters.set(key, f);
  }
  return f as T;
}

/** "23-ноябрь 2026-ж., 14:30" style date and time, in the deployment's time zone. */
export function formatDateTime(date: Date, locale: Locale, timeZone: string): string {
  return cached(
    `dt\0${locale}\0${timeZone}`,
    () =>
      new Intl.DateTimeFormat(INTL_LOCALE[locale], {
        dateStyle: "long",
        timeStyle: "short",
        timeZone,
      }),
  ).format(date);
}

export function formatDate(date: Date, locale: Locale, timeZone: string): string {
  return cached(
    `d\0${locale}\0${timeZone}`,
    () => new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: "long", timeZone }),
  ).format(date);
}

/** "1,234" / "1 234": a count written the way the language groups digits. */
export function formatNumber(value: number, locale: Locale): string {
  return cached(`n\0${locale}`, () => new Intl.NumberFormat(INTL_LOCALE[locale])).format(value);
}

/** Escapes text for Telegram's HTML parse mode. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
