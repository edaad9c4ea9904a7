/**
 * The public side of the delivery store: what features do with outgoing messages (create,
 * enqueue, start, schedule, cancel, find by key, read progress). Every function takes an
 * Executor, so it runs in the caller's transaction when given one.
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client";
import {
  deliveries,
  type MessageKind,
  type MessageTotals,
  type OutgoingMessageRow,
  outgoingMessages,
} from "../db/schema";
import { audienceCondition, toStoredAudience } from "./audiences";
import { type MessageContent, type StoredAudience, validateContent } from "./content";
import { deliveryEvents, notifyDelivery, wakeDelivery } from "./events";

export interface CreateMessageInput {
  kind: MessageKind;
  /** The municipality the message speaks for (null for platform-wide or lawyer messages). */
  municipalityId: number | null;
  createdByUserId: number | null;
  content: MessageContent;
  /**
   * Stored and resolved when the message starts (now, or by the scheduler at `scheduledAt`):
   * the built-in residents/role/topic audience, or a registered kind (`registerAudience`).
   */
  audience?: StoredAudience;
  /** When given, the message is created `scheduled` and started by the scheduler at that time. */
  scheduledAt?: Date;
  /**
   * With `scheduledAt`: if the scheduler has not started it by this time (every instance was
   * down), it is cancelled instead of sent late.
   */
  expiresAt?: Date;
  /**
   * Idempotency key ("hearing:12:reminder:1d"): a second create with the same key returns the
   * first message unchanged. Also finds, reschedules and cancels it (`…ByKey`).
   */
  dedupeKey?: string;
}

export async function createOutgoingMessage(
  db: Executor,
  input: CreateMessageInput,
): Promise<OutgoingMessageRow> {
  const content = validateContent(input.content);
  const values = {
    kind: input.kind,
    municipalityId: input.municipalityId,
    createdByUserId: input.createdByUserId,
    content,
    audience: input.audience ? toStoredAudience(input.audience) : null,
    dedupeKey: input.dedupeKey ?? null,
    status: input.scheduledAt ? ("scheduled" as const) : ("draft" as const),
    scheduledAt: input.scheduledAt ?? null,
    expiresAt: input.expiresAt ?? null,
  };
  const inserted = await db
    .insert(outgoingMessages)
    .values(values)
    .onConflictDoNothing({ target: outgoingMessages.dedupeKey })
    .returning();
  if (inserted[0]) return inserted[0];
  const existing = await findMessageByKey(db, input.dedupeKey ?? "");
  if (!existing) throw new Error("outgoing message insert returned nothing");
  return existing;
}

/** Adds rows for the users matching `where` (on `u`), idempotently; wakes the engines. */
async function enqueueWhere(db: Executor, messageId: number, where: SQL): Promise<number> {
  const result = await db.execute(sql`
    with added as (
      insert into deliveries (message_id, user_id, channel)
      select ${messageId}, u.id, u.channel from users u
      where ${where}
      on conflict (message_id, user_id) do nothing
      returning 1)
    select count(*)::int as n from added`);
  const added = Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  if (added > 0) {
    await notifyDelivery(db);
    wakeDelivery();
  }
  return added;
}

/**
 * Enqueues every active user of an audience with ONE `INSERT … SELECT`. Idempotent: a user
 * already enqueued for this message is left alone. Returns how many rows were added.
 */
export async function enqueueAudience(
  db: Executor,
  messageId: number,
  audience: StoredAudience,
): Promise<number> {
  return enqueueWhere(db, messageId, audienceCondition(audience));
}

/** Counts an audience without enqueueing it (for previews). */
export async function countAudience(db: Executor, audience: StoredAudience): Promise<number> {
  const result = await db.execute(
    sql`select count(*)::int as n from users u where ${audienceCondition(audience)}`,
  );
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}

/** Enqueues the given users (active ones only), idempotently. Returns how many rows were added. */
export async function enqueueUsers(
  db: Executor,
  messageId: number,
  userIds: readonly number[],
): Promise<number> {
  if (userIds.length === 0) return 0;
  const idArray = `{${userIds.map((id) => Math.trunc(id)).join(",")}}`;
  return enqueueWhere(db, messageId, sql`u.inactive = false and u.id = any(${idArray}::bigint[])`);
}

/**
 * Starts a draft or scheduled message: status → sending and, in the same transaction (the
 * caller's, when `db` is one), its stored audience is enqueued. Conditional, so of two callers
 * (or two scheduler instances) exactly one wins. Returns whether this call started it.
 */
export async function startMessage(db: Executor, messageId: number): Promise<boolean> {
  const started = await db.transaction(async (tx) => {
    const rows = await tx
      .update(outgoingMessages)
      .set({ status: "sending", startedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(outgoingMessages.id, messageId),
          inArray(outgoingMessages.status, ["draft", "scheduled"]),
        ),
      )
      .returning({ id: outgoingMessages.id, audience: outgoingMessages.audience });
    const row = rows[0];
    if (!row) return false;
    if (row.audience) await enqueueAudience(tx, row.id, row.audience);
    // Rows enqueued while it was a draft become claimable now: wake every process.
    await notifyDelivery(tx);
    return true;
  });
  if (started) wakeDelivery();
  return started;
}

/** Moves a draft to `scheduled` at `at` (or reschedules a scheduled one). */
export async function scheduleMessage(db: Executor, messageId: number, at: Date): Promise<boolean> {
  const rows = await db
    .update(outgoingMessages)
    .set({ status: "scheduled", scheduledAt: at, updatedAt: sql`now()` })
    .where(
      and(
        eq(outgoingMessages.id, messageId),
        inArray(outgoingMessages.status, ["draft", "scheduled"]),
      ),
    )
    .returning({ id: outgoingMessages.id });
  return rows.length > 0;
}

/**
 * Cancels a draft, scheduled or running message: no new row is claimed from now on and every
 * pending row is skipped (reason "cancelled"). Rows already handed to a worker finish (at most
 * one small batch, well under a second). Returns whether this call cancelled it.
 */
export async function cancelMessage(db: Executor, messageId: number): Promise<boolean> {
  return cancelWhere(db, eq(outgoingMessages.id, messageId));
}

async function cancelWhere(db: Executor, which: SQL | undefined): Promise<boolean> {
  const cancelled = await db.transaction(async (tx) => {
    const rows = await tx
      .update(outgoingMessages)
      .set({ status: "cancelled", cancelledAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(which, inArray(outgoingMessages.status, ["draft", "scheduled", "sending"])))
      .returning({ id: outgoingMessages.id });
    const id = rows[0]?.id;
    if (id === undefined) return undefined;
    await tx
      .update(deliveries)
      .set({ status: "skipped", skipReason: "cancelled", updatedAt: sql`now()` })
      .where(and(eq(deliveries.messageId, id), eq(deliveries.status, "pending")));
    // Engines of other processes drop this message's rows they already hold.
    await notifyDelivery(tx, `cancel:${id}`);
    return id;
  });
  if (cancelled === undefined) return false;
  deliveryEvents.emit("cancelled", cancelled);
  return true;
}

/** The message created with this dedupe key, if any. */
export async function findMessageByKey(
  db: Executor,
  dedupeKey: string,
): Promise<OutgoingMessageRow | undefined> {
  const rows = await db
    .select()
    .from(outgoingMessages)
    .where(eq(outgoingMessages.dedupeKey, dedupeKey));
  return rows[0];
}

/**
 * Moves the scheduled message with this key to `at` (a rescheduled hearing moves its reminders).
 * Conditional: false when there is none or it has already started, ended or been cancelled.
 */
export async function rescheduleByKey(
  db: Executor,
  dedupeKey: string,
  at: Date,
  expiresAt?: Date | null,
): Promise<boolean> {
  const rows = await db
    .update(outgoingMessages)
    .set({
      scheduledAt: at,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      updatedAt: sql`now()`,
    })
    .where(and(eq(outgoingMessages.dedupeKey, dedupeKey), eq(outgoingMessages.status, "scheduled")))
    .returning({ id: outgoingMessages.id });
  return rows.length > 0;
}

/** cancelMessage for the message with this key. False when there is none or it had ended. */
export async function cancelByKey(db: Executor, dedupeKey: string): Promise<boolean> {
  return cancelWhere(db, eq(outgoingMessages.dedupeKey, dedupeKey));
}

/**
 * Cancels every message not yet ended whose key starts with `prefix` ("hearing:12:reminder:"):
 * all the reminders of a cancelled hearing at once. Returns how many were cancelled.
 */
export async function cancelByKeyPrefix(db: Executor, prefix: string): Promise<number> {
  const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await db
    .select({ id: outgoingMessages.id })
    .from(outgoingMessages)
    .where(
      and(
        sql`${outgoingMessages.dedupeKey} like ${`${escaped}%`}`,
        inArray(outgoingMessages.status, ["draft", "scheduled", "sending"]),
      ),
    );
  let n = 0;
  for (const { id } of rows) if (await cancelMessage(db, id)) n++;
  return n;
}

/**
 * A message's delivery counts: the stored totals (sent, failed, skipped, of those blocked and
 * unreachable, held in a closed web chat) plus what is still to do.
 */
export interface MessageProgress extends MessageTotals {
  pending: number;
  /** Claimed by a worker right now. */
  sending: number;
}

/** The per-status counts of deliveries, as select columns (one place for every report). */
const PROGRESS_COUNTS = sql.raw(`count(*)::int as total,
  count(*) filter (where status = 'pending')::int as pending,
  count(*) filter (where status = 'sending')::int as sending,
  count(*) filter (where status = 'sent')::int as sent,
  count(*) filter (where status = 'failed')::int as failed,
  count(*) filter (where status = 'skipped')::int as skipped,
  count(*) filter (where status = 'skipped' and skip_reason = 'blocked')::int as blocked,
  count(*) filter (where status = 'skipped' and skip_reason = 'unreachable')::int as unreachable,
  count(*) filter (where status = 'held')::int as held,
  count(*) filter (where status = 'skipped' and skip_reason = 'outside_window')::int as outside_window,
  count(*) filter (where status = 'sent' and via_template)::int as templates,
  count(*) filter (where status = 'sent' and channel_status in ('delivered', 'read'))::int as delivered,
  count(*) filter (where status = 'sent' and channel_status = 'read')::int as read`);

const EMPTY: MessageProgress = {
  total: 0,
  pending: 0,
  sending: 0,
  sent: 0,
  failed: 0,
  skipped: 0,
  blocked: 0,
  unreachable: 0,
  held: 0,
  outsideWindow: 0,
  templates: 0,
  delivered: 0,
  read: 0,
};

/**
 * Progress of many messages in one query (lists like /broadcasts). Counts the delivery rows;
 * for a message whose rows retention has deleted, its stored totals. Every id asked for is in
 * the map (unknown ones with zeros).
 */
export async function getProgressMany(
  db: Executor,
  messageIds: readonly number[],
): Promise<Map<number, MessageProgress>> {
  const out = new Map<number, MessageProgress>();
  if (messageIds.length === 0) return out;
  const ids = `{${messageIds.map((id) => Math.trunc(id)).join(",")}}`;
  const result = await db.execute(sql`
    select m.id, m.totals, c.*
    from outgoing_messages m
    left join lateral (select ${PROGRESS_COUNTS} from deliveries where message_id = m.id) c on true
    where m.id = any(${ids}::bigint[])`);
  for (const r of rowsOf<Record<string, unknown>>(result)) {
    const totals = (r.totals ?? null) as MessageTotals | null;
    const n = (k: keyof MessageProgress) => Number(r[k] ?? 0);
    out.set(
      Number(r.id),
      n("total") === 0 && totals
        ? { ...EMPTY, ...totals }
        : {
            total: n("total"),
            pending: n("pending"),
            sending: n("sending"),
            sent: n("sent"),
            failed: n("failed"),
            skipped: n("skipped"),
            blocked: n("blocked"),
            unreachable: n("unreachable"),
            held: n("held"),
            outsideWindow: Number(r.outside_window ?? 0),
            templates: n("templates"),
            delivered: n("delivered"),
            read: n("read"),
          },
    );
  }
  for (const id of messageIds) if (!out.has(id)) out.set(id, { ...EMPTY });
  return out;
}

export async function getMessageProgress(
  db: Executor,
  messageId: number,
): Promise<MessageProgress> {
  return (await getProgressMany(db, [messageId])).get(messageId) ?? { ...EMPTY };
}

/** Remembers where the sender's live progress message is, so the engine keeps it up to date. */
export async function setProgressMessage(
  db: Executor,
  messageId: number,
  chatId: number,
  progressMessageId: number,
): Promise<void> {
  await db
    .update(outgoingMessages)
    .set({ progressChatId: chatId, progressMessageId, updatedAt: sql`now()` })
    .where(eq(outgoingMessages.id, messageId));
}
