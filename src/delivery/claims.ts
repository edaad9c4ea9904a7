/**
 * The engine's side of the delivery store: claiming due rows, recording outcomes, and the shared
 * per-channel send clock and 429 pause. Only the engine (src/delivery/engine.ts) uses these.
 */
import { eq, type SQL, sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client";
import { type Channel, type OutgoingMessageRow, outgoingMessages } from "../db/schema";
import type { MessageContent } from "./content";
import { DELIVERY_WAKE_CHANNEL } from "./events";

export interface ClaimedRow {
  id: number;
  messageId: number;
  userId: number;
  attempts: number;
  chatId: number;
  locale: string | null;
  inactive: boolean;
  channel: Channel;
  /** The person's ids on their channel (a WhatsApp number and business-scoped id). */
  channelUserId: string;
  channelAltId: string | null;
  /** The person's last message to us (WhatsApp's 24-hour window counts from it). */
  lastMessageAt: Date | null;
  /** `reengage`: the row failed outside WhatsApp's window and goes again as a template. */
  channelStatus: string | null;
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
    returning d.id, d.message_id, d.user_id, d.attempts, d.channel_status, u.chat_id, u.locale,
      u.inactive, u.channel, u.last_message_at, u.channel_user_id, u.channel_alt_id`);
  return rowsOf<Record<string, unknown>>(result).map((r) => ({
    id: Number(r.id),
    messageId: Number(r.message_id),
    userId: Number(r.user_id),
    attempts: Number(r.attempts),
    chatId: Number(r.chat_id),
    locale: (r.locale as string | null) ?? null,
    inactive: r.inactive === true || r.inactive === "t",
    channel: r.channel as Channel,
    channelUserId: String(r.channel_user_id),
    channelAltId: (r.channel_alt_id as string | null) ?? null,
    lastMessageAt: r.last_message_at ? new Date(r.last_message_at as string | Date) : null,
    channelStatus: (r.channel_status as string | null) ?? null,
  }));
}

export type RowOutcome =
  | { kind: "sent"; channelMessageId: string | null; viaTemplate?: boolean }
  | { kind: "held"; channelMessageId: string | null }
  | { kind: "skipped"; reason: string; error?: string }
  | { kind: "retry"; delayMs: number; error: string; giveBackAttempt?: boolean }
  | { kind: "failed"; error: string };

/**
 * Records what happened to a claimed row. Returns false when the lease was lost meanwhile: the
 * row was claimed again since. Given the claim's `attempts`, a row that a reaper put back to
 * pending (the lease passed during a database outage) but nobody claimed since is still ours:
 * recording it then is what keeps it from being sent a second time.
 */
export async function recordOutcome(
  db: Executor,
  rowId: number,
  token: string,
  outcome: RowOutcome,
  attempts: number,
): Promise<boolean> {
  let set: SQL;
  switch (outcome.kind) {
    case "sent":
      set = sql`status = 'sent', sent_at = now(), channel_message_id = ${outcome.channelMessageId},
        channel_status = null, via_template = ${outcome.viaTemplate === true}, last_error = null`;
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
    where id = ${rowId} and ((claim_token = ${token} and status = 'sending')
      or (status = 'pending' and claim_token is null and attempts = ${attempts}::int))
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

/** Makes sure the channel's limiter row exists. */
export async function ensureChannelState(db: Executor, channel: Channel): Promise<void> {
  await db.execute(sql`
    insert into delivery_channel_state (channel, next_slot_at) values (${channel}, now())
    on conflict (channel) do nothing`);
}

interface ChannelClock {
  /** ms until the next free send slot (negative: free now). */
  nextSlotInMs: number;
  /** ms the channel stays paused after a 429 (≤ 0: not paused). */
  pausedForMs: number;
  /** The database's clock when it answered (epoch ms), to relate its times to this process's. */
  dbNowMs: number;
}

export async function readChannelClock(db: Executor, channel: Channel): Promise<ChannelClock> {
  const result = await db.execute(sql`
    select extract(epoch from (next_slot_at - clock_timestamp())) * 1000 as next_ms,
      coalesce(extract(epoch from (paused_until - clock_timestamp())) * 1000, -1) as paused_ms,
      extract(epoch from clock_timestamp()) * 1000 as now_ms
    from delivery_channel_state where channel = ${channel}`);
  const r = rowsOf<{ next_ms: number; paused_ms: number; now_ms: number }>(result)[0];
  return {
    nextSlotInMs: Number(r?.next_ms ?? 0),
    pausedForMs: Number(r?.paused_ms ?? -1),
    dbNowMs: Number(r?.now_ms ?? Number.NaN),
  };
}

export interface SlotReservation {
  /** The first reserved slot on the database's clock (epoch ms); the others follow at intervalMs. */
  firstAtMs: number;
  /** The database's clock when it reserved them (epoch ms). */
  dbNowMs: number;
}

/**
 * Reserves `count` consecutive send slots `intervalMs` apart on the channel's shared clock
 * (GCRA), never before a 429 pause ends. Times are absolute on the database's clock, so that
 * every process places its sends on the same time line whatever its own query latency was.
 */
export async function reserveSlots(
  db: Executor,
  channel: Channel,
  count: number,
  intervalMs: number,
): Promise<SlotReservation> {
  const result = await db.execute(sql`
    update delivery_channel_state set next_slot_at =
      greatest(next_slot_at, clock_timestamp(), coalesce(paused_until, '-infinity'::timestamptz))
      + make_interval(secs => ${(count * intervalMs) / 1000})
    where channel = ${channel}
    returning extract(epoch from next_slot_at) * 1000 as end_ms,
      extract(epoch from clock_timestamp()) * 1000 as now_ms`);
  const r = rowsOf<{ end_ms: number; now_ms: number }>(result)[0];
  const dbNowMs = Number(r?.now_ms ?? Number.NaN);
  const endMs = r ? Number(r.end_ms) : dbNowMs + count * intervalMs;
  return { firstAtMs: endMs - count * intervalMs, dbNowMs };
}

/**
 * Pauses the channel for every process (a 429 with retry_after), and tells the engines of the
 * other processes at once (NOTIFY): their sends already placed on the clock inside the pause
 * would otherwise go out and meet 429s of their own.
 */
export async function pauseChannel(db: Executor, channel: Channel, seconds: number): Promise<void> {
  await db.execute(sql`
    with paused as (
      update delivery_channel_state set paused_until = greatest(
        coalesce(paused_until, '-infinity'::timestamptz),
        clock_timestamp() + make_interval(secs => ${seconds}))
      where channel = ${channel}
      returning paused_until
    )
    select pg_notify(${DELIVERY_WAKE_CHANNEL},
      ${`pause:${channel}:`} || floor(extract(epoch from paused_until) * 1000)::bigint::text)
    from paused`);
}

interface ContentRow {
  status: OutgoingMessageRow["status"];
  kind: OutgoingMessageRow["kind"];
  content: MessageContent;
}

export async function loadMessageContent(
  db: Executor,
  messageId: number,
): Promise<ContentRow | undefined> {
  const rows = await db
    .select({
      status: outgoingMessages.status,
      kind: outgoingMessages.kind,
      content: outgoingMessages.content,
    })
    .from(outgoingMessages)
    .where(eq(outgoingMessages.id, messageId));
  return rows[0];
}
