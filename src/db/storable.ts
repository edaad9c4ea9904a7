/**
 * Text as PostgreSQL can store it. A text or jsonb column refuses NUL, and a lone UTF-16
 * surrogate half (JSON may carry "\ud800") is not valid UTF-8: the insert fails, and with it the
 * request that carried it (a web chat send answered 500, a forged Telegram update redelivered).
 * Both become U+FFFD, the replacement character. Nothing a person types in a real client has them.
 */
const UNSTORABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is looked for.
  /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function storableText(text: string): string {
  return text.replace(UNSTORABLE, "\ufffd");
}

/** A JSON.parse reviver that makes every string of the parsed value storable. */
export function storableStrings(_key: string, value: unknown): unknown {
  return typeof value === "string" ? storableText(value) : value;
}
