import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OFFLINE_BOT_INFO } from "../../src/bot/create-bot";
import { CHANNEL_CAPABILITIES } from "../../src/channels/capabilities";
import { WhatsAppAdapter } from "../../src/channels/whatsapp/adapter";
import { WhatsAppApiError, WhatsAppClient } from "../../src/channels/whatsapp/client";
import { WhatsAppMedia } from "../../src/channels/whatsapp/media";
import { classify, whatsappSender } from "../../src/channels/whatsapp/sender";
import { parseTemplates } from "../../src/channels/whatsapp/templates";
import { createSyntheticUser } from "../../src/core/people";
import { deliveries, deliveryChannelState, users } from "../../src/db/schema";
import {
  cancelMessage,
  DeliveryEngine,
  type DeliverySender,
  sendToUsers,
} from "../../src/delivery";
import { createLogger } from "../../src/logger";
import { FakeGraphApi, type Person, type SentMessage } from "../fixtures/fake-graph-api/server";
import { createTestDatabase } from "../helpers/db";
import { drainDeliveries, waitFor } from "../helpers/wait";
import {
  approvedTemplates,
  EXAMPLE_TEMPLATES,
  WA_PHONE_NUMBER_ID,
  WA_TOKEN,
} from "../helpers/whatsapp";

/**
 * The delivery engine with the real WhatsApp sender (client → adapter → sender, as
 * src/channels/whatsapp/index.ts builds it) against the fake Graph API, on the test database:
 * what each of Meta's limits does to a broadcast (issue 12, "The 24-hour window and templates").
 * 130429 pauses the whole channel, 131056 holds back one person, 131048 pauses the channel and
 * warns staff, 131026 fails the row with the code kept; and the engine paces each person.
 * The fake refuses the next request with `failNext`; which person it was is read from its
 * record of refusals. Times compared are the fake's (when it accepted a message) and the
 * sender's (when the engine handed it a send, and when the refusal came back).
 */

/** Kept low so that a send's slot is far (100 ms) from the next: what is in flight is clear. */
const RATE = 10;

type Db = Awaited<ReturnType<typeof createTestDatabase>>["db"];
type Line = Record<string, unknown> & { msg?: string; level?: number };

interface Resident {
  person: Person;
  userId: number;
}

/** When the engine handed the sender each send, and when a refusal came back. */
interface Trace {
  calls: { to: string; at: number }[];
  errors: { to: string; at: number; error: unknown }[];
}

let handle: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let fake: FakeGraphApi;
let inner: DeliverySender;
const lines: Line[] = [];
const engines: DeliveryEngine[] = [];
const messages: number[] = [];
let residentsSoFar: Resident[] = [];

/** The app's logger (redaction and all), writing JSON lines to memory. */
const logger = createLogger(
  "info",
  new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as Line);
      done();
    },
  }),
);

beforeAll(async () => {
  handle = await createTestDatabase();
  db = handle.db;
  fake = new FakeGraphApi({
    token: WA_TOKEN,
    phoneNumberId: WA_PHONE_NUMBER_ID,
    templates: approvedTemplates(EXAMPLE_TEMPLATES),
  });
  const apiRoot = await fake.start();
  const client = new WhatsAppClient({
    apiRoot,
    phoneNumberId: WA_PHONE_NUMBER_ID,
    accessToken: WA_TOKEN,
  });
  const adapter = new WhatsAppAdapter({
    db,
    client,
    media: new WhatsAppMedia(client, undefined),
    botInfo: OFFLINE_BOT_INFO,
    defaultLocale: "ky",
    // Deliveries never dispatch updates: no bot behind the adapter.
    dispatch: async () => {},
  });
  const templates = parseTemplates(
    JSON.parse(readFileSync(EXAMPLE_TEMPLATES, "utf8")),
    EXAMPLE_TEMPLATES,
  );
  inner = whatsappSender({ db, adapter, templates, logger });
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  for (const id of messages.splice(0)) await cancelMessage(db, id);
  // A pause one test caused (131048: ten minutes) is not the next one's.
  await db
    .update(deliveryChannelState)
    .set({ pausedUntil: null, nextSlotAt: sql`now()` })
    .where(eq(deliveryChannelState.channel, "whatsapp"));
  fake.reset();
  // reset() forgets the fake's windows too: the people of earlier tests stay reachable.
  for (const r of residentsSoFar) fake.openWindow(r.person);
  lines.length = 0;
});

afterAll(async () => {
  await fake?.stop();
  await handle?.close();
});

/**
 * `count` new WhatsApp residents who wrote a minute ago (for the app and for Meta), so messages
 * to them go as normal messages. New people each test: the engine paces each person across
 * messages, and one test's sends must not hold back the next test's.
 */
async function residents(count: number): Promise<Resident[]> {
  const out: Resident[] = [];
  for (let i = 0; i < count; i++) {
    const person = fake.person(`Resident ${residentsSoFar.length + i}`);
    const waId = person.waId ?? "";
    const user = await createSyntheticUser(db, "whatsapp", waId, "ru");
    await db
      .update(users)
      .set({ channelAltId: person.userId, lastMessageAt: sql`now() - interval '1 minute'` })
      .where(eq(users.id, user.id));
    fake.openWindow(person, Date.now() - 60_000);
    out.push({ person, userId: user.id });
  }
  residentsSoFar = [...residentsSoFar, ...out];
  return out;
}

/** The real sender, recording when the engine called it and what it threw. */
function traced(): { sender: DeliverySender; trace: Trace } {
  const trace: Trace = { calls: [], errors: [] };
  const sender: DeliverySender = {
    gatesRequests: inner.gatesRequests === true,
    async send(recipient, message, gate) {
      const to = recipient.channelUserId ?? "";
      trace.calls.push({ to, at: Date.now() });
      try {
        return await inner.send(recipient, message, gate);
      } catch (error) {
        trace.errors.push({ to, at: Date.now(), error });
        throw error;
      }
    },
  };
  return { sender, trace };
}

function startEngine(options: { perChatSeconds?: number } = {}): Trace {
  const { sender, trace } = traced();
  const engine = new DeliveryEngine(db, {
    channels: [{ channel: "whatsapp", sender, limitPerSecond: RATE, ...options }],
    logger,
    idlePollMs: 50,
    backoffBaseMs: 50,
  });
  engine.start();
  engines.push(engine);
  return trace;
}

async function broadcast(to: Resident[], text: string): Promise<number> {
  const id = await sendToUsers(db, {
    kind: "announcement",
    municipalityId: null,
    createdByUserId: null,
    content: { text: { ru: text } },
    userIds: to.map((r) => r.userId),
  });
  messages.push(id);
  return id;
}

function rowsOf(messageId: number) {
  return db.select().from(deliveries).where(eq(deliveries.messageId, messageId));
}

async function channelPausedUntil(): Promise<Date | null> {
  const [row] = await db
    .select({ pausedUntil: deliveryChannelState.pausedUntil })
    .from(deliveryChannelState)
    .where(eq(deliveryChannelState.channel, "whatsapp"));
  return row?.pausedUntil ?? null;
}

/** The one refusal of the test, with the resident it was for. */
function onlyRefusal(people: Resident[], code: number) {
  expect(fake.refused.map((r) => r.code)).toEqual([code]);
  const refusal = fake.refused[0]!;
  const to = (refusal.body as { to?: string }).to;
  const resident = people.find((r) => r.person.waId === to);
  if (!resident) throw new Error(`the refusal was for nobody of this test: ${to}`);
  return { at: refusal.at, resident };
}

/** The sender's error for a code, as the engine got it, and when it came back. */
function errorSeen(trace: Trace, code: number) {
  const seen = trace.errors.find((e) => String(e.error).includes(String(code)));
  if (!seen) throw new Error(`the sender threw no ${code}: ${trace.errors.map(String).join()}`);
  return seen;
}

/** How long the engine holds back after a code, as the sender classifies it. */
function holdMs(code: number): number {
  const seconds = classify(new WhatsAppApiError(code, 400, "refused")).retryAfterSeconds;
  if (seconds === undefined) throw new Error(`${code} names no wait`);
  return seconds * 1000;
}

/** Messages the fake accepted after `from` and before `until`, as if nobody else sent. */
function acceptedBetween(from: number, until: number): SentMessage[] {
  return fake.sent.filter((m) => m.at > from && m.at < until);
}

/**
 * Every message accepted in the pause came from a send the engine had started before it learned
 * of the refusal (already on its way); none was started after it.
 */
function expectNothingStartedIn(trace: Trace, learnedAt: number, pauseMs: number) {
  const startedInPause = trace.calls.filter((c) => c.at > learnedAt && c.at < learnedAt + pauseMs);
  expect(startedInPause).toEqual([]);
  for (const m of acceptedBetween(learnedAt, learnedAt + pauseMs)) {
    expect(trace.calls.some((c) => c.to === m.to && c.at <= learnedAt)).toBe(true);
  }
}

function expectEachOnce(people: Resident[]) {
  for (const r of people) expect(fake.messagesTo(r.person)).toHaveLength(1);
  expect(fake.stats().duplicates).toBe(0);
  expect(fake.sent).toHaveLength(people.length);
}

describe("the delivery engine against Meta's limits (fake Graph API)", () => {
  it("130429 (throughput): the channel pauses for everyone, then every message goes out once", async () => {
    const people = await residents(5);
    fake.failNext(130429);
    const trace = startEngine();
    const messageId = await broadcast(people, "throughput");
    await drainDeliveries(db, { messageId });

    const refusal = onlyRefusal(people, 130429);
    const learned = errorSeen(trace, 130429);
    const pauseMs = holdMs(130429);
    expect(pauseMs).toBeGreaterThanOrEqual(1000);
    expectNothingStartedIn(trace, learned.at, pauseMs);
    // The channel resumed: the refused person and everyone not yet sent got theirs after it.
    const afterPause = fake.sent.filter((m) => m.at >= learned.at + pauseMs);
    expect(afterPause.map((m) => m.to)).toContain(refusal.resident.person.waId);
    // Nothing lost, nothing twice.
    expectEachOnce(people);
    const rows = await rowsOf(messageId);
    expect(rows.map((r) => r.status)).toEqual(people.map(() => "sent"));
  });

  it("131056 (pair rate): only that person is held back; the others go on", async () => {
    const people = await residents(4);
    fake.failNext(131056);
    startEngine();
    const messageId = await broadcast(people, "pair rate");
    await drainDeliveries(db, { messageId });

    const refusal = onlyRefusal(people, 131056);
    const held = refusal.resident;
    const heldAt = fake.messagesTo(held.person)[0]?.at ?? Number.NaN;
    // Held back by the channel's per-person interval (Meta names no wait)…
    const delayMs = holdMs(131056);
    expect(delayMs).toBe(CHANNEL_CAPABILITIES.whatsapp.perChatIntervalSeconds * 1000);
    expect(heldAt - refusal.at).toBeGreaterThanOrEqual(delayMs);
    // …while the others went on without them, and the channel was never paused.
    for (const r of people.filter((p) => p !== held)) {
      expect(fake.messagesTo(r.person)[0]?.at).toBeLessThan(heldAt);
    }
    expect(await channelPausedUntil()).toBeNull();
    expectEachOnce(people);
    const rows = await rowsOf(messageId);
    expect(rows.map((r) => r.status)).toEqual(people.map(() => "sent"));
  });

  it("131048 (spam rate): the channel pauses for minutes and staff are warned in the log", async () => {
    const people = await residents(3);
    fake.failNext(131048);
    const trace = startEngine();
    const messageId = await broadcast(people, "spam rate");

    const warning = await waitFor(
      () => lines.find((l) => l.level === 40 && /spam/i.test(l.msg ?? "")),
      undefined,
      "the spam-rate warning",
    );
    expect(warning).toMatchObject({ code: 131048 });
    const refusal = onlyRefusal(people, 131048);
    // Settled: nothing in flight, and the refused row is back in the queue with its error.
    const rows = await waitFor(async () => {
      const now = await rowsOf(messageId);
      const refused = now.find((r) => r.userId === refusal.resident.userId);
      const settled = !now.some((r) => r.status === "sending") && refused?.status === "pending";
      return settled && /131048/.test(refused?.lastError ?? "") ? now : undefined;
    });
    const learned = errorSeen(trace, 131048);
    const pauseMs = holdMs(131048);
    expect(pauseMs).toBeGreaterThanOrEqual(60_000);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "delivery: 429, channel paused", seconds: pauseMs / 1000 }),
    );
    // Paused for every process (the shared clock) for the whole time.
    const until = (await channelPausedUntil())?.getTime() ?? 0;
    expect(until).toBeGreaterThanOrEqual(learned.at + pauseMs - 1000);
    // No send started since; rows the engine had claimed wait for the pause's end (those it had
    // not claimed yet are behind the channel's pause).
    expectNothingStartedIn(trace, learned.at, pauseMs);
    for (const row of rows.filter((r) => r.status !== "sent")) {
      expect(row.status).toBe("pending");
      if (row.lastError !== null) {
        expect(row.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(learned.at + pauseMs - 1000);
      }
    }
    // The refused person got nothing; nobody got a message twice.
    expect(fake.messagesTo(refusal.resident.person)).toEqual([]);
    expect(fake.stats().duplicates).toBe(0);
  });

  it("131026 (undeliverable): the delivery fails with Meta's code kept; the others arrive", async () => {
    const people = await residents(3);
    fake.failNext(131026);
    startEngine();
    const messageId = await broadcast(people, "undeliverable");
    await drainDeliveries(db, { messageId });

    const refusal = onlyRefusal(people, 131026);
    const rows = await rowsOf(messageId);
    const failed = rows.find((r) => r.userId === refusal.resident.userId);
    expect(failed?.status).toBe("failed");
    expect(failed?.lastError).toContain("131026");
    // Failed for good: not tried again.
    expect(fake.stats().requests).toBe(people.length);
    expect(fake.messagesTo(refusal.resident.person)).toEqual([]);
    const others = people.filter((p) => p !== refusal.resident);
    for (const r of others) expect(fake.messagesTo(r.person)).toHaveLength(1);
    const statuses = rows.filter((r) => r !== failed).map((r) => r.status);
    expect(statuses).toEqual(others.map(() => "sent"));
  });

  it("paces each person: two messages to one person are at least the per-chat interval apart", async () => {
    // The configured interval, short so the test is quick; the default (6 s, the declared
    // capability) is asserted in tests/unit/channel-capabilities.test.ts.
    const perChatSeconds = 1.5;
    const people = await residents(2);
    startEngine({ perChatSeconds });
    const first = await broadcast(people, "first");
    const second = await broadcast(people, "second");
    await drainDeliveries(db, { messageId: first });
    await drainDeliveries(db, { messageId: second });

    for (const r of people) {
      const got = fake.messagesTo(r.person);
      expect(got).toHaveLength(2);
      // Date.now() truncates to the millisecond: 1 ms of slack, no more.
      expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(perChatSeconds * 1000 - 1);
    }
    const rows = await db
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(inArray(deliveries.messageId, [first, second]));
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => "sent"));
    expect(fake.stats().duplicates).toBe(0);
  });
});
