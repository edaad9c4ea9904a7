import { createHmac } from "node:crypto";
import { Writable } from "node:stream";
import { and, eq, inArray, or, sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WHATSAPP_WEBHOOK_PATH } from "../../src/channels/whatsapp";
import type {
  WaWebhookContact,
  WaWebhookMessage,
  WaWebhookStatus,
} from "../../src/channels/whatsapp/types";
import { deliveries, users, whatsappInbox } from "../../src/db/schema";
import { createLogger } from "../../src/logger";
import type { Person } from "../fixtures/fake-graph-api/server";
import { postOnce as postOnceTo } from "../helpers/http";
import { waitFor } from "../helpers/wait";
import {
  type RunningWhatsApp,
  startWhatsAppApp,
  WA_PHONE_NUMBER_ID,
  WA_VERIFY_TOKEN,
} from "../helpers/whatsapp";
import { drainInbound } from "../helpers/whatsapp-people";

/**
 * The webhook's security and robustness (issue 12, "Webhook" and the security tests), through
 * real HTTP against the whole app: the handshake, signatures, replays, oversized bodies, bodies
 * Aimak cannot read, several entries and changes in one body, and people Meta knows by their
 * business-scoped id alone.
 */
describe("WhatsApp webhook", () => {
  let wa: RunningWhatsApp;
  let wamidSerial = 0;
  /** The app's warnings and errors, one parsed pino line each. */
  const logged: { level: number; msg?: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
          logged.push(JSON.parse(line) as { level: number; msg?: string });
        }
        done();
      },
    });
    wa = await startWhatsAppApp({ logger: createLogger("warn", sink) });
  });
  afterAll(async () => {
    await wa?.stop();
  });

  const url = () => `${wa.base}${WHATSAPP_WEBHOOK_PATH}`;
  const db = () => wa.app.database.db;
  /** Resolves once every message the app accepted so far is processed (replies sent). */
  const drained = () => drainInbound(wa);

  function newWamid(): string {
    return `wamid.test-${process.pid}-${++wamidSerial}`;
  }

  function contactOf(p: Person): WaWebhookContact {
    return {
      profile: { name: p.name },
      ...(p.waId === undefined ? {} : { wa_id: p.waId }),
      user_id: p.userId,
    };
  }

  function textMessage(p: Person, text: string, wamid = newWamid()): WaWebhookMessage {
    return {
      ...(p.waId === undefined ? {} : { from: p.waId }),
      from_user_id: p.userId,
      id: wamid,
      timestamp: String(Math.floor(Date.now() / 1000)),
      type: "text",
      text: { body: text },
    };
  }

  const metadata = { display_phone_number: "15550001234", phone_number_id: WA_PHONE_NUMBER_ID };

  /** A Meta-shaped webhook body: one entry of the business account per list of changes. */
  function webhookBody(...entries: { field: string; value: unknown }[][]) {
    return {
      object: "whatsapp_business_account",
      entry: entries.map((changes, i) => ({ id: String(200_000_000_000_001 + i), changes })),
    };
  }

  /** A "messages" change to our number: the messages and statuses of `value`. */
  function messagesChange(value: object) {
    return { field: "messages", value: { messaging_product: "whatsapp", metadata, ...value } };
  }

  /** A Meta-shaped webhook body carrying one text message. */
  function textBody(p: Person, text: string, wamid = newWamid()): string {
    const change = messagesChange({
      contacts: [contactOf(p)],
      messages: [textMessage(p, text, wamid)],
    });
    return JSON.stringify(webhookBody([change]));
  }

  /** A person the fake plays, whose 24-hour window is open (raw posts do not open it). */
  function somebody(name: string, ids: { waId?: string | null; userId?: string } = {}): Person {
    const p = wa.fake.person(name, ids);
    wa.fake.openWindow(p);
    return p;
  }

  async function usersOf(p: Person) {
    const ids = [p.waId, p.userId].filter((v): v is string => Boolean(v));
    return db()
      .select()
      .from(users)
      .where(
        and(
          eq(users.channel, "whatsapp"),
          or(inArray(users.channelUserId, ids), inArray(users.channelAltId, ids)),
        ),
      );
  }

  async function inboxRows(wamid: string) {
    return db().select().from(whatsappInbox).where(eq(whatsappInbox.wamid, wamid));
  }

  /**
   * One POST on a connection of its own, resolving with the status. The app may answer 413 and
   * close before the whole body is written: the write error that follows is expected then.
   */
  const postOnce = (body: string, headers: Record<string, string>) =>
    postOnceTo(url(), body, headers);

  async function postSigned(body: string | Buffer) {
    return wa.fake.deliverRaw(body, { "x-hub-signature-256": wa.fake.sign(body) });
  }

  // ---- the verification handshake ----

  describe("GET: the verification handshake", () => {
    const handshake = (params: Record<string, string>) =>
      fetch(`${url()}?${new URLSearchParams(params)}`);

    it("answers our verify token with 200 and the challenge as the body", async () => {
      const response = await handshake({
        "hub.mode": "subscribe",
        "hub.verify_token": WA_VERIFY_TOKEN,
        "hub.challenge": "1158201444",
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("1158201444");
    });

    it.each([
      ["a wrong verify token", { "hub.mode": "subscribe", "hub.verify_token": "not-our-token" }],
      [
        "our token with a suffix",
        { "hub.mode": "subscribe", "hub.verify_token": `${WA_VERIFY_TOKEN}x` },
      ],
      ["an empty verify token", { "hub.mode": "subscribe", "hub.verify_token": "" }],
      ["no verify token", { "hub.mode": "subscribe" }],
      ["a wrong mode", { "hub.mode": "unsubscribe", "hub.verify_token": WA_VERIFY_TOKEN }],
      ["no mode", { "hub.verify_token": WA_VERIFY_TOKEN }],
    ])("refuses %s with 403 and does not echo the challenge", async (_, params) => {
      const response = await handshake({ ...params, "hub.challenge": "echo-me-1234" });
      expect(response.status).toBe(403);
      expect(await response.text()).not.toContain("echo-me-1234");
    });
  });

  // ---- signatures ----

  describe("POST: signatures", () => {
    it("refuses a missing, wrong or misplaced signature with 401 and processes nothing", async () => {
      const p = somebody("Forger");
      const wamid = newWamid();
      const body = textBody(p, "Салам", wamid);
      const other = textBody(p, "Салам!", wamid);
      const hmac = (secret: string, bytes: string) =>
        createHmac("sha256", secret).update(bytes).digest("hex");
      const attempts: [string, Record<string, string>][] = [
        ["no signature", {}],
        ["an empty signature", { "x-hub-signature-256": "" }],
        ["a wrong secret", { "x-hub-signature-256": `sha256=${hmac("not-the-secret", body)}` }],
        ["a signature over a different body", { "x-hub-signature-256": wa.fake.sign(other) }],
        ["the hex without sha256=", { "x-hub-signature-256": wa.fake.sign(body).slice(7) }],
        ["a truncated signature", { "x-hub-signature-256": wa.fake.sign(body).slice(0, 40) }],
        ["garbage", { "x-hub-signature-256": "sha256=zz" }],
        ["sha1 in the sha256 header", { "x-hub-signature-256": `sha1=${hmac("x", body)}` }],
      ];
      for (const [what, headers] of attempts) {
        const response = await wa.fake.deliverRaw(body, headers);
        expect(response.status, what).toBe(401);
      }
      await drained();

      // A signed message of someone else goes through meanwhile: the app was listening.
      const control = somebody("Control");
      expect((await postSigned(textBody(control, "Салам"))).status).toBe(200);
      await wa.fake.waitForMessages(control, 1);
      await drained();

      expect(await usersOf(p)).toEqual([]);
      expect(await inboxRows(wamid)).toEqual([]);
      expect(wa.fake.messagesTo(p)).toEqual([]);
      expect(wa.fake.sent.filter((m) => m.to === p.waId || m.recipient === p.userId)).toEqual([]);
    });
  });

  // ---- replays ----

  describe("POST: a message delivered twice is processed once", () => {
    /** What one "Салам" and one "/help" from a newcomer bring (the control's replies). */
    let afterHello = 0;
    let afterHelp = 0;

    beforeAll(async () => {
      const control = somebody("Once");
      await wa.fake.sendText(control, "Салам");
      await drained();
      afterHello = (await wa.fake.waitForMessages(control, 1)).length;
      await wa.fake.sendText(control, "/help");
      await drained();
      afterHelp = wa.fake.messagesTo(control).length;
    });

    it("the same body twice (Meta's redelivery): one inbox row, one user, one set of replies", async () => {
      expect(afterHelp).toBeGreaterThan(afterHello);
      const p = somebody("Twice");
      const hello = await wa.fake.sendText(p, "Салам", { twice: true });
      expect(hello.statuses).toEqual([200, 200]);
      await drained();
      expect(wa.fake.messagesTo(p)).toHaveLength(afterHello);

      const help = await wa.fake.sendText(p, "/help", { twice: true });
      expect(help.statuses).toEqual([200, 200]);
      await drained();
      expect(wa.fake.messagesTo(p)).toHaveLength(afterHelp);

      expect(await usersOf(p)).toHaveLength(1);
      for (const wamid of [hello.wamid, help.wamid]) {
        const rows = await inboxRows(wamid);
        expect(rows).toHaveLength(1);
        expect(rows[0]?.processedAt).not.toBeNull();
      }
    });

    it("two different bodies carrying one wamid: the first is kept, the second dropped", async () => {
      const p = somebody("Same id");
      const wamid = newWamid();
      expect((await postSigned(textBody(p, "Салам", wamid))).status).toBe(200);
      expect((await postSigned(textBody(p, "/help", wamid))).status).toBe(200);
      await drained();
      expect(wa.fake.messagesTo(p)).toHaveLength(afterHello);
      const rows = await inboxRows(wamid);
      expect(rows).toHaveLength(1);
      const message = rows[0]?.payload.message as { text?: { body?: string } } | undefined;
      expect(message?.text?.body).toBe("Салам");

      // Long after it was processed, the same id again: still nothing new.
      expect((await postSigned(textBody(p, "/help", wamid))).status).toBe(200);
      await drained();
      expect(wa.fake.messagesTo(p)).toHaveLength(afterHello);
      expect(await usersOf(p)).toHaveLength(1);
    });
  });

  // ---- sizes and shapes ----

  describe("POST: bodies Aimak cannot use", () => {
    it("answers a 10 MB body with 413 and stays healthy", async () => {
      const padding = "x".repeat(10 * 1024 * 1024);
      const huge = `{"object":"whatsapp_business_account","entry":[],"padding":"${padding}"}`;
      expect(await postOnce(huge, { "x-hub-signature-256": wa.fake.sign(huge) })).toBe(413);

      // Without a length announced up front (chunked): still refused once it is too big.
      const chunk = new TextEncoder().encode("x".repeat(1024 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 10) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const chunked = await fetch(url(), {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=00" },
        body: stream,
        duplex: "half",
      } as RequestInit & { duplex: "half" }).catch((error: unknown) => error);
      // Refused: 413, or the connection closed while the rest was still being sent.
      if (chunked instanceof Response) expect(chunked.status).toBe(413);
      else expect(chunked).toBeInstanceOf(Error);

      expect((await fetch(`${wa.base}/healthz`)).status).toBe(200);
      const after = somebody("After the flood");
      expect((await postSigned(textBody(after, "Салам"))).status).toBe(200);
      await wa.fake.waitForMessages(after, 1);
    });

    it("answers signed bodies that are not JSON with 200 and stores nothing", async () => {
      const before = await db().$count(whatsappInbox);
      for (const body of ["{ not json", "", "entry=1&changes=2", "\u0000\u0001", '{"entry":[']) {
        const response = await postSigned(body);
        expect(response.status, JSON.stringify(body)).toBe(200);
      }
      expect(await db().$count(whatsappInbox)).toBe(before);
    });

    it("answers signed JSON of unknown shapes with 200 and changes nothing", async () => {
      const usersBefore = await db().$count(users);
      const inboxBefore = await db().$count(whatsappInbox);
      const deliveriesBefore = await db().$count(deliveries);
      const unknownStatus = (status: string, extra: Partial<WaWebhookStatus> = {}) =>
        webhookBody([
          messagesChange({
            statuses: [
              {
                id: `wamid.never-sent-${status}`,
                status,
                timestamp: String(Math.floor(Date.now() / 1000)),
                recipient_id: "996700000000",
                ...extra,
              },
            ],
          }),
        ]);
      const shapes: unknown[] = [
        {},
        [],
        null,
        42,
        "a string",
        { object: "page", entry: [] },
        { object: "whatsapp_business_account" },
        { object: "whatsapp_business_account", entry: "not a list" },
        { object: "whatsapp_business_account", entry: [null, 1, { id: "1" }] },
        { object: "whatsapp_business_account", entry: [{ id: "1", changes: [null, {}] }] },
        {
          object: "whatsapp_business_account",
          entry: [
            {
              id: "1",
              changes: [
                { field: "account_update", value: { event: "VERIFIED_ACCOUNT" } },
                { field: "message_template_status_update", value: { event: "APPROVED" } },
                { field: "messages", value: null },
                { field: "messages", value: { messages: "not a list", statuses: {} } },
                {
                  field: "messages",
                  value: {
                    contacts: [null],
                    // No id; an id that is not a string; an id but no sender at all.
                    messages: [
                      null,
                      { type: "text", from: "996700000001", text: { body: "hi" } },
                      { id: 7, type: "text", from: "996700000001" },
                      { id: "wamid.no-sender", type: "text", text: { body: "hi" } },
                      { id: "x".repeat(300), type: "text", from: "996700000001" },
                    ],
                    statuses: [null, { id: 1 }, { status: "read" }],
                  },
                },
              ],
            },
          ],
        },
        unknownStatus("sent"),
        unknownStatus("delivered"),
        unknownStatus("read"),
        unknownStatus("deleted"),
        unknownStatus("failed", { errors: [{ code: 131026, title: "Message undeliverable" }] }),
        unknownStatus("failed", { errors: [{ code: 131047, title: "Re-engagement message" }] }),
        unknownStatus("failed"),
      ];
      for (const shape of shapes) {
        const response = await postSigned(JSON.stringify(shape));
        expect(response.status, JSON.stringify(shape).slice(0, 200)).toBe(200);
      }
      await drained();
      expect(await db().$count(users)).toBe(usersBefore);
      expect(await db().$count(whatsappInbox)).toBe(inboxBefore);
      expect(await db().$count(deliveries)).toBe(deliveriesBefore);
      expect((await fetch(`${wa.base}/healthz`)).status).toBe(200);
    });
  });

  describe("POST: what is logged and when the answer comes", () => {
    /** The warnings logged since `from` with this message. */
    const warnings = (from: number, msg: string) =>
      logged.slice(from).filter((l) => l.level === 40 && l.msg === msg);

    it("logs a warning for each signed body that is not JSON (answered 200)", async () => {
      const from = logged.length;
      const bodies = ["{ not json", "", '{"entry":['];
      for (const body of bodies) expect((await postSigned(body)).status).toBe(200);
      const seen = await waitFor(
        () => {
          const found = warnings(from, "whatsapp: a signed webhook that is not JSON");
          return found.length >= bodies.length && found;
        },
        undefined,
        "a warning per body that is not JSON",
      );
      expect(seen).toHaveLength(bodies.length);
    });

    it("logs a warning for signed JSON of an unknown shape (answered 200), none for a known one", async () => {
      const msg = "whatsapp: webhook parts of unknown shape ignored";
      const from = logged.length;
      const unknown = { object: "whatsapp_business_account", entry: [{ id: "1", changes: [{}] }] };
      expect((await postSigned(JSON.stringify(unknown))).status).toBe(200);
      const [warning] = await waitFor(() => {
        const found = warnings(from, msg);
        return found.length > 0 && found;
      });
      expect(warning).toMatchObject({ unknown: 1 });

      // A well-formed message is not warned about.
      const known = somebody("Known shape");
      const afterUnknown = logged.length;
      expect((await postSigned(textBody(known, "Салам"))).status).toBe(200);
      await wa.fake.waitForMessages(known, 1);
      await drained();
      expect(warnings(afterUnknown, msg)).toEqual([]);
    });

    it("answers the POST once the message is stored, while its processing still waits", async () => {
      const channel = wa.app.whatsapp;
      if (!channel) throw new Error("the WhatsApp channel is off");
      const adapter = channel.adapter;
      const original = adapter.dispatch.bind(adapter);
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The bot's handling of the message waits until the test lets it go.
      const dispatch = vi.spyOn(adapter, "dispatch").mockImplementation(async (update: Update) => {
        await held;
        return original(update);
      });
      try {
        const p = somebody("Patient");
        const wamid = newWamid();
        let answer: { status: number } | undefined;
        const posting = postSigned(textBody(p, "Салам", wamid)).then((r) => {
          answer = r;
        });
        // Processing has begun and is held; the answer comes all the same.
        await waitFor(() => dispatch.mock.calls.length > 0, undefined, "processing to start");
        await waitFor(() => answer, undefined, "the answer while processing waits");
        expect(answer?.status).toBe(200);
        await posting;
        const [stored] = await inboxRows(wamid);
        expect(stored?.processedAt).toBeNull();
        expect(wa.fake.messagesTo(p)).toEqual([]);

        release();
        await drained();
        const [processed] = await inboxRows(wamid);
        expect(processed?.processedAt).not.toBeNull();
        expect(wa.fake.messagesTo(p).length).toBeGreaterThan(0);
      } finally {
        release();
        dispatch.mockRestore();
      }
    });
  });

  // ---- several entries and changes ----

  it("handles every entry[] and changes[] of one body", async () => {
    const [a, b, c, d] = ["Асель", "Бакыт", "Чолпон", "Данияр"].map((name) => somebody(name)) as [
      Person,
      Person,
      Person,
      Person,
    ];
    const hello = (people: Person[]) => ({
      contacts: people.map(contactOf),
      messages: people.map((p) => textMessage(p, "Салам")),
    });
    const body = webhookBody(
      [messagesChange(hello([a])), messagesChange(hello([b]))],
      [
        // Something Aimak does not read, in the middle: the rest is still handled.
        { field: "account_alerts", value: { entity_type: "WABA" } },
        messagesChange({
          ...hello([c, d]),
          statuses: [
            {
              id: "wamid.unknown-status",
              status: "delivered",
              timestamp: String(Math.floor(Date.now() / 1000)),
            },
          ],
        }),
      ],
    );
    expect((await postSigned(JSON.stringify(body))).status).toBe(200);
    for (const p of [a, b, c, d]) {
      await wa.fake.waitForMessages(p, 1);
      const rows = await usersOf(p);
      expect(rows, p.name).toHaveLength(1);
      expect(rows[0]?.firstName).toBe(p.name);
    }
  });

  // ---- people known by their business-scoped id ----

  describe("people Meta knows by the business-scoped id (BSUID)", () => {
    it("a BSUID-only person is created with the BSUID; a later number joins the same row", async () => {
      const p = somebody("Username only", { waId: null });
      expect(p.waId).toBeUndefined();
      expect((await wa.fake.sendText(p, "Салам")).status).toBe(200);
      await drained();
      await wa.fake.waitForMessages(p, 1);
      const [created, ...more] = await usersOf(p);
      expect(more).toEqual([]);
      expect(created?.channelUserId).toBe(p.userId);
      expect(created?.phone).toBeNull();
      expect(created?.phoneVerifiedAt).toBeNull();

      // Later Meta sends the number too (the same BSUID): the same person, number added.
      const withNumber: Person = { ...p, waId: "996700555444" };
      expect((await wa.fake.sendText(withNumber, "/help")).status).toBe(200);
      await drained();
      const rows = await usersOf(withNumber);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.id).toBe(created?.id);
      expect(rows[0]?.channelUserId).toBe("996700555444");
      expect(rows[0]?.channelAltId).toBe(p.userId);
      expect(rows[0]?.phone).toBe("+996700555444");
      expect(rows[0]?.phoneVerifiedAt).not.toBeNull();
      const [{ n }] = (await db()
        .select({ n: sql<number>`count(*)::int` })
        .from(users)
        .where(
          and(
            eq(users.channel, "whatsapp"),
            or(eq(users.channelUserId, "996700555444"), eq(users.channelUserId, p.userId)),
          ),
        )) as [{ n: number }];
      expect(n).toBe(1);
    });

    it("a person known by number and BSUID who later comes with the BSUID alone is the same person", async () => {
      const p = somebody("Number first", { waId: "996700555666" });
      await wa.fake.sendText(p, "Салам");
      await drained();
      const [before] = await usersOf(p);
      expect(before?.channelUserId).toBe("996700555666");
      expect(before?.channelAltId).toBe(p.userId);

      const { waId: _dropped, ...bsuidOnly } = p;
      const sent = wa.fake.messagesTo(p).length;
      expect((await wa.fake.sendText(bsuidOnly, "/help")).status).toBe(200);
      await drained();
      const rows = await usersOf(p);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.id).toBe(before?.id);
      expect(rows[0]?.channelUserId).toBe("996700555666");
      // The answer reached the person (they are one person to the fake, too).
      expect(wa.fake.messagesTo(p).length).toBeGreaterThan(sent);
    });
  });
});
