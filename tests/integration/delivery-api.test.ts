import { eq, sql } from "drizzle-orm";
import { Api } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import { deliveries, outgoingMessages, webchatMessages } from "../../src/db/schema";
import {
  cancelByKey,
  cancelByKeyPrefix,
  createOutgoingMessage,
  DeliveryEngine,
  enqueueUsers,
  findMessageByKey,
  getMessageProgress,
  getProgressMany,
  registerAudience,
  rescheduleByKey,
  sendToUsers,
  startMessage,
  telegramSender,
} from "../../src/delivery";
import { claimDue } from "../../src/delivery/claims";
import {
  reapExpiredLeases,
  reopenMessagesWithPendingRows,
  startDueMessages,
} from "../../src/delivery/transitions";
import { Scheduler } from "../../src/scheduler";
import { runRetention } from "../../src/scheduler/retention";
import { fakeTelegram, TEST_TOKEN } from "../helpers/bot";
import { createTestDatabase, isServerDatabase } from "../helpers/db";
import { seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";
import { startTestEngine } from "../helpers/engine";
import { drainDeliveries, waitFor } from "../helpers/wait";

let handle: DatabaseHandle & { url?: string };
let muni: number;
let nextChat = 500_000;
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  handle = await createTestDatabase();
  [muni] = (await seedMunicipalities(handle.db, 1)) as [number];
});

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

afterAll(async () => {
  await handle.close();
});

async function person(): Promise<{ id: number; chatId: number }> {
  const chatId = nextChat++;
  const [id] = await seedUsers(handle.db, [{ chatId, municipalityId: muni }]);
  return { id: id!, chatId };
}

const content = { text: { ky: "Эскертүү", ru: "Напоминание" } };

// A feature's audience: people listed in a table the test owns (like "answered going").
const listed = registerAudience("test_listed", (p: { list: number }) =>
  sql.raw(`u.id in (select user_id from test_audience_list where list = ${Math.trunc(p.list)})`),
);

describe("registered audiences", () => {
  beforeAll(async () => {
    await handle.db.execute(
      sql`create table if not exists test_audience_list (list int not null, user_id bigint not null)`,
    );
  });

  it("are resolved when the message starts: someone added after scheduling receives it", async () => {
    const early = await person();
    await handle.db.execute(sql`insert into test_audience_list values (1, ${early.id})`);
    const message = await createOutgoingMessage(handle.db, {
      kind: "hearing_reminder",
      municipalityId: muni,
      createdByUserId: null,
      content,
      audience: listed({ list: 1 }),
      scheduledAt: new Date(Date.now() + 3_600_000),
    });
    expect(message.audience).toEqual({ kind: "test_listed", params: { list: 1 } });
    // Answers "going" after the reminder was planned.
    const late = await person();
    await handle.db.execute(sql`insert into test_audience_list values (1, ${late.id})`);
    const outsider = await person();

    const engine = startTestEngine(handle.db);
    running.push(engine);
    // The scheduler's clock says the hour has passed: no waiting for it.
    const scheduler = new Scheduler({
      db: handle.db,
      timezone: "Asia/Bishkek",
      now: () => Date.now() + 3_600_000 + 1_000,
    });
    await scheduler.tick();
    await drainDeliveries(handle.db, { messageId: message.id });
    expect(engine.sentTo(early.chatId)).toHaveLength(1);
    expect(engine.sentTo(late.chatId)).toHaveLength(1);
    expect(engine.sentTo(outsider.chatId)).toHaveLength(0);
  });

  it("still read the built-in audience stored in its old shape", async () => {
    const [m2] = await seedMunicipalities(handle.db, 1);
    const [a, b] = await seedUsers(handle.db, [
      { chatId: nextChat++, municipalityId: m2! },
      { chatId: nextChat++, municipalityId: m2!, topics: ["polls"] },
    ]);
    const message = await createOutgoingMessage(handle.db, {
      kind: "announcement",
      municipalityId: m2!,
      createdByUserId: null,
      content,
    });
    // A row written before audience kinds existed.
    await handle.db.execute(sql`update outgoing_messages
      set audience = ${JSON.stringify({ municipalityId: m2, topic: "announcements" })}::jsonb
      where id = ${message.id}`);
    expect(await startMessage(handle.db, message.id)).toBe(true);
    const rows = await handle.db
      .select({ userId: deliveries.userId })
      .from(deliveries)
      .where(eq(deliveries.messageId, message.id));
    expect(rows.map((r) => r.userId)).toEqual([a]);
    expect(b).not.toBe(a);
  });

  it("refuse an unknown kind and a second resolver for a kind", async () => {
    expect(() => registerAudience("test_listed", () => sql`true`)).toThrow(/already registered/);
    const message = await createOutgoingMessage(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
      audience: { kind: "nobody_registered_this", params: {} },
    });
    await expect(startMessage(handle.db, message.id)).rejects.toThrow(/unknown audience kind/);
    const [row] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, message.id));
    expect(row?.status).toBe("draft");
  });
});

describe("messages by key", () => {
  it("finds, reschedules and cancels a scheduled message by its key, conditionally", async () => {
    const key = `hearing:${nextChat}:reminder:1d`;
    const at = new Date(Date.now() + 86_400_000);
    const created = await createOutgoingMessage(handle.db, {
      kind: "hearing_reminder",
      municipalityId: muni,
      createdByUserId: null,
      content,
      audience: { municipalityId: muni, topic: "hearings" },
      scheduledAt: at,
      dedupeKey: key,
    });
    expect((await findMessageByKey(handle.db, key))?.id).toBe(created.id);
    expect(await findMessageByKey(handle.db, "no-such-key")).toBeUndefined();

    const later = new Date(at.getTime() + 3_600_000);
    expect(await rescheduleByKey(handle.db, key, later)).toBe(true);
    expect((await findMessageByKey(handle.db, key))?.scheduledAt?.getTime()).toBe(later.getTime());
    expect(await rescheduleByKey(handle.db, "no-such-key", later)).toBe(false);

    expect(await cancelByKey(handle.db, key)).toBe(true);
    expect((await findMessageByKey(handle.db, key))?.status).toBe("cancelled");
    // Cancelled: neither moved nor cancelled again.
    expect(await rescheduleByKey(handle.db, key, at)).toBe(false);
    expect(await cancelByKey(handle.db, key)).toBe(false);
  });

  it("cancels every message of a key prefix, and only those, leaving ended ones alone", async () => {
    const prefix = `hearing:${nextChat++}:s0:reminder:`;
    const at = new Date(Date.now() + 86_400_000);
    const make = (key: string) =>
      createOutgoingMessage(handle.db, {
        kind: "hearing_reminder",
        municipalityId: muni,
        createdByUserId: null,
        content,
        scheduledAt: at,
        dedupeKey: key,
      });
    await make(`${prefix}1440`);
    await make(`${prefix}120`);
    // A key that only looks alike: "_" and "%" in a prefix are not wildcards.
    const other = await make(`${prefix.replace("s0", "s0x")}120`);
    const similar = await make(`${prefix.slice(0, -1)}_1440`);
    expect(await cancelByKeyPrefix(handle.db, prefix)).toBe(2);
    expect((await findMessageByKey(handle.db, `${prefix}120`))?.status).toBe("cancelled");
    expect((await findMessageByKey(handle.db, other.dedupeKey ?? ""))?.status).toBe("scheduled");
    expect((await findMessageByKey(handle.db, similar.dedupeKey ?? ""))?.status).toBe("scheduled");
    expect(await cancelByKeyPrefix(handle.db, prefix)).toBe(0);
  });

  it("drops a scheduled message not started before it expires, instead of sending it late", async () => {
    const key = `expiring:${nextChat++}`;
    const at = new Date(Date.now() + 60_000);
    const m = await createOutgoingMessage(handle.db, {
      kind: "hearing_reminder",
      municipalityId: muni,
      createdByUserId: null,
      content,
      audience: { municipalityId: muni },
      scheduledAt: at,
      expiresAt: new Date(at.getTime() + 60_000),
      dedupeKey: key,
    });
    // Due but not expired (judged at its time): started.
    const due = await createOutgoingMessage(handle.db, {
      kind: "hearing_reminder",
      municipalityId: muni,
      createdByUserId: null,
      content,
      audience: { municipalityId: muni },
      scheduledAt: at,
      expiresAt: new Date(at.getTime() + 3_600_000),
      dedupeKey: `${key}:later`,
    });
    // Every instance was down until two minutes after its time.
    const started = await startDueMessages(handle.db, 20, new Date(at.getTime() + 120_000));
    expect(started).toContain(due.id);
    expect(started).not.toContain(m.id);
    const dropped = await findMessageByKey(handle.db, key);
    expect(dropped?.status).toBe("cancelled");
    expect((await getMessageProgress(handle.db, m.id)).total).toBe(0);
  });

  it("does not move a message that has already started", async () => {
    const key = `started:${nextChat}`;
    const m = await createOutgoingMessage(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
      dedupeKey: key,
    });
    expect(await startMessage(handle.db, m.id)).toBe(true);
    expect(await rescheduleByKey(handle.db, key, new Date(Date.now() + 60_000))).toBe(false);
    expect((await findMessageByKey(handle.db, key))?.status).not.toBe("scheduled");
  });

  it("runs in the caller's transaction: a rollback takes the message and its rows back", async () => {
    const p = await person();
    const key = `rollback:${nextChat}`;
    await expect(
      handle.db.transaction(async (tx) => {
        await sendToUsers(tx, {
          kind: "system",
          municipalityId: null,
          createdByUserId: null,
          content,
          userIds: [p.id],
          dedupeKey: key,
        });
        throw new Error("the caller's state change failed");
      }),
    ).rejects.toThrow(/failed/);
    expect(await findMessageByKey(handle.db, key)).toBeUndefined();
  });
});

describe("progress", () => {
  it("counts many messages in one call, the same as one by one", async () => {
    const [a, b] = [await person(), await person()];
    const one = await sendToUsers(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
      userIds: [a.id, b.id],
    });
    const two = await sendToUsers(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
      userIds: [a.id],
    });
    const many = await getProgressMany(handle.db, [one, two, 999_999_999]);
    expect(many.get(one)).toEqual(await getMessageProgress(handle.db, one));
    expect(many.get(one)).toMatchObject({ total: 2, pending: 2 });
    expect(many.get(two)).toMatchObject({ total: 1, pending: 1 });
    expect(many.get(999_999_999)).toMatchObject({ total: 0 });
    // Leave nothing pending for the other tests' engines.
    await handle.db
      .update(deliveries)
      .set({ status: "skipped", skipReason: "cancelled" })
      .where(sql`${deliveries.messageId} in (${one}, ${two})`);
  });
});

describe("retention", () => {
  it("deletes old delivery rows and web chat messages, keeping each message's totals", async () => {
    const [a, b, c] = [await person(), await person(), await person()];
    const engine = startTestEngine(handle.db);
    running.push(engine);
    const scheduler = new Scheduler({ db: handle.db, timezone: "Asia/Bishkek" });
    const old = await sendToUsers(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
      userIds: [a.id, b.id, c.id],
    });
    await drainDeliveries(handle.db, { messageId: old });
    await scheduler.tick();
    const before = await getMessageProgress(handle.db, old);
    expect(before).toMatchObject({ total: 3, sent: 3 });
    const recent = await sendToUsers(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
      userIds: [a.id],
    });
    await drainDeliveries(handle.db, { messageId: recent });
    await scheduler.tick();
    // One of the old message's rows changed after it finished (a held message seen later):
    // the totals kept are the rows' last state.
    await handle.db
      .update(deliveries)
      .set({ status: "skipped", skipReason: "blocked" })
      .where(sql`${deliveries.messageId} = ${old} and ${deliveries.userId} = ${c.id}`);
    await handle.db.execute(sql`update outgoing_messages
      set finished_at = now() - interval '200 days' where id = ${old}`);
    await handle.db.insert(webchatMessages).values([
      { userId: a.id, fromBot: true, payload: { text: "old", format: "plain" } },
      { userId: a.id, fromBot: true, payload: { text: "new", format: "plain" } },
    ]);
    await handle.db.execute(sql`update webchat_messages set created_at = now() - interval '181 days'
      where user_id = ${a.id} and payload->>'text' = 'old'`);

    const result = await runRetention(handle.db, 180);
    expect(result).toMatchObject({ deliveries: 3, webchatMessages: 1, whatsappMessages: 0 });
    const left = await handle.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.messageId, old));
    expect(left).toHaveLength(0);
    expect(await getMessageProgress(handle.db, old)).toMatchObject({
      total: 3,
      sent: 2,
      skipped: 1,
      blocked: 1,
      pending: 0,
    });
    expect((await getMessageProgress(handle.db, recent)).sent).toBe(1);
    const texts = await handle.db
      .select({ payload: webchatMessages.payload })
      .from(webchatMessages)
      .where(eq(webchatMessages.userId, a.id));
    expect(texts.map((t) => t.payload.text)).toEqual(["new"]);
  });

  it("is a daily job of the scheduler when RETENTION_DAYS is given", () => {
    expect(new Scheduler({ db: handle.db, timezone: "UTC", retentionDays: 30 }).jobNames).toEqual([
      "retention",
    ]);
    expect(new Scheduler({ db: handle.db, timezone: "UTC" }).jobNames).toEqual([]);
  });
});

describe("scheduler hooks by message kind", () => {
  it("calls each feature's hooks for its own kind only", async () => {
    const engine = startTestEngine(handle.db);
    running.push(engine);
    const seen: string[] = [];
    const scheduler = new Scheduler({
      db: handle.db,
      timezone: "Asia/Bishkek",
      hooks: [
        { faq_answer: { onFinished: async (m, p) => void seen.push(`faq:${m.id}:${p.sent}`) } },
        {
          poll_result: { onFinished: async (m) => void seen.push(`poll:${m.id}`) },
          faq_answer: { onFinished: async (m) => void seen.push(`second:${m.id}`) },
        },
      ],
    });
    const p = await person();
    const answer = await sendToUsers(handle.db, {
      kind: "faq_answer",
      municipalityId: null,
      createdByUserId: null,
      content,
      userIds: [p.id],
    });
    const other = await sendToUsers(handle.db, {
      kind: "hearing_notice",
      municipalityId: null,
      createdByUserId: null,
      content,
      userIds: [p.id],
    });
    await drainDeliveries(handle.db);
    await waitFor(
      async () => {
        await scheduler.tick();
        const rows = await handle.db
          .select({ status: outgoingMessages.status })
          .from(outgoingMessages)
          .where(sql`${outgoingMessages.id} in (${answer}, ${other})`);
        return rows.every((r) => r.status === "done");
      },
      undefined,
      "both messages to finish",
    );
    expect(seen).toEqual([`faq:${answer}:1`, `second:${answer}`]);
  });
});

describe("injected clocks", () => {
  it("re-queues an expired lease judged by the given time, without waiting for it", async () => {
    const p = await person();
    const message = await createOutgoingMessage(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
    });
    await enqueueUsers(handle.db, message.id, [p.id]);
    await startMessage(handle.db, message.id);
    const claimed = await claimDue(handle.db, "telegram", 50, 60, 0, "dead-worker");
    expect(claimed.map((r) => r.userId)).toContain(p.id);
    expect(await reapExpiredLeases(handle.db)).toBe(0);
    expect(await reapExpiredLeases(handle.db, new Date(Date.now() + 61_000))).toBe(claimed.length);
    await handle.db
      .update(deliveries)
      .set({ status: "skipped", skipReason: "cancelled" })
      .where(eq(deliveries.messageId, message.id));
  });
});

describe("a row re-queued as its message finished", () => {
  it("reopens the message, so the row goes (a finish that raced the re-queue cannot strand it)", async () => {
    const p = await person();
    const message = await createOutgoingMessage(handle.db, {
      kind: "system",
      municipalityId: null,
      createdByUserId: null,
      content,
    });
    await enqueueUsers(handle.db, message.id, [p.id]);
    await startMessage(handle.db, message.id);
    // What the race leaves: the message done, its row pending again.
    await handle.db
      .update(outgoingMessages)
      .set({ status: "done", finishedAt: new Date() })
      .where(eq(outgoingMessages.id, message.id));
    expect(await reopenMessagesWithPendingRows(handle.db)).toBeGreaterThanOrEqual(1);
    const [reopened] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, message.id));
    expect(reopened?.status).toBe("sending");
    // A message finished with nothing left to go is not reopened.
    await handle.db
      .update(deliveries)
      .set({ status: "sent" })
      .where(eq(deliveries.messageId, message.id));
    await handle.db
      .update(outgoingMessages)
      .set({ status: "done", finishedAt: new Date() })
      .where(eq(outgoingMessages.id, message.id));
    await reopenMessagesWithPendingRows(handle.db);
    const [left] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.id, message.id));
    expect(left?.status).toBe("done");
    await handle.db
      .update(deliveries)
      .set({ status: "skipped", skipReason: "cancelled" })
      .where(eq(deliveries.messageId, message.id));
  });
});

describe("wake-ups across instances", () => {
  it.skipIf(!isServerDatabase())(
    "an enqueue on one connection is claimed by an engine on another well before its idle poll",
    async () => {
      // PGlite (no DATABASE_URL) is one process with one connection: there is no other
      // instance to wake; its engines are woken in-process.
      const other = await openDatabase({ url: handle.url, maxConnections: 2 });
      const telegram = fakeTelegram();
      const engine = new DeliveryEngine(other.db, {
        channels: [
          {
            channel: "telegram",
            sender: telegramSender(new Api(TEST_TOKEN, { fetch: telegram.fetch })),
            perChatSeconds: 0,
          },
        ],
        idlePollMs: 30_000,
        listen: other.listen,
        // Only what comes through the database counts, as for another process.
        localWakeups: false,
      });
      engine.start();
      running.push({ stop: () => other.close() }, engine);
      expect(await engine.listening()).toBe(true);
      await waitFor(() => engine.counters.idle > 0, undefined, "the engine to go idle");
      const p = await person();
      const started = Date.now();
      await sendToUsers(handle.db, {
        kind: "system",
        municipalityId: null,
        createdByUserId: null,
        content,
        userIds: [p.id],
      });
      await waitFor(
        () => telegram.calls.some((c) => c.payload.chat_id === p.chatId),
        10_000,
        "the other engine to send it",
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );
});
