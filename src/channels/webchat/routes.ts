import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import type { Locale } from "../../config";
import type { Database } from "../../db/client";
import type { UserRow } from "../../db/schema";
import { createSyntheticUser, findUserByChannelId } from "../../features/users/service";
import { getI18n, resolveLocale, translator } from "../../i18n";
import type { ChannelDirectory } from "../directory";
import { syntheticChatId } from "../types";
import type { WebchatAdapter } from "./adapter";
import type { WebchatHub } from "./hub";

const COOKIE = "aimak_chat";
const PAGE_DIR = fileURLToPath(new URL("./page/", import.meta.url));
/** Telegram's own limit for one message. */
export const MAX_WEB_MESSAGE = 4096;
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
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
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
export function webchatRoutes(deps: WebchatRoutesDeps): Hono {
  const app = new Hono();
  const throttle = new Throttle(20, 10_000);

  async function currentUser(cookie: string | undefined): Promise<UserRow | undefined> {
    if (!cookie || cookie.length > 200) return undefined;
    return findUserByChannelId(deps.db, "web", tokenHash(cookie));
  }

  function localeOf(user: UserRow | undefined, acceptLanguage: string | undefined): Locale {
    return resolveLocale(user?.locale, acceptLanguage?.split(",")[0], deps.defaultLocale);
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
    let user = await currentUser(getCookie(c, COOKIE));
    if (!user) {
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
      return c.json({ userId: user.id, locale, strings: stringsFor(locale) });
    }
    const locale = localeOf(user, c.req.header("accept-language"));
    return c.json({ userId: user.id, locale, strings: stringsFor(locale) });
  });

  // Everything below needs a session.
  app.use("/chat/*", async (c, next) => {
    if (c.req.path.startsWith("/chat/assets/") || c.req.path === "/chat/session") return next();
    const user = await currentUser(getCookie(c, COOKIE));
    if (!user)
      return c.json({ error: translator(deps.defaultLocale)("errors.need_onboarding") }, 401);
    c.set("user" as never, user as never);
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
      const unsubscribe = deps.hub.subscribe(user.id, (event) => {
        void stream.writeSSE({ event: event.type, data: JSON.stringify(event.data) });
      });
      stream.onAbort(unsubscribe);
      // Keep-alives stop proxies from closing an idle stream; the loop ends when the page goes.
      while (!stream.aborted && !stream.closed) {
        await stream.write(": keep-alive\n\n");
        await stream.sleep(25_000);
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
    if (text.length > MAX_WEB_MESSAGE) {
      return c.json(
        { error: t("errors.too_long", { length: text.length, max: MAX_WEB_MESSAGE }) },
        413,
      );
    }
    const message = await deps.adapter.receiveText(user, text);
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
    const ok = await deps.adapter.receivePress(user, messageId, data);
    if (!ok) return c.json({ error: t("errors.stale_button") }, 404);
    return c.json({ ok: true }, 202);
  });

  return app;
}
