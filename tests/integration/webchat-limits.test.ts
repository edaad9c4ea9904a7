import { sql } from "drizzle-orm";
import type { UserFromGetMe } from "grammy/types";
import type { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { ChannelDirectory } from "../../src/channels/directory";
import { WebchatAdapter } from "../../src/channels/webchat/adapter";
import { WebchatHub } from "../../src/channels/webchat/hub";
import { CSRF_HEADER, webchatRoutes } from "../../src/channels/webchat/routes";
import { rowsOf } from "../../src/db/client";
import { translator } from "../../src/i18n";
import { useTestDatabase } from "../helpers/db";

/**
 * The web chat's budgets are shared by every app instance on the database (rate_limits), and a
 * visitor becomes a person (a users row) only with their first message. Two route instances on
 * one database stand for two app processes behind a load balancer; requests carry the client's
 * address in X-Forwarded-For, as a trusted proxy sets it.
 */
describe("web chat: shared rate limits and visitors without a row", () => {
  const handle = useTestDatabase();
  const BOT = { id: 1, is_bot: true, first_name: "Aimak", username: "aimak_bot" } as UserFromGetMe;
  let a: Hono;
  let b: Hono;
  /** The updates the bot would have handled (the bot itself is not part of this test). */
  const dispatched: unknown[] = [];

  function instance(): Hono {
    const db = handle.db;
    const hub = new WebchatHub();
    const adapter = new WebchatAdapter(db, hub, BOT, async (update) => {
      dispatched.push(update);
    });
    return webchatRoutes({
      db,
      adapter,
      hub,
      directory: new ChannelDirectory(db),
      defaultLocale: "ky",
      trustProxy: true,
      limits: {
        sendPerSession: { name: "webchat:send:session", limit: 3, windowMs: 600_000 },
        sendPerAddress: { name: "webchat:send:ip", limit: 5, windowMs: 600_000 },
        sessionPerAddress: { name: "webchat:session:ip", limit: 8, windowMs: 600_000 },
      },
    });
  }

  beforeAll(() => {
    a = instance();
    b = instance();
  });

  const users = async () =>
    Number(
      rowsOf<{ n: number }>(await handle.db.execute(sql`select count(*)::int as n from users`))[0]
        ?.n,
    );

  interface Session {
    cookie: string;
    csrf: string;
    userId: number;
    address: string;
    language: string;
  }

  async function open(app: Hono, address: string, language = "ky"): Promise<Session> {
    const res = await app.request("/chat/session", {
      method: "POST",
      headers: { "x-forwarded-for": address, "accept-language": language },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { csrf: string; userId: number };
    const cookie = res.headers.get("set-cookie")?.split(";")[0] ?? "";
    return { cookie, csrf: body.csrf, userId: body.userId, address, language };
  }

  async function send(app: Hono, s: Session, text: string): Promise<Response> {
    const res = await app.request("/chat/send", {
      method: "POST",
      headers: {
        cookie: s.cookie,
        "content-type": "application/json",
        [CSRF_HEADER]: s.csrf,
        "x-forwarded-for": s.address,
        "accept-language": s.language,
      },
      body: JSON.stringify({ text }),
    });
    // The server replaces the cookie once the person exists, as a browser would keep it.
    const replaced = res.headers.get("set-cookie")?.split(";")[0];
    if (replaced) s.cookie = replaced;
    return res;
  }

  it("opens sessions without a person and makes one at the first message", async () => {
    const before = await users();
    const sessions: Session[] = [];
    for (let i = 0; i < 6; i++) sessions.push(await open(i % 2 ? a : b, "198.51.100.1"));
    expect(await users()).toBe(before);
    expect(new Set(sessions.map((s) => s.userId)).size).toBe(6);

    // Reading and listening create nobody either.
    const visitor = sessions[0] as Session;
    const history = await a.request("/chat/history", { headers: { cookie: visitor.cookie } });
    expect(await history.json()).toEqual({ messages: [] });
    expect(await users()).toBe(before);

    // The first message makes the person, with the id the session announced, on any instance.
    expect((await send(b, visitor, "/start")).status).toBe(202);
    expect(await users()).toBe(before + 1);
    const [row] = rowsOf<{ id: number; channel: string }>(
      await handle.db.execute(sql`select id::int, channel from users order by id desc limit 1`),
    );
    expect(row).toEqual({ id: visitor.userId, channel: "web" });
    // The cookie now holds only the secret; the session still names the same person.
    expect(visitor.cookie).not.toContain(`=${visitor.userId}.`);
    const again = await a.request("/chat/session", {
      method: "POST",
      headers: { cookie: visitor.cookie, "x-forwarded-for": visitor.address },
    });
    expect(((await again.json()) as { userId: number }).userId).toBe(visitor.userId);
    expect((await send(a, visitor, "second")).status).toBe(202);
    expect(await users()).toBe(before + 1);
    expect(dispatched.length).toBeGreaterThanOrEqual(2);
  });

  it("keeps a visitor's event stream open until their first message, on any instance", async () => {
    for (const [streamOn, sendOn] of [
      [a, a],
      [a, b],
    ] as const) {
      const visitor = await open(a, "198.51.100.3");
      const res = await streamOn.request("/chat/events", { headers: { cookie: visitor.cookie } });
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value);
      expect(text).toContain("event: ping");
      expect(await users()).toBeGreaterThan(0);
      const before = await users();
      expect((await send(sendOn, visitor, "/start")).status).toBe(202);
      expect(await users()).toBe(before + 1);
      // The stream ends once the person exists (at once here; within a poll when the message
      // went to the other instance), telling the browser to reconnect soon: to a real stream.
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value);
      }
      expect(text).toMatch(/retry: \d+/);
    }
  });

  it("never lets a forged cookie take an id that is not its own to take", async () => {
    const secret = "x".repeat(42);
    const before = await users();
    const [taken] = rowsOf<{ id: number }>(
      await handle.db.execute(sql`select id::int from users limit 1`),
    );
    for (const claimed of [taken?.id ?? 1, 9_000_000]) {
      const s = await open(a, "198.51.100.2");
      const forged: Session = { ...s, cookie: `aimak_chat=${claimed}.${secret}${claimed % 10}` };
      const session = await a.request("/chat/session", {
        method: "POST",
        headers: { cookie: forged.cookie, "x-forwarded-for": forged.address },
      });
      forged.csrf = ((await session.json()) as { csrf: string }).csrf;
      expect((await send(a, forged, "hello")).status).toBe(202);
      const ids = rowsOf<{ id: number }>(
        await handle.db.execute(sql`select id::int from users where id = ${claimed}`),
      );
      // The taken id keeps its one row; the id the sequence never handed out stays unused.
      expect(ids.length).toBe(claimed === 9_000_000 ? 0 : 1);
    }
    expect(await users()).toBe(before + 2);
  });

  it("shares the session's and the address's budgets between instances, refused in the person's language", async () => {
    const ru = translator("ru")("errors.too_fast");
    const s = await open(a, "203.0.113.5", "ru");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(i % 2 ? a : b, s, `q${i}`)).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const refused = await send(a, s, "again");
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: ru });

    // The address has spent 5 of 5 (refused hits count too): a fresh session there is refused
    // at once, on either instance; another address is not.
    const neighbour = await open(b, "203.0.113.5", "en");
    const turnedAway = await send(b, neighbour, "hi");
    expect(turnedAway.status).toBe(429);
    expect(await turnedAway.json()).toEqual({ error: translator("en")("errors.too_fast") });
    const elsewhere = await open(b, "203.0.113.6");
    expect((await send(a, elsewhere, "hi")).status).toBe(202);
  });

  it("bounds new sessions per address across instances; resuming one is free", async () => {
    const address = "192.0.2.44";
    const statuses: number[] = [];
    let first: Session | undefined;
    for (let i = 0; i < 9; i++) {
      const res = await (i % 2 ? a : b).request("/chat/session", {
        method: "POST",
        headers: { "x-forwarded-for": address, "accept-language": "ru" },
      });
      statuses.push(res.status);
      if (i === 0)
        first = { cookie: res.headers.get("set-cookie")?.split(";")[0] ?? "" } as Session;
      if (res.status === 429) {
        expect(await res.json()).toEqual({ error: translator("ru")("errors.too_fast") });
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    const resumed = await a.request("/chat/session", {
      method: "POST",
      headers: { cookie: first?.cookie ?? "", "x-forwarded-for": address },
    });
    expect(resumed.status).toBe(200);
    // X-Forwarded-For counts only behind a trusted proxy: the last address, the proxy's own view.
    const spoofed = await a.request("/chat/session", {
      method: "POST",
      headers: { "x-forwarded-for": `10.9.9.9, ${address}` },
    });
    expect(spoofed.status).toBe(429);
  });
});
