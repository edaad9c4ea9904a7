/**
 * Hearing reminders through the real delivery engine and scheduler (SPEC §5, issue 10): each
 * person gets each reminder once with two app instances and across a restart, a reminder whose
 * moment passed while every instance was down is dropped, and a reminder's audience is read
 * when it goes (who answered going since, never who answered not going).
 *
 * The schedulers and the service run on an injected clock (`clock`), moved to each reminder's
 * time; the engines send at once. Telegram is faked at grammY's HTTP client; every send is placed
 * on its outgoing message by the channel message id the engine stored on the delivery row.
 * On PostgreSQL the two instances have their own connection pools on one database; on PGlite
 * (one embedded database per process) they share its handle.
 */
import { and, eq, sql } from "drizzle-orm";
import { Api } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Database, type DatabaseHandle, openDatabase, rowsOf } from "../../src/db/client";
import { type OutgoingMessageRow, outgoingMessages } from "../../src/db/schema";
import {
  cancelByKeyPrefix,
  DeliveryEngine,
  getMessageProgress,
  registerAudience,
  telegramSender,
} from "../../src/delivery";
import { hearingAudiences } from "../../src/features/hearings/audiences";
import { HearingsService } from "../../src/features/hearings/service";
import { CLI_ACTOR, type HearingRow } from "../../src/features/hearings/types";
import { Scheduler } from "../../src/scheduler";
import { fakeTelegram, TEST_TOKEN } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { type SeedUser, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";
import { waitFor } from "../helpers/wait";

const HOUR = 3_600_000;
/** Reminders 2 h, 1 h and 30 min before a start 3 h ahead: due at +1 h, +2 h, +2.5 h. */
const OFFSETS = [120, 60, 30];

// Registered by the app from the feature object; here without the app (idempotent).
for (const [kind, resolve] of Object.entries(hearingAudiences)) registerAudience(kind, resolve);

let handle: DatabaseHandle & { url?: string };
/** A second instance's own database handle (PostgreSQL), or the same one (PGlite). */
let second: DatabaseHandle | undefined;
let clock = Date.now();
let service: HearingsService;
let nextChat = 300_000;

/** One fake Telegram for every instance; each accepted send with the message id it answered. */
const telegram = fakeTelegram();
const sends: { chatId: number; messageId: number }[] = [];
const recordingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const response = await telegram.fetch(input, init);
  const body = (await response.clone().json()) as {
    result?: { message_id?: number; chat?: { id?: number } };
  };
  const { message_id: messageId, chat } = body.result ?? {};
  if (typeof messageId === "number" && typeof chat?.id === "number") {
    sends.push({ chatId: Number(chat.id), messageId });
  }
  return response;
}) as typeof globalThis.fetch;

interface AppInstance {
  engine: DeliveryEngine;
  scheduler: Scheduler;
  stop(): Promise<void>;
}
const running: AppInstance[] = [];

/** An app instance: a delivery engine and a scheduler (on the injected clock) on `db`. */
function startInstance(db: Database, limitPerSecond = 30): AppInstance {
  const api = new Api(TEST_TOKEN, { fetch: recordingFetch });
  const engine = new DeliveryEngine(db, {
    channels: [
      { channel: "telegram", sender: telegramSender(api), perChatSeconds: 0, limitPerSecond },
    ],
    idlePollMs: 20,
    backoffBaseMs: 20,
  });
  const scheduler = new Scheduler({ db, timezone: "Asia/Bishkek", now: () => clock });
  engine.start();
  scheduler.start();
  const instance: AppInstance = {
    engine,
    scheduler,
    stop: async () => {
      running.splice(running.indexOf(instance), 1);
      await scheduler.stop();
      await engine.stop();
    },
  };
  running.push(instance);
  return instance;
}

beforeAll(async () => {
  handle = await createTestDatabase();
  second = handle.url ? await openDatabase({ url: handle.url, maxConnections: 5 }) : handle;
  service = new HearingsService(
    handle.db,
    {
      timezone: "Asia/Bishkek",
      publicUrl: "https://aimak.example.kg",
      defaultReminders: [10_080, 1_440, 120],
    },
    () => new Date(clock),
  );
});

afterEach(async () => {
  for (const instance of [...running]) await instance.stop();
  // What a test left scheduled must not go out under the next test's clock.
  await cancelByKeyPrefix(handle.db, "hearing:");
});

afterAll(async () => {
  if (second && second !== handle) await second.close();
  await handle?.close();
});

/** A municipality with `subscribers` residents subscribed to hearings, plus `others`. */
async function town(
  subscribers: number,
  others: Omit<SeedUser, "chatId" | "municipalityId">[] = [],
) {
  const [municipalityId] = (await seedMunicipalities(handle.db, 1)) as [number];
  const people: SeedUser[] = Array.from({ length: subscribers }, () => ({
    chatId: nextChat++,
    municipalityId,
    topics: ["hearings"],
  }));
  const extra = others.map((o) => ({ ...o, chatId: nextChat++, municipalityId }));
  const ids = await seedUsers(handle.db, [...people, ...extra]);
  return {
    municipalityId,
    subscriberIds: ids.slice(0, subscribers),
    subscriberChats: people.map((p) => p.chatId),
    otherIds: ids.slice(subscribers),
    otherChats: extra.map((p) => p.chatId),
  };
}

/** A published hearing 3 h ahead of the clock with reminders at OFFSETS. */
async function publishedHearing(municipalityId: number): Promise<HearingRow> {
  const draft = await service.create(CLI_ACTOR, {
    municipalityId,
    kind: "draft_budget",
    title: { ky: "Бюджет боюнча угуу", ru: "Слушания по бюджету" },
    startsAt: new Date(clock + 3 * HOUR),
    place: { ky: "Айыл өкмөтү", ru: "Айыл окмоту" },
    reminderOffsets: OFFSETS,
  });
  return service.publish(CLI_ACTOR, draft.id);
}

async function messagesOf(municipalityId: number, kind: OutgoingMessageRow["kind"]) {
  return handle.db
    .select()
    .from(outgoingMessages)
    .where(
      and(eq(outgoingMessages.municipalityId, municipalityId), eq(outgoingMessages.kind, kind)),
    )
    .orderBy(outgoingMessages.scheduledAt, outgoingMessages.id);
}

async function statusOf(messageId: number): Promise<OutgoingMessageRow["status"] | undefined> {
  const [row] = await handle.db
    .select({ status: outgoingMessages.status })
    .from(outgoingMessages)
    .where(eq(outgoingMessages.id, messageId));
  return row?.status;
}

/** Waits until a message has ended (done: every delivery recorded, or cancelled). */
async function ended(message: OutgoingMessageRow, status: "done" | "cancelled" = "done") {
  await waitFor(
    async () => (await statusOf(message.id)) === status,
    undefined,
    `${message.kind} ${message.id} to be ${status}`,
  );
}

/**
 * What each chat of a municipality received, per outgoing message: every accepted send placed by
 * its message id on the delivery row that recorded it. `unplaced`: sends to these chats that no
 * row recorded (a second copy of a row that was sent twice).
 */
async function received(municipalityId: number) {
  const rows = rowsOf<{ message_id: unknown; chat_id: unknown; channel_message_id: unknown }>(
    await handle.db.execute(sql`select d.message_id, u.chat_id, d.channel_message_id
      from deliveries d join users u on u.id = d.user_id
      where u.municipality_id = ${municipalityId}`),
  );
  const chats = new Set(rows.map((r) => Number(r.chat_id)));
  const bySend = new Map<string, number>();
  for (const r of rows) {
    if (r.channel_message_id !== null) {
      bySend.set(`${Number(r.chat_id)}:${String(r.channel_message_id)}`, Number(r.message_id));
    }
  }
  const perMessage = new Map<number, Map<number, number>>();
  let unplaced = 0;
  for (const s of sends) {
    if (!chats.has(s.chatId)) continue;
    const messageId = bySend.get(`${s.chatId}:${s.messageId}`);
    if (messageId === undefined) {
      unplaced++;
      continue;
    }
    const counts = perMessage.get(messageId) ?? new Map<number, number>();
    counts.set(s.chatId, (counts.get(s.chatId) ?? 0) + 1);
    perMessage.set(messageId, counts);
  }
  return {
    unplaced,
    /** chat → copies of this message, for chats that got at least one. */
    of: (messageId: number) => Object.fromEntries(perMessage.get(messageId) ?? new Map()),
  };
}

/** { chat: 1 } for each chat: what "each got it exactly once" looks like. */
const once = (chats: readonly number[]) => Object.fromEntries(chats.map((c) => [c, 1]));

describe("hearing reminders", () => {
  it("reach each subscriber exactly once with two app instances on one database", async () => {
    clock = Date.now();
    const t = await town(24, [{ topics: ["announcements"] }]);
    startInstance(handle.db);
    startInstance(second!.db);
    await publishedHearing(t.municipalityId);

    const [notice] = await messagesOf(t.municipalityId, "hearing_notice");
    await ended(notice!);
    const reminders = await messagesOf(t.municipalityId, "hearing_reminder");
    expect(reminders).toHaveLength(3);
    expect(reminders.map((r) => r.status)).toEqual(["scheduled", "scheduled", "scheduled"]);

    for (const reminder of reminders) {
      // Nothing before its time: the clock is moved past it only now.
      expect(await statusOf(reminder.id)).toBe("scheduled");
      clock = reminder.scheduledAt!.getTime() + 1_000;
      await ended(reminder);
      const got = await received(t.municipalityId);
      expect(got.of(reminder.id)).toEqual(once(t.subscriberChats));
    }
    const got = await received(t.municipalityId);
    expect(got.of(notice!.id)).toEqual(once(t.subscriberChats));
    expect(got.unplaced).toBe(0);
    // Every send of this town placed: the notice and three reminders to each subscriber, nothing
    // to the unsubscribed resident.
    const chats = new Set([...t.subscriberChats, ...t.otherChats]);
    expect(sends.filter((s) => chats.has(s.chatId))).toHaveLength(4 * t.subscriberChats.length);
  });

  it("loses nothing and sends nothing twice across a restart mid-reminder", async () => {
    clock = Date.now();
    const t = await town(30);
    // 5 messages/s, so a reminder to 30 people takes about 6 s and the stop falls inside it.
    let instance = startInstance(handle.db, 5);
    await publishedHearing(t.municipalityId);
    const [notice] = await messagesOf(t.municipalityId, "hearing_notice");
    await ended(notice!);
    const [first, secondReminder] = await messagesOf(t.municipalityId, "hearing_reminder");

    clock = first!.scheduledAt!.getTime() + 1_000;
    await waitFor(
      async () => (await getMessageProgress(handle.db, first!.id)).sent >= 5,
      undefined,
      "the first reminder to be under way",
    );
    await instance.stop();
    const atStop = await getMessageProgress(handle.db, first!.id);
    expect(atStop.sending).toBe(0);
    expect(atStop.pending).toBeGreaterThan(0);

    // While no instance runs, the second reminder falls due (not yet expired).
    clock = secondReminder!.scheduledAt!.getTime() + 1_000;
    expect(clock).toBeLessThan(secondReminder!.expiresAt!.getTime());
    instance = startInstance(handle.db, 30);
    await ended(first!);
    await ended(secondReminder!);

    const got = await received(t.municipalityId);
    expect(got.of(notice!.id)).toEqual(once(t.subscriberChats));
    expect(got.of(first!.id)).toEqual(once(t.subscriberChats));
    expect(got.of(secondReminder!.id)).toEqual(once(t.subscriberChats));
    expect(got.unplaced).toBe(0);
  });

  it("drops a reminder whose moment passed while every instance was down; the next one goes", async () => {
    clock = Date.now();
    const t = await town(10);
    const instance = startInstance(handle.db);
    await publishedHearing(t.municipalityId);
    const [notice] = await messagesOf(t.municipalityId, "hearing_notice");
    await ended(notice!);
    await instance.stop();

    const [missed, next] = await messagesOf(t.municipalityId, "hearing_reminder");
    // Down past the first reminder's expiry (halfway to the next), not yet at the next one.
    expect(missed!.expiresAt!.getTime()).toBeGreaterThan(missed!.scheduledAt!.getTime());
    clock = missed!.expiresAt!.getTime() + 1_000;
    expect(clock).toBeLessThan(next!.scheduledAt!.getTime());
    startInstance(handle.db);
    await ended(missed!, "cancelled");
    expect((await getMessageProgress(handle.db, missed!.id)).total).toBe(0);
    expect(await statusOf(next!.id)).toBe("scheduled");

    clock = next!.scheduledAt!.getTime() + 1_000;
    await ended(next!);
    const got = await received(t.municipalityId);
    expect(got.of(missed!.id)).toEqual({});
    expect(got.of(next!.id)).toEqual(once(t.subscriberChats));
    expect(got.unplaced).toBe(0);
  });

  it("reads a reminder's audience when it goes: who answered going since, not who said no", async () => {
    clock = Date.now();
    const t = await town(6, [{ topics: ["announcements"] }]);
    const [newcomer] = t.otherIds as [number];
    const [newcomerChat] = t.otherChats as [number];
    const decliner = t.subscriberIds[0]!;
    const declinerChat = t.subscriberChats[0]!;
    startInstance(handle.db);
    const hearing = await publishedHearing(t.municipalityId);
    const [notice] = await messagesOf(t.municipalityId, "hearing_notice");
    await ended(notice!);
    const [first, secondReminder] = await messagesOf(t.municipalityId, "hearing_reminder");

    // After the reminders were planned: an unsubscribed resident says going, a subscriber no.
    await service.answer(newcomer, hearing.id, "going");
    await service.answer(decliner, hearing.id, "not_going");
    clock = first!.scheduledAt!.getTime() + 1_000;
    await ended(first!);
    let got = await received(t.municipalityId);
    expect(got.of(notice!.id)).toEqual(once(t.subscriberChats));
    expect(got.of(first!.id)).toEqual(
      once([...t.subscriberChats.filter((c) => c !== declinerChat), newcomerChat]),
    );

    // They change their minds: the next reminder follows the answers as they are then.
    await service.answer(newcomer, hearing.id, "not_going");
    await service.answer(decliner, hearing.id, "going");
    clock = secondReminder!.scheduledAt!.getTime() + 1_000;
    await ended(secondReminder!);
    got = await received(t.municipalityId);
    expect(got.of(secondReminder!.id)).toEqual(once(t.subscriberChats));
    expect(got.unplaced).toBe(0);
  });
});
