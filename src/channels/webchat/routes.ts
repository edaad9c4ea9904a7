import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import type { Database } from "../../db/client";
import type { UserRow } from "../../db/schema";
import { clientAddress, RateLimiter, type RateRule } from "../../http/rate-limit";
import { getI18n, resolveLocale, translator } from "../../i18n";
import type { Locale } from "../../locales";
import type { ChannelDirectory } from "../directory";
import { MAX_MESSAGE_LENGTH, syntheticChatId } from "../types";
import type { WebchatAdapter } from "./adapter";
import type { WebchatEvent, WebchatHub } from "./hub";
import {
  createPerson,
  findPerson,
  newVisitor,
  parseCookie,
  peopleAmong,
  secretHash,
  type WebCookie,
} from "./visitors";

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
  /** TRUST_PROXY: the client's address is the last one in X-Forwarded-For (see clientAddress). */
  trustProxy?: boolean;
  /** Other budgets than WEBCHAT_LIMITS (tests). */
  limits?: Partial<WebchatLimits>;
}

/**
 * The budgets of the web chat, counted in the shared rate_limits table (every instance draws on
 * the same ones). Chosen so that no real person meets them:
 * - sends and button presses per session: a person types about one message every 2 s and taps
 *   through onboarding about once a second; 20 in 10 s is twice the fastest tapping;
 * - sends and presses per address: an address may be a municipality office or a school behind
 *   one NAT (30 people), or a mobile carrier's NAT; 600 a minute is 30 people each writing every
 *   3 s for a whole minute, and still stops a script's flood of fresh sessions at 10 a second;
 * - new sessions per address: a browser opens one session (the cookie lasts a year), so 60 new
 *   visitors a minute is more than such an office ever has; resuming a session is not counted.
 */
export interface WebchatLimits {
  sendPerSession: RateRule;
  sendPerAddress: RateRule;
  sessionPerAddress: RateRule;
}

export const WEBCHAT_LIMITS: WebchatLimits = {
  sendPerSession: { name: "webchat:send:session", limit: 20, windowMs: 10_000 },
  sendPerAddress: { name: "webchat:send:ip", limit: 600, windowMs: 60_000 },
  sessionPerAddress: { name: "webchat:session:ip", limit: 60, windowMs: 60_000 },
};

/**
 * How often the streams opened before their visitor's first message look (in one query for all
 * of them) for the person row created by that message on another instance; this instance's own
 * sends wake them at once.
 */
const ROWLESS_POLL_MS = 1_000;
/**
 * The reconnection time given to the browser when such a stream ends because the row now
 * exists: short, so the page is soon on a real stream, but no hammering should the server go away.
 */
const ROWLESS_RETRY_MS = 300;
/** The browser's usual reconnection time (EventSource's own default is about 3 s). */
const NORMAL_RETRY_MS = 3000;
/** How long a visitor's first message waits for their page's stream to come back (see send). */
const FIRST_STREAM_WAIT_MS = 2_000;

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

/**
 * The web chat: the page, a cookie-based session, the person's messages and button presses in,
 * and the bot's messages out over server-sent events.
 */
/** The largest body a page request may have (a message of MAX_MESSAGE_LENGTH in JSON fits). */
const BODY_LIMIT = 64 * 1024;

export function webchatRoutes(deps: WebchatRoutesDeps): Hono {
  const app = new Hono();
  const pingEveryMs = deps.pingEveryMs ?? PING_EVERY_MS;
  const limits: WebchatLimits = { ...WEBCHAT_LIMITS, ...deps.limits };
  const limiter = new RateLimiter(deps.db);
  const addressOf = (c: Context) => clientAddress(c, deps.trustProxy ?? false);
  /** Streams of visitors who have not written yet, by secret hash: woken when they write. */
  const waiting = new Map<string, Set<() => void>>();
  let poller: ReturnType<typeof setTimeout> | undefined;

  /** While streams wait, looks every ROWLESS_POLL_MS for those whose person now exists. */
  function pollWaiting(): void {
    if (poller || waiting.size === 0) return;
    poller = setTimeout(async () => {
      try {
        const found = await peopleAmong(deps.db, [...waiting.keys()].slice(0, 1_000));
        for (const hash of found) for (const wake of waiting.get(hash) ?? []) wake();
      } catch {
        // The database is briefly away: the next poll retries. (Its error carries the hashes
        // as parameters, which must not reach a log.)
      }
      poller = undefined;
      pollWaiting();
    }, ROWLESS_POLL_MS);
    poller.unref?.();
  }

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
    const parsed = parseCookie(cookie);
    return parsed ? findPerson(deps.db, parsed) : undefined;
  }

  function issueCookie(c: Context, value: string): void {
    setCookie(c, COOKIE, value, {
      httpOnly: true,
      sameSite: "Lax",
      path: "/",
      maxAge: 60 * 60 * 24 * 365,
      secure: c.req.header("x-forwarded-proto") === "https",
    });
  }

  /** A session whose person exists keeps only the secret (visitors.ts says why). */
  function settleCookie(c: Context, cookie: WebCookie): void {
    if (cookie.claimedId !== undefined) issueCookie(c, cookie.secret);
  }

  const tooFast = (c: Context, t: ReturnType<typeof translator>) =>
    c.json({ error: t("errors.too_fast") }, 429);

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
  function sessionBody(userId: number, secret: string, locale: Locale) {
    return {
      userId,
      locale,
      strings: stringsFor(locale),
      csrf: csrfToken(secret),
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
    const cookie = parseCookie(getCookie(c, COOKIE));
    const user = cookie && (await findPerson(deps.db, cookie));
    if (cookie && user) {
      settleCookie(c, cookie);
      return c.json(
        sessionBody(user.id, cookie.secret, localeOf(user, c.req.header("accept-language"))),
      );
    }
    const locale = localeOf(undefined, c.req.header("accept-language"));
    // A visitor who has not written yet keeps their reserved id (a page reload, a reconnect).
    if (cookie?.claimedId !== undefined) {
      return c.json(sessionBody(cookie.claimedId, cookie.secret, locale));
    }
    // A new session creates no person (visitors.ts): only its id is reserved, at a bounded pace.
    const allowed = await limiter.allow([
      { rule: limits.sessionPerAddress, subject: addressOf(c) },
    ]);
    if (!allowed) return tooFast(c, translator(locale));
    const visitor = await newVisitor(deps.db);
    issueCookie(c, visitor.cookie);
    const fresh = parseCookie(visitor.cookie) as WebCookie;
    return c.json(sessionBody(visitor.id, fresh.secret, locale));
  });

  /**
   * The event stream of a visitor who has not written yet: there is no person to follow, so it
   * only keeps the page's connection alive until their first message creates the row, then ends;
   * the browser reconnects after ROWLESS_RETRY_MS to the real stream (and the page syncs its
   * history on that "open"). Never subscribed by the id in the cookie: a forged cookie could name
   * another visitor's reserved id.
   */
  function rowlessStream(c: Context, cookie: WebCookie) {
    const hash = secretHash(cookie.secret);
    return streamSSE(c, async (stream) => {
      let wake = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const set = waiting.get(hash) ?? new Set();
      set.add(wake);
      waiting.set(hash, set);
      stream.onAbort(wake);
      pollWaiting();
      try {
        while (!stream.aborted && !stream.closed) {
          await stream.writeSSE({ event: "ping", data: JSON.stringify({ at: Date.now() }) });
          const woke = await Promise.race([
            stream.sleep(pingEveryMs).then(() => false),
            woken.then(() => true),
          ]);
          if (stream.aborted || stream.closed) break;
          if (woke) {
            // The person exists now (woken by their first message here, or by the poll).
            await stream.writeSSE({
              event: "ping",
              data: JSON.stringify({ at: Date.now() }),
              retry: ROWLESS_RETRY_MS,
            });
            break;
          }
        }
      } finally {
        set.delete(wake);
        if (set.size === 0 && waiting.get(hash) === set) waiting.delete(hash);
      }
    });
  }

  // Everything below needs a session.
  app.use("/chat/*", async (c, next) => {
    if (c.req.path.startsWith("/chat/assets/") || c.req.path === "/chat/session") return next();
    const cookie = parseCookie(getCookie(c, COOKIE));
    const user = cookie && (await findPerson(deps.db, cookie));
    // A visitor who has not written yet (visitors.ts) has a session but no person: their page
    // may read (nothing yet), listen, and send the first message, which creates the person.
    const visitor = !user && cookie?.claimedId !== undefined ? cookie : undefined;
    if (!cookie || (!user && !visitor))
      return c.json({ error: translator(deps.defaultLocale)("errors.need_onboarding") }, 401);
    if (user) {
      settleCookie(c, cookie);
      c.set("user" as never, user as never);
    } else {
      c.set("visitor" as never, visitor as never);
    }
    // Anything that changes state must come from the page: same origin, JSON, and the token.
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const t = translator(localeOf(user || undefined, c.req.header("accept-language")));
      if (!fromSameOrigin(c) || !isJson(c)) {
        return c.json({ error: t("errors.forged_request") }, 403);
      }
      const sent = c.req.header(CSRF_HEADER) ?? "";
      if (!sameSecret(sent, csrfToken(cookie.secret))) {
        return c.json({ error: t("errors.forged_request") }, 403);
      }
    } else if (visitor && c.req.path === "/chat/history") {
      return c.json({ messages: [] });
    } else if (visitor && c.req.path === "/chat/events") {
      return rowlessStream(c, visitor);
    }
    if (visitor && c.req.path !== "/chat/send" && c.req.path !== "/chat/press") {
      return c.json({ error: translator(deps.defaultLocale)("errors.need_onboarding") }, 401);
    }
    return next();
  });

  const visitorOf = (c: { get: (key: never) => unknown }): WebCookie | undefined =>
    c.get("visitor" as never) as WebCookie | undefined;

  /**
   * Counts a send or press against the session's and the address's budgets (shared by every
   * instance); false when either is spent.
   */
  function withinBudget(c: Context): Promise<boolean> {
    // The session is named by a value derived from its secret (not the person's id, which a
    // forged cookie could name to spend someone else's budget; not the hash kept in users).
    const secret = parseCookie(getCookie(c, COOKIE))?.secret ?? "";
    const session = createHash("sha256").update(`aimak-rate\0${secret}`).digest("base64url");
    return limiter.allow([
      { rule: limits.sendPerSession, subject: session.slice(0, 22) },
      { rule: limits.sendPerAddress, subject: addressOf(c) },
    ]);
  }

  /**
   * The person of a visitor's first message, created now. When this instance holds the
   * visitor's page, that page's stream ends (rowlessStream) and the message waits, briefly, until
   * the page is back on a real stream: the bot's answer then arrives live and counts as seen,
   * instead of waiting in the history as "new".
   */
  async function firstWrite(c: Context, visitor: WebCookie): Promise<UserRow> {
    const user = await createPerson(deps.db, visitor);
    deps.directory.remember(syntheticChatId(user.id), "web");
    settleCookie(c, visitor);
    const streams = waiting.get(secretHash(visitor.secret));
    if (streams && streams.size > 0) {
      for (const wake of streams) wake();
      const until = Date.now() + FIRST_STREAM_WAIT_MS;
      // The page may come back to another instance behind the load balancer: asked everywhere.
      while (!(await deps.hub.isConnectedAnywhere(user.id)) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    return user;
  }

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
      // Registered on every instance's view (webchat_streams), and counted against the
      // person's cap: a newer page pushes the oldest one out (WebchatHub.openStream).
      const handle = await deps.hub.openStream(user.id, listener);
      stream.onAbort(() => void handle.close());
      let pushedOut = false;
      void handle.ended.then(() => {
        pushedOut = true;
      });
      // Pings keep proxies from closing an idle stream and let the page notice a dead one (it
      // reconnects after a silence); each one also tells the other instances this page is still
      // open. The loop ends when the page goes, when a newer page pushed this one over the cap,
      // or when this stream no longer receives the person's events (then the page reconnects).
      let first = true;
      while (!stream.aborted && !stream.closed && handle.isOpen()) {
        await stream.writeSSE({
          event: "ping",
          data: JSON.stringify({ at: Date.now() }),
          // The browser keeps the last `retry` it heard: a visitor's stream that waited for the
          // first message set a short one (ROWLESS_RETRY_MS); this sets the usual delay back.
          ...(first ? { retry: NORMAL_RETRY_MS } : {}),
        });
        first = false;
        await Promise.race([stream.sleep(pingEveryMs), handle.ended]);
        if (handle.isOpen()) await handle.ping();
      }
      if (pushedOut && !stream.aborted && !stream.closed) {
        // A pushed-out background tab should not come straight back and push out the next one:
        // the browser waits `retry` before reconnecting (the page's own watchdog still brings it
        // back once it is looked at again).
        await stream.writeSSE({
          event: "ping",
          data: JSON.stringify({ at: Date.now() }),
          retry: pingEveryMs * 5,
        });
      }
      await handle.close();
    });
  });

  app.post("/chat/send", async (c) => {
    const visitor = visitorOf(c);
    const known = visitor ? undefined : userOf(c);
    const t = translator(localeOf(known, c.req.header("accept-language")));
    if (!(await withinBudget(c))) return tooFast(c, t);
    const body = (await c.req.json().catch(() => undefined)) as { text?: unknown } | undefined;
    const text = typeof body?.text === "string" ? body.text.trim() : "";
    if (!text) return c.json({ error: t("errors.empty") }, 400);
    if (text.length > MAX_MESSAGE_LENGTH) {
      return c.json(
        { error: t("errors.too_long", { length: text.length, max: MAX_MESSAGE_LENGTH }) },
        413,
      );
    }
    // The first message of a visitor is what makes them a person (visitors.ts).
    const user = known ?? (await firstWrite(c, visitor as WebCookie));
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
    const visitor = visitorOf(c);
    const known = visitor ? undefined : userOf(c);
    const t = translator(localeOf(known, c.req.header("accept-language")));
    if (!(await withinBudget(c))) return tooFast(c, t);
    // A visitor who never wrote has no message of the bot to press a button of.
    if (!known) return c.json({ error: t("errors.stale_button") }, 404);
    const user = known;
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
