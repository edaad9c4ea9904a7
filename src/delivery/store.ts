import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import {
  type Channel,
  deliveries,
  type MessageKind,
  type OutgoingMessageRow,
  outgoingMessages,
} from "../db/schema";
import { type Audience, type MessageContent, validateContent } from "./content";
import { deliveryEvents, wakeDelivery } from "./events";

/** Rows of a raw `db.execute`, whichever driver is underneath (postgres.js: array; PGlite: {rows}). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Anything that can run queries: the database or a transaction. */
export type Executor = Pick<Database, "execute" | "insert" | "update" | "select">;

export interface CreateMessageInput {
  kind: MessageKind;
  /** The municipality the message speaks for (null for platform-wide or lawyer messages). */
  municipalityId: number | null;
  createdByUserId: number | null;
  content: MessageContent;
  /** Stored and enqueued when the message starts (now, or by the scheduler at `scheduledAt`). */
  audience?: Audience;
  /** When given, the message is created `scheduled` and started by the scheduler at that time. */
  scheduledAt?: Date;
  /** Idempotency key: a second create with the same key returns the first message unchanged. */
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
    audience: input.audience ?? null,
    dedupeKey: input.dedupeKey ?? null,
    status: input.scheduledAt ? ("scheduled" as const) : ("draft" as const),
    scheduledAt: input.scheduledAt ?? null,
  };
  const inserted = await db
    .insert(outgoingMessages)
    .values(values)
    .onConflictDoNothing({ target: outgoingMessages.dedupeKey })
    .returning();
  if (inserted[0]) return inserted[0];
  const existing = await db
    .select()
    .from(outgoingMessages)
    .where(eq(outgoingMessages.dedupeKey, input.dedupeKey ?? ""));
  if (!existing[0]) throw new Error("outgoing message insert returned nothing");
  return existing[0];
}

/** The SQL condition selecting the users of an audience (always active users only). */
export function audienceCondition(audience: Audience): SQL {
  const parts: SQL[] = [sql`u.inactive = false`];
  if (audience.role) {
    parts.push(
      audience.municipalityId === null
        ? sql`exists (select 1 from role_grants g where g.user_id = u.id and g.role = ${audience.role})`
        : sql`exists (select 1 from role_grants g where g.user_id = u.id and g.role = ${audience.role} and g.municipality_id = ${audience.municipalityId})`,
    );
  } else if (audience.municipalityId !== null) {
    parts.push(sql`u.municipality_id = ${audience.municipalityId}`);
  }
  if (audience.topic) parts.push(sql`${audience.topic} = any(u.topics)`);
  if (audience.channels?.length) {
    parts.push(
      sql`u.channel in (${sql.join(
        audience.channels.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    );
  }
  return sql.join(parts, sql` and `);
}

/**
 * Enqueues every active user of an audience with ONE `INSERT … SELECT`. Idempotent: a user
 * already enqueued for this message is left alone. Returns how many rows were added.
 */
export async function enqueueAudience(
  db: Executor,
  messageId: number,
  audience: Audience,
): Promise<number> {
  const result = await db.execute(sql`
    with added as (
      insert into deliveries (message_id, user_id, channel)
      select ${messageId}, u.id, u.channel from users u
      where ${audienceCondition(audience)}
      on conflict (message_id, user_id) do nothing
      returning 1)
    select count(*)::int as n from added`);
  wakeDelivery();
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}

/** Counts an audience without enqueueing it (for previews). */
export async function countAudience(db: Executor, audience: Audience): Promise<number> {
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
  const result = await db.execute(sql`
    with added as (
      insert into deliveries (message_id, user_id, channel)
      select ${messageId}, u.id, u.channel from users u
      where u.inactive = false and u.id = any(${idArray}::bigint[])
      on conflict (message_id, user_id) do nothing
      returning 1)
    select count(*)::int as n from added`);
  wakeDelivery();
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}

/**
 * Starts a draft or scheduled message: status → sending and, in the same transaction, its stored
 * audience is enqueued. Conditional, so of two callers (or two scheduler instances) exactly one
 * wins. Returns whether this call started it.
 */
export async function startMessage(db: Database, messageId: number): Promise<boolean> {
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
export async function cancelMessage(db: Database, messageId: number): Promise<boolean> {
  const cancelled = await db.transaction(async (tx) => {
    const rows = await tx
      .update(outgoingMessages)
      .set({ status: "cancelled", cancelledAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(outgoingMessages.id, messageId),
          inArray(outgoingMessages.status, ["draft", "scheduled", "sending"]),
        ),
      )
      .returning({ id: outgoingMessages.id });
    if (!rows[0]) return false;
    await tx
      .update(deliveries)
      .set({ status: "skipped", skipReason: "cancelled", updatedAt: sql`now()` })
      .where(and(eq(deliveries.messageId, messageId), eq(deliveries.status, "pending")));
    return true;
  });
  if (cancelled) deliveryEvents.emit("cancelled", messageId);
  return cancelled;
}

export interface MessageProgress {
  total: number;
  pending: number;
  /** Claimed by a worker right now. */
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Of `skipped`: people who blocked the bot or deleted their account. */
  blocked: number;
  /** Of `skipped`: not reachable on their channel now. */
  unreachable: number;
  /** Kept in a closed web chat's history; counted as sent once a page shows it. */
  held: number;
}

/** The per-status counts of deliveries, as select columns (one place for every report). */
export const PROGRESS_COUNTS = sql.raw(`count(*)::int as total,
  count(*) filter (where status = 'pending')::int as pending,
  count(*) filter (where status = 'sending')::int as sending,
  count(*) filter (where status = 'sent')::int as sent,
  count(*) filter (where status = 'failed')::int as failed,
  count(*) filter (where status = 'skipped')::int as skipped,
  count(*) filter (where status = 'skipped' and skip_reason = 'blocked')::int as blocked,
  count(*) filter (where status = 'skipped' and skip_reason = 'unreachable')::int as unreachable,
  count(*) filter (where status = 'held')::int as held`);

export async function getMessageProgress(
  db: Executor,
  messageId: number,
): Promise<MessageProgress> {
  const result = await db.execute(
    sql`select ${PROGRESS_COUNTS} from deliveries where message_id = ${messageId}`,
  );
  const r = rowsOf<Record<keyof MessageProgress, number>>(result)[0];
  return {
    total: Number(r?.total ?? 0),
    pending: Number(r?.pending ?? 0),
    sending: Number(r?.sending ?? 0),
    sent: Number(r?.sent ?? 0),
    failed: Number(r?.failed ?? 0),
    skipped: Number(r?.skipped ?? 0),
    blocked: Number(r?.blocked ?? 0),
    unreachable: Number(r?.unreachable ?? 0),
    held: Number(r?.held ?? 0),
  };
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

export async function getOutgoingMessage(
  db: Executor,
  messageId: number,
): Promise<OutgoingMessageRow | undefined> {
  const rows = await db.select().from(outgoingMessages).where(eq(outgoingMessages.id, messageId));
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// Engine internals

export interface ClaimedRow {
  id: number;
  messageId: number;
  userId: number;
  attempts: number;
  chatId: number;
  locale: string | null;
  inactive: boolean;
  channel: Channel;
}

/**
 * Claims up to `limit` due rows of one channel for `leaseSeconds` (FOR UPDATE SKIP LOCKED, so
 * workers of any number of processes never get the same row). A row is due when its message is
 * sending, its time has come, and its chat has nothing in flight or sent in the last
 * `perChatSeconds` (Telegram's 1 message/s per chat, across processes).
 */
export async function claimDue(
  db: Executor,
  channel: Channel,
  limit: number,
  leaseSeconds: number,
  perChatSeconds: number,
  token: string,
): Promise<ClaimedRow[]> {
  const result = await db.execute(sql`
    with due as (
      select d.id from deliveries d
      join outgoing_messages m on m.id = d.message_id and m.status = 'sending'
      where d.status = 'pending' and d.channel = ${channel} and d.next_attempt_at <= now()
        and not exists (
          select 1 from deliveries x
          where x.user_id = d.user_id and x.id <> d.id
            and (x.status = 'sending'
              or (x.status = 'sent' and x.sent_at > now() - make_interval(secs => ${perChatSeconds}))))
      order by d.next_attempt_at, d.id
      limit ${limit}
      for update of d skip locked
    )
    update deliveries d set status = 'sending', attempts = d.attempts + 1,
      claimed_until = now() + make_interval(secs => ${leaseSeconds}),
      claim_token = ${token}, updated_at = now()
    from due, users u
    where d.id = due.id and u.id = d.user_id
    returning d.id, d.message_id, d.user_id, d.attempts, u.chat_id, u.locale, u.inactive, u.channel`);
  return rowsOf<Record<string, unknown>>(result).map((r) => ({
    id: Number(r.id),
    messageId: Number(r.message_id),
    userId: Number(r.user_id),
    attempts: Number(r.attempts),
    chatId: Number(r.chat_id),
    locale: (r.locale as string | null) ?? null,
    inactive: r.inactive === true || r.inactive === "t",
    channel: r.channel as Channel,
  }));
}

export type RowOutcome =
  | { kind: "sent"; channelMessageId: string | null }
  | { kind: "held"; channelMessageId: string | null }
  | { kind: "skipped"; reason: string; error?: string }
  | { kind: "retry"; delayMs: number; error: string; giveBackAttempt?: boolean }
  | { kind: "failed"; error: string };

/** Records what happened to a claimed row. Returns false when the lease was lost meanwhile. */
export async function recordOutcome(
  db: Executor,
  rowId: number,
  token: string,
  outcome: RowOutcome,
): Promise<boolean> {
  let set: SQL;
  switch (outcome.kind) {
    case "sent":
      set = sql`status = 'sent', sent_at = now(), channel_message_id = ${outcome.channelMessageId}, last_error = null`;
      break;
    case "held":
      set = sql`status = 'held', channel_message_id = ${outcome.channelMessageId}, last_error = null`;
      break;
    case "skipped":
      set = sql`status = 'skipped', skip_reason = ${outcome.reason}, last_error = ${outcome.error ?? null}`;
      break;
    case "retry":
      set = sql`status = 'pending', last_error = ${outcome.error},
        next_attempt_at = now() + make_interval(secs => ${outcome.delayMs / 1000}),
        attempts = case when ${outcome.giveBackAttempt === true} then greatest(attempts - 1, 0) else attempts end`;
      break;
    case "failed":
      set = sql`status = 'failed', last_error = ${outcome.error}`;
      break;
  }
  const result = await db.execute(sql`
    update deliveries set ${set}, claim_token = null, claimed_until = null, updated_at = now()
    where id = ${rowId} and claim_token = ${token} and status = 'sending'
    returning 1 as one`);
  return rowsOf(result).length > 0;
}

/** Marks a person inactive (blocked the bot, deleted account): nothing is sent to them again. */
export async function markUserInactive(
  db: Executor,
  userId: number,
  reason: string,
): Promise<void> {
  await db.execute(sql`
    update users set inactive = true, inactive_reason = ${reason}, updated_at = now()
    where id = ${userId} and inactive = false`);
}

/** Re-queues rows whose worker died (lease passed). Returns how many. */
export async function reapExpiredLeases(db: Executor): Promise<number> {
  const result = await db.execute(sql`
    update deliveries set status = 'pending', claim_token = null, claimed_until = null,
      next_attempt_at = now(), updated_at = now()
    where status = 'sending' and claimed_until < now()
    returning 1 as one`);
  return rowsOf(result).length;
}

/** Makes sure the channel's limiter row exists. */
export async function ensureChannelState(db: Executor, channel: Channel): Promise<void> {
  await db.execute(sql`
    insert into delivery_channel_state (channel, next_slot_at) values (${channel}, now())
    on conflict (channel) do nothing`);
}

export interface ChannelClock {
  /** ms until the next free send slot (negative: free now). */
  nextSlotInMs: number;
  /** ms the channel stays paused after a 429 (≤ 0: not paused). */
  pausedForMs: number;
}

export async function readChannelClock(db: Executor, channel: Channel): Promise<ChannelClock> {
  const result = await db.execute(sql`
    select extract(epoch from (next_slot_at - clock_timestamp())) * 1000 as next_ms,
      coalesce(extract(epoch from (paused_until - clock_timestamp())) * 1000, -1) as paused_ms
    from delivery_channel_state where channel = ${channel}`);
  const r = rowsOf<{ next_ms: number; paused_ms: number }>(result)[0];
  return { nextSlotInMs: Number(r?.next_ms ?? 0), pausedForMs: Number(r?.paused_ms ?? -1) };
}

/**
 * Reserves `count` consecutive send slots `intervalMs` apart on the channel's shared clock
 * (GCRA), never before a 429 pause ends. Returns the delay from now to the first slot.
 */
export async function reserveSlots(
  db: Executor,
  channel: Channel,
  count: number,
  intervalMs: number,
): Promise<number> {
  const result = await db.execute(sql`
    update delivery_channel_state set next_slot_at =
      greatest(next_slot_at, clock_timestamp(), coalesce(paused_until, '-infinity'::timestamptz))
      + make_interval(secs => ${(count * intervalMs) / 1000})
    where channel = ${channel}
    returning extract(epoch from (next_slot_at - clock_timestamp())) * 1000 as end_ms`);
  const endMs = Number(rowsOf<{ end_ms: number }>(result)[0]?.end_ms ?? 0);
  return endMs - count * intervalMs;
}

/** Pauses the channel for every process (a 429 with retry_after). */
export async function pauseChannel(db: Executor, channel: Channel, seconds: number): Promise<void> {
  await db.execute(sql`
    update delivery_channel_state set paused_until = greatest(
      coalesce(paused_until, '-infinity'::timestamptz),
      clock_timestamp() + make_interval(secs => ${seconds}))
    where channel = ${channel}`);
}

export interface ContentRow {
  status: OutgoingMessageRow["status"];
  content: MessageContent;
}

export async function loadMessageContent(
  db: Executor,
  messageId: number,
): Promise<ContentRow | undefined> {
  const rows = await db
    .select({ status: outgoingMessages.status, content: outgoingMessages.content })
    .from(outgoingMessages)
    .where(eq(outgoingMessages.id, messageId));
  return rows[0];
}

/** Statuses of some messages (to notice cancellations made by other processes). */
export async function loadStatuses(
  db: Executor,
  ids: readonly number[],
): Promise<Map<number, OutgoingMessageRow["status"]>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: outgoingMessages.id, status: outgoingMessages.status })
    .from(outgoingMessages)
    .where(inArray(outgoingMessages.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.status]));
}

/**
 * Starts every scheduled message whose time has come. Each is started by a conditional update
 * in its own transaction (SKIP LOCKED), so concurrent schedulers never start one twice.
 * Returns the ids this call started.
 */
export async function startDueMessages(db: Database, limit = 20): Promise<number[]> {
  const result = await db.execute(sql`
    select id from outgoing_messages
    where status = 'scheduled' and scheduled_at <= now()
    order by scheduled_at limit ${limit}`);
  const started: number[] = [];
  for (const r of rowsOf<{ id: number }>(result)) {
    if (await startMessage(db, Number(r.id))) started.push(Number(r.id));
  }
  return started;
}

/**
 * Marks `done` every sending message with nothing left to do. Conditional: exactly one caller
 * gets each finished message back (to send the final report once).
 */
export async function finishCompletedMessages(db: Executor): Promise<OutgoingMessageRow[]> {
  return db
    .update(outgoingMessages)
    .set({ status: "done", finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(outgoingMessages.status, "sending"),
        sql`not exists (select 1 from deliveries d where d.message_id = ${outgoingMessages.id}
          and d.status in ('pending', 'sending'))`,
      ),
    )
    .returning();
}

/**
 * Takes the turn to refresh the progress messages that are due (not refreshed for
 * `everySeconds`). Conditional per row, so only one instance edits a given message each time.
 */
export async function takeProgressTurns(
  db: Executor,
  everySeconds: number,
): Promise<OutgoingMessageRow[]> {
  return db
    .update(outgoingMessages)
    .set({ progressUpdatedAt: sql`now()` })
    .where(
      and(
        eq(outgoingMessages.status, "sending"),
        sql`${outgoingMessages.progressMessageId} is not null`,
        sql`(${outgoingMessages.progressUpdatedAt} is null or ${outgoingMessages.progressUpdatedAt}
          < now() - make_interval(secs => ${everySeconds}))`,
      ),
    )
    .returning();
}
