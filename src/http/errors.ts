/**
 * The one place an HTTP request that threw ends up (Hono's onError): one JSON log line instead of
 * Hono's console.error stack on stderr, and an answer the caller can act on.
 *
 * - The database unreachable (src/db/errors.ts): 503 with Retry-After. The web chat page gets
 *   `{error}` in the person's language ("briefly unavailable, your message is kept") and keeps
 *   what was typed; a webhook's sender (Telegram, Meta) delivers the update again later.
 * - Anything else: 500 (`{error}` for the web chat), logged with the error. Query parameters
 *   (which may hold a web chat cookie's hash or what a person wrote) never reach the log: the
 *   logger's error serializer drops them.
 */
import type { Context, ErrorHandler } from "hono";
import { databaseUnavailableCode } from "../db/errors";
import { resolveLocale, translator } from "../i18n";
import type { Locale } from "../locales";
import type { Logger } from "../logger";

/** Seconds a caller is asked to wait before trying again while the database is unreachable. */
export const RETRY_AFTER_SECONDS = 5;
/** The page says which language it shows, so an error it gets reads the same. */
export const LOCALE_HEADER = "x-aimak-locale";
/** While the database is down every request fails alike: one line per this many ms, with a count. */
const OUTAGE_LOG_EVERY_MS = 5000;

function localeFor(c: Context, fallback: Locale): Locale {
  const browser = c.req.header("accept-language")?.split(",")[0]?.split(";")[0]?.trim();
  return resolveLocale(c.req.header(LOCALE_HEADER), browser, fallback);
}

/** Hono's HTTPException (and the like) carry their own response. */
function ownResponse(err: unknown): Response | undefined {
  const e = err as { getResponse?: unknown };
  return typeof e.getResponse === "function" ? (e.getResponse as () => Response)() : undefined;
}

export function httpErrorHandler(logger: Logger, defaultLocale: Locale): ErrorHandler {
  let lastLogged = 0;
  let unlogged = 0;
  return (err, c) => {
    const own = ownResponse(err);
    if (own) return own;
    const forPage = c.req.path.startsWith("/chat/");
    const code = databaseUnavailableCode(err);
    if (code) {
      const now = Date.now();
      if (now - lastLogged >= OUTAGE_LOG_EVERY_MS) {
        logger.warn(
          { code, method: c.req.method, path: c.req.path, alsoAnswered503: unlogged },
          "http: database unreachable; answered 503",
        );
        lastLogged = now;
        unlogged = 0;
      } else {
        unlogged += 1;
      }
      const headers = { "retry-after": String(RETRY_AFTER_SECONDS), "cache-control": "no-store" };
      if (forPage) {
        const t = translator(localeFor(c, defaultLocale));
        return c.json({ error: t("errors.unavailable") }, 503, headers);
      }
      return c.json({ error: "the database is briefly unavailable; try again" }, 503, headers);
    }
    logger.error({ err, method: c.req.method, path: c.req.path }, "http: request failed");
    if (forPage) {
      return c.json({ error: translator(localeFor(c, defaultLocale))("errors.generic") }, 500);
    }
    return c.json({ error: "internal error" }, 500);
  };
}
