import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import { createSyntheticUser, findUserByChannelId } from "../../core/people";
import type { Database } from "../../db/client";
import type { UserRow } from "../../db/schema";
import { getI18n, resolveLocale, translator } from "../../i18n";
import type { Locale } from "../../locales";
import type { ChannelDirectory } from "../directory";
import { MAX_MESSAGE_LENGTH, syntheticChatId } from "../types";
import type { WebchatAdapter } from "./adapter";
import type { WebchatEvent, WebchatHub } from "./hub";

const COOKIE = "aimak_chat";
/** The header that proves a state-changing request comes from the chat page itself. */
export const CSRF_HEADER = "x-aimak-csrf";
const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));
/** How often an open event stream hears from the server (the page reconnects after silence). */
export const PING_EVERY_MS = 20_000;
const ASSET_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface WebchatRoutesDeps {
  db: Database;
  adapter: WebchatAdapter;
  hub: WebchatHub;
  directory: ChannelDirectory;
  defaultLocale: Locale;
  /** Ping interval of the event stream (default PING_EVERY_MS; tests shorten it). */
  pingEveryMs?: number;
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * The session's anti-forgery token: derived from the secret cookie (which scripts cannot read),
 * so it needs no storage and every app instance computes the same one. Only the page, which
 * receives it from POST /chat/session, can send it back in CSRF_HEADER.
 */
function csrfToken(cookie: string): string {
  return createHash("sha256").update(`aimak-csrf\0${cookie}`).digest("base64url");
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Whether the browser says the request comes from this very origin. Browsers send
 * Sec-Fetch-Site and Origin with every POST; a page on another port or subdomain (same site,
 * other origin) gets "same-site" and its own Origin, and is refused. Clients that send neither
 * (scripts, tests) still need the token.
 */
function fromSameOrigin(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin") return false;
  const origin = c.req.header("origin");
  if (origin === undefined) return true;
  const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function isJson(c: Context): boolean {
  const type = c.req.header("content-type") ?? "";
  return /^application\/json\s*(;|$)/i.test(type);
}

function stringsFor(locale: Locale): unknown {
  return getI18n().getResourceBundle(locale, "translation")?.webchat ?? {};
}

/** Simple per-person flood guard: at most `limit` requests in `windowMs`. */
class Throttle {
  private readonly hits = new Map<number, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  allow(key: number): boolean {
    const now = Date.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) return false;
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 50_000) this.hits.clear();
    return true;
  }
}

/**
 * The web chat: the page, a cookie-based session, the person's messages and button presses in,
 * and the bot's messages out over server-sent events.
 */
/** The largest body a page request may have (a message of MAX_MESSAGE_LENGTH in JSON fits). */
const BODY_LIMIT = 64 * 1024;

export function webchatRoutes(deps: WebchatRoutesDeps): Hono {
  const app = new Hono();
  const pingEveryMs = deps.pingEveryMs ?? PING_EVERY_MS;
  const throttle = new Throttle(20, 10_000);

  // Nothing the page sends is large (a message is at most MAX_MESSAGE_LENGTH characters): a
  // bigger body is refused before it is read.
  app.use(
    "/chat/*",
    bodyLimit({
      maxSize: BODY_LIMIT,
      onError: (c) =>
        c.json(
          {
            error: translator(localeOf(undefined, c.req.header("accept-language")))(
              "errors.body_too_large",
            ),
          },
          413,
        ),
    }),
  );

  async function currentUser(cookie: string | undefined): Promise<UserRow | undefined> {
    if (!cookie || cookie.length > 200) return undefined;
    return findUserByChannelId(deps.db, "web", tokenHash(cookie));
  }

  /**
   * Whether a write failed because the person was deleted (/forgetme) after this request found
   * them: a foreign key to a users row that is gone. The page then gets 401 and starts afresh.
   */
  async function goneMeanwhile(err: unknown, cookie: string | undefined): Promise<boolean> {
    const e = err as { code?: unknown; cause?: { code?: unknown } };
    const code = e.cause?.code ?? e.code;
    return code === "23503" && !(await currentUser(cookie));
  }

  function localeOf(user: UserRow | undefined, acceptLanguage: string | undefined): Locale {
    return resolveLocale(user?.locale, acceptLanguage?.split(",")[0], deps.defaultLocale);
  }

  /** The browser's first language, as Telegram's app language would be (until one is chosen). */
  const browserLanguage = (c: Context): string | undefined =>
    c.req.header("accept-language")?.split(",")[0]?.split(";")[0]?.trim() || undefined;

  /** What the page needs to start: who, in which language, and how to prove it is the page. */
  function sessionBody(user: UserRow, cookie: string, locale: Locale) {
    return {
      userId: user.id,
      locale,
      strings: stringsFor(locale),
      csrf: csrfToken(cookie),
      maxLength: MAX_MESSAGE_LENGTH,
      pingMs: pingEveryMs,
    };
  }

  app.get("/", async (c) => {
    const html = await readFile(`${PAGE_DIR}index.html`, "utf8");
    return c.html(html);
  });

  app.get("/chat/assets/:file", async (c) => {
    const file = c.req.param("file");
    const ext = /\.[a-z]+$/.exec(file)?.[0] ?? "";
    if (!/^[\w.-]+$/.test(file) || !ASSET_TYPES[ext]) return c.notFound();
    try {
      const body = await readFile(`${PAGE_DIR}${file}`);
      return c.body(body, 200, { "content-type": ASSET_TYPES[ext], "cache-control": "no-cache" });
    } catch {
      return c.notFound();
    }
  });

  app.post("/chat/session", async (c) => {
    const refused = translator(localeOf(undefined, c.req.header("accept-language")))(
      "errors.forged_request",
    );
    if (!fromSameOrigin(c)) return c.json({ error: refused }, 403);
    const cookie = getCookie(c, COOKIE);
    let user = await currentUser(cookie);
    if (!user || !cookie) {
      const token = randomBytes(32).toString("base64url");
      const locale = localeOf(undefined, c.req.header("accept-language"));
      user = await createSyntheticUser(deps.db, "web", tokenHash(token), null);
      deps.directory.remember(syntheticChatId(user.id), "web");
      setCookie(c, COOKIE, token, {
        httpOnly: true,
        sameSite: "Lax",
        path: "/",
        maxAge: 60 * 60 * 24 * 365,
        secure: c.req.header("x-forwarded-proto") === "https",
      });
      return c.json(sessionBody(user, token, locale));
    }
    return c.json(sessionBody(user, cookie, localeOf(user, c.req.header("accept-language"))));
  });

  // Everything below needs a session.
  app.use("/chat/*", async (c, next) => {
    if (c.req.path.startsWith("/chat/assets/") || c.req.path === "/chat/session") return next();
    const user = await currentUser(getCookie(c, COOKIE));
    if (!user)
      return c.json({ error: translator(deps.defaultLocale)("errors.need_onboarding") }, 401);
    c.set("user" as never, user as never);
    // Anything that changes state must come from the page: same origin, JSON, and the token.
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const t = translator(localeOf(user, c.req.header("accept-language")));
      if (!fromSameOrigin(c) || !isJson(c)) {
        return c.json({ error: t("errors.forged_request") }, 403);
      }
      const sent = c.req.header(CSRF_HEADER) ?? "";
      if (!sameSecret(sent, csrfToken(getCookie(c, COOKIE) ?? ""))) {
        return c.json({ error: t("errors.forged_request") }, 403);
      }
    }
    return next();
  });

  const userOf = (c: { get: (key: never) => unknown }): UserRow =>
    c.get("user" as never) as UserRow;

  app.get("/chat/history", async (c) => {
    const user = userOf(c);
    return c.json({ messages: await deps.adapter.history(user.id) });
  });

  app.get("/chat/events", (c) => {
    const user = userOf(c);
    return streamSSE(c, async (stream) => {
      const listener = (event: WebchatEvent) => {
        void stream.writeSSE({ event: event.type, data: JSON.stringify(event.data) });
      };
      const unsubscribe = deps.hub.subscribe(user.id, listener);
      stream.onAbort(unsubscribe);
      // Pings keep proxies from closing an idle stream and let the page notice a dead one (it
      // reconnects after a silence). The loop ends when the page goes, or when this stream no
      // longer receives the person's events (then the page reconnects and resubscribes).
      while (!stream.aborted && !stream.closed && deps.hub.isSubscribed(user.id, listener)) {
        await stream.writeSSE({ event: "ping", data: JSON.stringify({ at: Date.now() }) });
        await stream.sleep(pingEveryMs);
      }
      unsubscribe();
    });
  });

  app.post("/chat/send", async (c) => {
    const user = userOf(c);
    const t = translator(localeOf(user, c.req.header("accept-language")));
    if (!throttle.allow(user.id)) return c.json({ error: t("errors.too_fast") }, 429);
    const body = (await c.req.json().catch(() => undefined)) as { text?: unknown } | undefined;
    const text = typeof body?.text === "string" ? body.text.trim() : "";
    if (!text) return c.json({ error: t("errors.empty") }, 400);
    if (text.length > MAX_MESSAGE_LENGTH) {
      return c.json(
        { error: t("errors.too_long", { length: text.length, max: MAX_MESSAGE_LENGTH }) },
        413,
      );
    }
    let message: Awaited<ReturnType<typeof deps.adapter.receiveText>>;
    try {
      message = await deps.adapter.receiveText(user, text, browserLanguage(c));
    } catch (err) {
      if (await goneMeanwhile(err, getCookie(c, COOKIE))) {
        return c.json({ error: t("errors.need_onboarding") }, 401);
      }
      throw err;
    }
    return c.json({ message }, 202);
  });

  app.post("/chat/press", async (c) => {
    const user = userOf(c);
    const t = translator(localeOf(user, c.req.header("accept-language")));
    if (!throttle.allow(user.id)) return c.json({ error: t("errors.too_fast") }, 429);
    const body = (await c.req.json().catch(() => undefined)) as
      | { messageId?: unknown; data?: unknown }
      | undefined;
    const messageId = Number(body?.messageId);
    const data = typeof body?.data === "string" ? body.data : "";
    // Telegram caps callback data at 64 bytes; anything else cannot have come from our buttons.
    if (!Number.isSafeInteger(messageId) || !data || Buffer.byteLength(data) > 64) {
      return c.json({ error: t("errors.stale_button") }, 400);
    }
    let ok: boolean;
    try {
      ok = await deps.adapter.receivePress(user, messageId, data, browserLanguage(c));
    } catch (err) {
      if (await goneMeanwhile(err, getCookie(c, COOKIE))) {
        return c.json({ error: t("errors.need_onboarding") }, 401);
      }
      throw err;
    }
    if (!ok) {
      // A button of a person deleted meanwhile (/forgetme): start afresh, not "stale".
      if (!(await currentUser(getCookie(c, COOKIE)))) {
        return c.json({ error: t("errors.need_onboarding") }, 401);
      }
      return c.json({ error: t("errors.stale_button") }, 404);
    }
    return c.json({ ok: true }, 202);
  });

  return app;
}
