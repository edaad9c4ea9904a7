/**
 * The languages the app speaks: the one list. Schema enums, message content, the FAQ, the
 * directory and i18n all derive from it. The order is the fallback order when a text is missing
 * in someone's language: Kyrgyz first, then Russian, then English.
 *
 * It sits at the bottom layer (imports nothing) so that db/schema and config can use it.
 */
export const LOCALES = ["ky", "ru", "en"] as const;

export type Locale = (typeof LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}
