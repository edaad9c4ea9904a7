/**
 * The scheduler's side of the delivery store: starting due messages, re-queueing expired leases,
 * taking progress turns, finishing messages (storing their totals) and retention. Every
 * transition is a conditional UPDATE, so any number of instances can run them side by side.
 *
 * `at` parameters: the time to judge by, for tests with an injected clock; by default the
 * database's own `now()` (one clock for every instance).
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client";
import { type MessageKind, type OutgoingMessageRow, outgoingMessages } from "../db/schema";
import { startMessage } from "./messages";

const nowOr = (at: Date | undefined): SQL =>
  at ? sql`${at.toISOString()}::timestamptz` : sql`now()`;

/**
 * Starts every scheduled message whose time has come. Each is started by a conditional update
 * in its own transaction, so concurrent schedulers never start one twice. Returns the ids this
 * call started.
 */
export async function startDueMessages(db: Executor, limit = 20, at?: Date): Promise<number[]> {
  await dropExpiredMessages(db, at);
  const result = await db.execute(sql`
    select id from outgoing_messages
    where status = 'scheduled' and scheduled_at <= ${nowOr(at)}
    order by scheduled_at limit ${limit}`);
  const started: number[] = [];
  for (const r of rowsOf<{ id: number }>(result)) {
    if (await startMessage(db, Number(r.id))) started.push(Number(r.id));
  }
  return started;
}

/**
 * Cancels scheduled messages that were not started before their `expires_at` (every instance
 * was down at their time): such a message is dropped, never sent in a late burst. Returns ids.
 */
export async function dropExpiredMessages(db: Executor, at?: Date): Promise<number[]> {
  const result = await db.execute(sql`
    update outgoing_messages set status = 'cancelled', cancelled_at = now(), updated_at = now()
    where status = 'scheduled' and expires_at is not null and expires_at <= ${nowOr(at)}
    returning id`);
  return rowsOf<{ id: number }>(result).map((r) => Number(r.id));
}

/**
 * Re-queues rows whose worker died (lease passed). Returns how many. `keep`: rows the caller's
 * own engine is still writing the outcome of (sent, the database was away): not dead.
 */
export async function reapExpiredLeases(
  db: Executor,
  at?: Date,
  keep: readonly number[] = [],
): Promise<number> {
  const result = await db.execute(sql`
    update deliveries set status = 'pending', claim_token = null, claimed_until = null,
      next_attempt_at = now(), updated_at = now()
    where status = 'sending' and claimed_until < ${nowOr(at)}
      and not (id = any(${`{${keep.join(",")}}`}::bigint[]))
    returning 1 as one`);
  return rowsOf(result).length;
}

/**
 * Sends again the messages finished within the hour that have a row to go again (a WhatsApp row
 * re-queued as a template after its message finished). The re-queue sets such a message back to
 * `sending` itself, but under PostgreSQL's read committed a tick finishing the message at that
 * very moment can still mark it `done` from a snapshot taken before the re-queue: the next tick
 * repairs that. Returns the messages reopened.
 */
export async function reopenMessagesWithPendingRows(db: Executor): Promise<number> {
  const result = await db.execute(sql`
    update outgoing_messages m set status = 'sending', updated_at = now()
    where m.status = 'done' and m.finished_at > now() - interval '1 hour'
      and exists (select 1 from deliveries d where d.message_id = m.id and d.status = 'pending')
    returning m.id`);
  return rowsOf(result).length;
}

/** SQL: the final counts of a message's deliveries, as the jsonb stored in `totals`. */
const TOTALS_OF = (messageId: SQL | typeof outgoingMessages.id) => sql`(
  select jsonb_build_object(
    'total', count(*),
    'sent', count(*) filter (where d.status = 'sent'),
    'failed', count(*) filter (where d.status = 'failed'),
    'skipped', count(*) filter (where d.status = 'skipped'),
    'blocked', count(*) filter (where d.status = 'skipped' and d.skip_reason = 'blocked'),
    'unreachable', count(*) filter (where d.status = 'skipped' and d.skip_reason = 'unreachable'),
    'held', count(*) filter (where d.status = 'held'),
    'outsideWindow', count(*) filter (where d.status = 'skipped' and d.skip_reason = 'outside_window'),
    'templates', count(*) filter (where d.status = 'sent' and d.via_template),
    'delivered', count(*) filter (where d.status = 'sent' and d.channel_status in ('delivered', 'read')),
    'read', count(*) filter (where d.status = 'sent' and d.channel_status = 'read'))
  from deliveries d where d.message_id = ${messageId})`;

/**
 * Recounts the stored totals of the finished messages among `messageIds` (a subquery), for
 * outcomes a channel reports after the message finished (a WhatsApp `failed` status).
 */
export async function refreshTotals(db: Executor, messageIds: SQL): Promise<void> {
  await db.execute(sql`
    update outgoing_messages m set totals = ${TOTALS_OF(sql`m.id`)}, updated_at = now()
    where m.status = 'done' and m.totals is not null and m.id in (${messageIds})`);
}

/**
 * Marks `done` every sending message with nothing left to do, storing its totals. Conditional:
 * exactly one caller gets each finished message back (to send the final report once).
 */
export async function finishCompletedMessages(db: Executor): Promise<OutgoingMessageRow[]> {
  return db
    .update(outgoingMessages)
    .set({
      status: "done",
      finishedAt: sql`now()`,
      updatedAt: sql`now()`,
      totals: TOTALS_OF(outgoingMessages.id),
    })
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
 * `everySeconds`), of messages of `kinds` only. Conditional per row, so only one instance edits
 * a given message each time.
 */
export async function takeProgressTurns(
  db: Executor,
  everySeconds: number,
  kinds: readonly MessageKind[],
): Promise<OutgoingMessageRow[]> {
  if (kinds.length === 0) return [];
  return db
    .update(outgoingMessages)
    .set({ progressUpdatedAt: sql`now()` })
    .where(
      and(
        eq(outgoingMessages.status, "sending"),
        inArray(outgoingMessages.kind, [...kinds]),
        sql`${outgoingMessages.progressMessageId} is not null`,
        sql`(${outgoingMessages.progressUpdatedAt} is null or ${outgoingMessages.progressUpdatedAt}
          < now() - make_interval(secs => ${everySeconds}))`,
      ),
    )
    .returning();
}

/**
 * Retention: deletes the delivery rows of messages that ended (done or cancelled) before
 * `cutoff`, storing each message's totals first (in the same transaction), so its reports keep
 * their counts. Rows of messages still running are kept whatever their age. Returns how many
 * rows were deleted.
 */
export async function purgeDeliveries(db: Executor, cutoff: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const ended = sql`select id from outgoing_messages
      where status in ('done', 'cancelled')
        and coalesce(finished_at, cancelled_at, updated_at) < ${cutoff.toISOString()}::timestamptz
        and exists (select 1 from deliveries d where d.message_id = outgoing_messages.id)`;
    await tx.execute(sql`
      update outgoing_messages m set totals = ${TOTALS_OF(sql`m.id`)}
      where m.id in (${ended})`);
    const result = await tx.execute(sql`
      with gone as (delete from deliveries where message_id in (${ended}) returning 1)
      select count(*)::int as n from gone`);
    return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  });
}
