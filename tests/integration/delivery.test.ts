import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL_CAPABILITIES } from "../../src/channels/capabilities";
import { ChannelError } from "../../src/channels/types";
import { openDatabase } from "../../src/db/client";
import { deliveries, deliveryChannelState, outgoingMessages, users } from "../../src/db/schema";
import {
  adapterSender,
  cancelMessage,
  createOutgoingMessage,
  createTelegramApi,
  DeliveryEngine,
  type DeliveryEngineOptions,
  enqueueAudience,
  enqueueUsers,
  getMessageProgress,
  renderForRecipient,
  sendToUsers,
  startMessage,
  telegramSender,
} from "../../src/delivery";
import { claimDue, pauseChannel } from "../../src/delivery/claims";
import { reapExpiredLeases } from "../../src/delivery/transitions";
import { Scheduler } from "../../src/scheduler";
import { FakeBotApi, type FakeBotApiOptions } from "../fixtures/fake-bot-api/server";
import { createTestDatabase, isServerDatabase } from "../helpers/db";
import {
  grantRole,
  seedMunicipalities,
  seedResidents,
  seedUsers,
} from "../helpers/delivery-fixtures";
import { drainDeliveries, waitFor } from "../helpers/wait";

const TOKEN = `42:${"x".repeat(35)}`;

let handle: Awaited<ReturnType<typeof createTestDatabase>>;
let muniA: number;
let muniB: number;
let nextChat = 10_000;
const running: { stop(): Promise<void> }[] = [];
const servers: FakeBotApi[] = [];

beforeAll(async () => {
  handle = await createTestDatabase();
  [muniA, muniB] = (await seedMunicipalities(handle.db, 2)) as [number, number];
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const s of servers.splice(0)) await s.close();
});

afterAll(async () => {
  await handle.close();
});

async function fakeServer(options: FakeBotApiOptions = {}): Promise<FakeBotApi> {
  const server = new FakeBotApi({ keepMessages: true, ...options });
  await server.listen();
  servers.push(server);
  return server;
}

function engineFor(
  server: FakeBotApi,
  options: Partial<DeliveryEngineOptions> = {},
): DeliveryEngine {
  const api = createTelegramApi({ token: TOKEN, apiRoot: server.apiRoot, timeoutSeconds: 5 });
  const engine = new DeliveryEngine(handle.db, {
    channels: [{ channel: "telegram", sender: telegramSender(api) }],
    idlePollMs: 100,
    backoffBaseMs: 50,
    ...options,
  });
  engine.start();
  running.push(engine);
  return engine;
}

async function residents(count: number, municipalityId = muniA): Promise<number[]> {
  const first = nextChat;
  nextChat += count + 10;
  return seedResidents(handle.db, municipalityId, count, first);
}

async function chatIdsOf(userIds: number[]): Promise<number[]> {
  const rows = await handle.db
    .select({ id: users.id, chatId: users.chatId })
    .from(users)
    .where(sql`${users.id} = any(${`{${userIds.join(",")}}`}::bigint[])`);
  const byId = new Map(rows.map((r) => [r.id, r.chatId]));
  return userIds.map((id) => byId.get(id)!);
}

async function broadcastTo(userIds: number[], text = "Салам"): Promise<number> {
  return sendToUsers(handle.db, {
    kind: "announcement",
    municipalityId: muniA,
    createdByUserId: null,
    content: { text: { ky: text, ru: `${text} (ru)` } },
    userIds,
  });
}

/** Waits until every delivery of a message (enqueued when it was created) is finished. */
function settled(messageId: number, timeoutMs?: number): Promise<void> {
  return drainDeliveries(handle.db, { messageId, ...(timeoutMs ? { timeoutMs } : {}) });
}

describe("content", () => {
  it("gives each recipient their language, else ky, else ru", () => {
    const content = {
      text: { ky: "Кыргызча", ru: "Русский" },
      buttons: [[{ text: { ky: "Ооба", ru: "Да" }, callbackData: "x:1" }]],
    };
    expect(renderForRecipient(content, "ru").text).toBe("Русский");
    expect(renderForRecipient(content, "en").text).toBe("Кыргызча");
    expect(renderForRecipient({ text: { ru: "Только" } }, "ky").text).toBe("Только");
    expect(renderForRecipient(content, "ru").buttons?.[0]?.[0]).toEqual({
      text: "Да",
      callbackData: "x:1",
    });
  });

  it("refuses content without text or with a too long caption", async () => {
    await expect(
      createOutgoingMessage(handle.db, {
        kind: "announcement",
        municipalityId: muniA,
        createdByUserId: null,
        content: { text: {} },
      }),
    ).rejects.toThrow();
    await expect(
      createOutgoingMessage(handle.db, {
        kind: "announcement",
        municipalityId: muniA,
        createdByUserId: null,
        content: { text: { ky: "a".repeat(1025) }, photo: "file-id" },
      }),
    ).rejects.toThrow();
  });
});

describe("enqueueing", () => {
  it("selects the audience with one statement, only active users, idempotently", async () => {
    const [m] = await seedMunicipalities(handle.db, 1);
    const ids = await seedUsers(handle.db, [
      { chatId: 900_001, municipalityId: m! },
      { chatId: 900_002, municipalityId: m!, topics: ["polls"] },
      { chatId: 900_003, municipalityId: m!, inactive: true },
      { chatId: 900_004, municipalityId: muniB },
      { chatId: 900_005, municipalityId: muniB },
    ]);
    await grantRole(handle.db, ids[4]!, "deputy", m!);
    const message = await createOutgoingMessage(handle.db, {
      kind: "announcement",
      municipalityId: m!,
      createdByUserId: null,
      content: { text: { ky: "x" } },
    });
    expect(
      await enqueueAudience(handle.db, message.id, { municipalityId: m!, topic: "announcements" }),
    ).toBe(1);
    expect(await enqueueAudience(handle.db, message.id, { municipalityId: m! })).toBe(1);
    expect(await enqueueAudience(handle.db, message.id, { municipalityId: m! })).toBe(0);
    expect(
      await enqueueAudience(handle.db, message.id, { municipalityId: m!, role: "deputy" }),
    ).toBe(1);
    expect(await enqueueUsers(handle.db, message.id, [ids[0]!, ids[2]!, ids[3]!])).toBe(1);
    const rows = await handle.db
      .select({ userId: deliveries.userId })
      .from(deliveries)
      .where(eq(deliveries.messageId, message.id));
    expect(rows.map((r) => r.userId).sort()).toEqual([ids[0], ids[1], ids[3], ids[4]].sort());
  });
});

describe("delivery engine", () => {
  it("sends every recipient one message in their language", async () => {
    const server = await fakeServer();
    const ids = await residents(12);
    const id = await broadcastTo(ids, "Жыйын");
    engineFor(server);
    await settled(id);
    const p = await getMessageProgress(handle.db, id);
    expect(p.sent).toBe(12);
    expect(server.stats().duplicates).toBe(0);
    for (const chat of await chatIdsOf(ids)) expect(server.receivedBy(chat)).toBe(1);
    expect(server.messages[0]?.payload.text).toBe("Жыйын");
  });

  it("marks a user who blocked the bot (403) inactive and skips the row", async () => {
    const ids = await residents(4);
    const chats = await chatIdsOf(ids);
    const server = await fakeServer({ blockedChats: [chats[1]!] });
    const id = await broadcastTo(ids);
    engineFor(server);
    await settled(id);
    const [blocked] = await handle.db.select().from(users).where(eq(users.id, ids[1]!));
    expect(blocked?.inactive).toBe(true);
    expect(blocked?.inactiveReason).toBe("blocked");
    const rows = await handle.db.select().from(deliveries).where(eq(deliveries.messageId, id));
    const row = rows.find((r) => r.userId === ids[1]);
    expect(row?.status).toBe("skipped");
    expect(row?.skipReason).toBe("blocked");
    expect(rows.filter((r) => r.status === "sent")).toHaveLength(3);
    // Nothing is sent to them again.
    const again = await broadcastTo([ids[1]!]);
    const [m] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, again));
    expect(m?.status === "sending" || m?.status === "done").toBe(true);
    expect((await getMessageProgress(handle.db, again)).total).toBe(0);
  });

  it("pauses the channel on 429 for retry_after, then resumes", async () => {
    let first429At = 0;
    const server = await fakeServer({
      fault: ({ method }) => {
        if (method === "sendMessage" && first429At === 0) {
          first429At = Date.now();
          return { status: 429, description: "Too Many Requests: retry after 2", retryAfter: 2 };
        }
        return undefined;
      },
    });
    const ids = await residents(6);
    const id = await broadcastTo(ids);
    // Two sends a second: the send after the 429 is due 0.5 s later, long enough for the engine
    // to have read the 429 even on a loaded machine (at 30/s it is due 33 ms later, when a slow
    // engine may not have, and "nothing during the pause" would race). Without the pause the
    // other five would go out at 0.5 s intervals, inside the pause, so the test still fails.
    const api = createTelegramApi({ token: TOKEN, apiRoot: server.apiRoot, timeoutSeconds: 5 });
    const engine = engineFor(server, {
      channels: [{ channel: "telegram", sender: telegramSender(api), limitPerSecond: 2 }],
    });
    await waitFor(() => first429At > 0, undefined, "the 429");
    // The engine writes the pause after it reads the 429: wait for the row, not for the 429.
    // Written at or after the 429, for retry_after (2 s), whatever the time it is read.
    const pausedUntil = await waitFor(
      async () => {
        const [state] = await handle.db
          .select({ pausedUntil: deliveryChannelState.pausedUntil })
          .from(deliveryChannelState)
          .where(eq(deliveryChannelState.channel, "telegram"));
        return state?.pausedUntil?.getTime();
      },
      undefined,
      "the channel's pause to be written",
    );
    expect(pausedUntil).toBeGreaterThanOrEqual(first429At + 2_000);
    expect(pausedUntil).toBeLessThanOrEqual(Date.now() + 2_000);
    await settled(id);
    expect(engine.counters.rateLimited).toBe(1);
    expect((await getMessageProgress(handle.db, id)).sent).toBe(6);
    // Nothing went out while the channel was paused.
    const during = server.messages.filter(
      (m) => m.at > first429At + 5 && m.at < first429At + 2_000 - 50,
    );
    expect(during).toHaveLength(0);
    expect(server.stats().duplicates).toBe(0);
  });

  it("retries network errors and 5xx with backoff, then fails keeping the error", async () => {
    const ids = await residents(2);
    const chats = await chatIdsOf(ids);
    const server = await fakeServer({
      fault: ({ chatId, attemptForChat }) => {
        if (chatId === chats[0] && attemptForChat <= 2) {
          return { status: 502, description: "Bad Gateway" };
        }
        if (chatId === chats[1]) return { status: 500, description: "Internal Server Error" };
        return undefined;
      },
    });
    const id = await broadcastTo(ids);
    engineFor(server, { maxAttempts: 3 });
    await settled(id);
    const rows = await handle.db.select().from(deliveries).where(eq(deliveries.messageId, id));
    const ok = rows.find((r) => r.userId === ids[0]);
    const bad = rows.find((r) => r.userId === ids[1]);
    expect(ok?.status).toBe("sent");
    expect(ok?.attempts).toBe(3);
    expect(bad?.status).toBe("failed");
    expect(bad?.attempts).toBe(3);
    expect(bad?.lastError).toContain("Internal Server Error");
  });

  it("stops sending within a second of a cancel", async () => {
    const server = await fakeServer();
    const ids = await residents(120);
    const id = await broadcastTo(ids);
    engineFor(server);
    await waitFor(() => server.stats().sentMessages >= 10, undefined, "first sends");
    expect(await cancelMessage(handle.db, id)).toBe(true);
    // The engine knows of the cancel once cancelMessage has returned (an in-process event), so
    // the second counts from here, not from before the cancel's transaction (slow under load).
    const cancelledAt = Date.now();
    // Every row ends skipped or sent; a send in flight is recorded only after its answer, so
    // after this nothing more can reach the server.
    await settled(id);
    const late = server.messages.filter((m) => m.at > cancelledAt + 1_000);
    expect(late).toHaveLength(0);
    const p = await getMessageProgress(handle.db, id);
    expect(p.skipped).toBeGreaterThan(50);
    expect(p.sent).toBe(server.stats().sentMessages);
  });

  it("re-queues rows of a dead worker after their lease and sends them once", async () => {
    const server = await fakeServer();
    const ids = await residents(3);
    const id = await broadcastTo(ids);
    // A "worker" claims the rows and dies without recording anything.
    const claimed = await claimDue(handle.db, "telegram", 10, 60, 1, "dead-worker");
    expect(claimed.map((r) => r.userId).sort()).toEqual([...ids].sort());
    // The 60 s lease is still running now; judged a minute later (an injected time, no sleep)
    // it has passed.
    expect(await reapExpiredLeases(handle.db)).toBe(0);
    expect(await reapExpiredLeases(handle.db, new Date(Date.now() + 61_000))).toBe(3);
    engineFor(server);
    await settled(id);
    expect((await getMessageProgress(handle.db, id)).sent).toBe(3);
    expect(server.stats().duplicates).toBe(0);
  });

  it("skips recipients their channel cannot reach and holds those who are away", async () => {
    const server = await fakeServer();
    const [webUser, webOnline, webAway] = await seedUsers(handle.db, [
      { chatId: 2 ** 52 + 700_001, municipalityId: muniA, channel: "web" },
      { chatId: 2 ** 52 + 700_002, municipalityId: muniA, channel: "web" },
      { chatId: 2 ** 52 + 700_003, municipalityId: muniA, channel: "web" },
    ]);
    const calls: { method: string; payload: Record<string, unknown> }[] = [];
    const webSender = adapterSender({
      channel: "web",
      capabilities: CHANNEL_CAPABILITIES.web,
      canReach: (chatId) => chatId !== 2 ** 52 + 700_001,
      // Away: the adapter keeps the message for them (a web chat's history).
      isPresent: (chatId) => chatId === 2 ** 52 + 700_002,
      call: async (method, payload) => {
        calls.push({ method, payload });
        return { message_id: calls.length };
      },
    });
    const api = createTelegramApi({ token: TOKEN, apiRoot: server.apiRoot });
    const engine = new DeliveryEngine(handle.db, {
      channels: [
        { channel: "telegram", sender: telegramSender(api) },
        { channel: "web", sender: webSender },
      ],
      idlePollMs: 100,
    });
    engine.start();
    running.push(engine);
    const id = await broadcastTo([webUser!, webOnline!, webAway!]);
    await settled(id);
    const rows = await handle.db.select().from(deliveries).where(eq(deliveries.messageId, id));
    expect(rows.find((r) => r.userId === webUser)?.skipReason).toBe("unreachable");
    expect(rows.find((r) => r.userId === webOnline)?.status).toBe("sent");
    expect(rows.find((r) => r.userId === webAway)).toMatchObject({ status: "held" });
    expect(rows.find((r) => r.userId === webAway)?.channelMessageId).toEqual(expect.any(String));
    expect(await getMessageProgress(handle.db, id)).toMatchObject({
      sent: 1,
      held: 1,
      unreachable: 1,
    });
    expect(calls.map((c) => c.method)).toEqual(["sendMessage", "sendMessage"]);
  });

  it("treats an unexpected sender exception as transient", async () => {
    const [u] = await residents(1);
    let n = 0;
    const engine = new DeliveryEngine(handle.db, {
      channels: [
        {
          channel: "telegram",
          sender: {
            send: async () => {
              n++;
              if (n === 1) throw new Error("socket hang up");
              if (n === 2) throw new ChannelError("transient", "503");
              return { channelMessageId: "7" };
            },
          },
        },
      ],
      idlePollMs: 100,
      backoffBaseMs: 20,
    });
    engine.start();
    running.push(engine);
    const id = await broadcastTo([u!]);
    await settled(id);
    const [row] = await handle.db.select().from(deliveries).where(eq(deliveries.messageId, id));
    expect(row?.status).toBe("sent");
    expect(row?.channelMessageId).toBe("7");
  });
});

describe("scheduler", () => {
  it("fires a scheduled broadcast exactly once at its time with two instances running", async () => {
    const server = await fakeServer();
    const ids = await residents(8);
    const scheduledAt = new Date(Date.now() + 2_000);
    const message = await createOutgoingMessage(handle.db, {
      kind: "announcement",
      municipalityId: muniA,
      createdByUserId: null,
      content: { text: { ky: "Убакытында" } },
      audience: { municipalityId: muniA, topic: "announcements" },
      scheduledAt,
    });
    // Only these 8 should be in the audience: move everyone else of muniA out of it.
    await handle.db.execute(
      sql`update users set topics = '{}' where municipality_id = ${muniA}::int
        and id <> all(${`{${ids.join(",")}}`}::bigint[])`,
    );
    const finished: number[] = [];
    for (let i = 0; i < 2; i++) {
      engineFor(server);
      const scheduler = new Scheduler({
        db: handle.db,
        timezone: "Asia/Bishkek",
        hooks: {
          announcement: {
            onFinished: async (m) => {
              finished.push(m.id);
            },
          },
        },
      });
      scheduler.start();
      running.push(scheduler);
    }
    // Nothing before its time: checked below on the arrival times of every message (a look at
    // the count after a fixed sleep would race with a slow setup that reaches scheduledAt first).
    await waitFor(() => finished.includes(message.id), undefined, "the scheduled broadcast");
    // Time passing is the point: the other instance gets more ticks in which a duplicate start or
    // finish would show. The sleep is a lower bound; a slow machine only lengthens the watch.
    await new Promise((r) => setTimeout(r, 1_500));
    const [row] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, message.id));
    expect(row?.status).toBe("done");
    expect(row!.startedAt!.getTime()).toBeGreaterThanOrEqual(scheduledAt.getTime() - 5);
    expect(finished.filter((f) => f === message.id)).toHaveLength(1);
    expect(server.stats().sentMessages).toBe(8);
    expect(server.stats().duplicates).toBe(0);
    expect(Math.min(...server.messages.map((m) => m.at))).toBeGreaterThanOrEqual(
      scheduledAt.getTime() - 5,
    );
    expect(await startMessage(handle.db, message.id)).toBe(false);
  });
});

describe("several processes", () => {
  it.skipIf(!isServerDatabase())(
    "holds sends already on the shared clock when another process's engine meets a 429",
    async () => {
      // PGlite is one process: there is no other process whose pause could be missed.
      const server = await fakeServer();
      const ids = await residents(6);
      const other = await openDatabase({ url: handle.url, maxConnections: 2 });
      const api = createTelegramApi({ token: TOKEN, apiRoot: server.apiRoot, timeoutSeconds: 5 });
      const engine = new DeliveryEngine(other.db, {
        channels: [{ channel: "telegram", sender: telegramSender(api), limitPerSecond: 1 }],
        idlePollMs: 100,
        listen: other.listen,
      });
      engine.start();
      running.push(engine, { stop: () => other.close() });
      expect(await engine.listening()).toBe(true);
      const id = await broadcastTo(ids);
      await waitFor(() => server.stats().sentMessages >= 1, undefined, "the first send");
      // The first batch's next sends are placed a second apart after the first. Another
      // process's 429 pauses the channel now (this connection stands for that process).
      const pausedAt = Date.now();
      await pauseChannel(handle.db, "telegram", 3);
      const [state] = await handle.db
        .select({ pausedUntil: deliveryChannelState.pausedUntil })
        .from(deliveryChannelState)
        .where(eq(deliveryChannelState.channel, "telegram"));
      const pausedUntil = state!.pausedUntil!.getTime();
      await settled(id);
      // Half a second for the NOTIFY to arrive; without it the sends placed at +1 s and +2 s
      // would go out inside the pause.
      const during = server.messages.filter((m) => m.at > pausedAt + 500 && m.at < pausedUntil);
      expect(during).toHaveLength(0);
      expect(server.stats().sentMessages).toBe(6);
      expect(server.stats().duplicates).toBe(0);
    },
  );
});
