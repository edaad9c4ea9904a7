/**
 * The delivery store's side of /forgetme: a person's rows stay in their messages' counts
 * without them, and messages that quote what they wrote lose their text.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client";
import type { MessageContent } from "./content";

/** Skip reason of rows that were still to go when their person deleted their data. */
export const FORGOTTEN = "forgotten";

/**
 * Detaches the person from their delivery rows: rows still to go are skipped (`forgotten`),
 * and every row loses the person and the channel's ids (a WhatsApp message id encodes the
 * number). Statuses stay, so a message's totals do not change. Their own progress reports
 * (as a sender) lose the chat they pointed to. Returns the rows touched.
 */
export async function forgetRecipient(
  tx: Executor,
  userId: number,
  chatId: number,
): Promise<{ deliveries: number; outgoing_messages: number }> {
  const rows = rowsOf(
    await tx.execute(sql`
      update deliveries set
        status = case when status in ('pending', 'sending') then 'skipped' else status end,
        skip_reason = case when status in ('pending', 'sending') then ${FORGOTTEN}
          else skip_reason end,
        user_id = null, channel_message_id = null, claim_token = null, claimed_until = null,
        last_error = null, updated_at = now()
      where user_id = ${userId}
      returning id`),
  );
  const reports = rowsOf(
    await tx.execute(sql`
      update outgoing_messages set progress_chat_id = null, progress_message_id = null,
        created_by_user_id = case when created_by_user_id = ${userId} then null
          else created_by_user_id end
      where progress_chat_id = ${chatId} or created_by_user_id = ${userId}
      returning id`),
  );
  return { deliveries: rows.length, outgoing_messages: reports.length };
}

/**
 * Replaces the content of messages that quote a person's words (a question sent to the
 * lawyers, its answer, the reminders listing it) with `content`, and skips their rows still to
 * go: nobody receives those words after the person asked for them to be deleted. Returns the
 * messages changed.
 */
export async function redactMessages(
  tx: Executor,
  messageIds: readonly number[],
  content: MessageContent,
): Promise<number> {
  if (messageIds.length === 0) return 0;
  const ids = `{${messageIds.map((id) => Math.trunc(id)).join(",")}}`;
  await tx.execute(sql`
    update deliveries set status = 'skipped', skip_reason = ${FORGOTTEN}, claim_token = null,
      claimed_until = null, updated_at = now()
    where message_id = any(${ids}::bigint[]) and status in ('pending', 'sending')`);
  const changed = rowsOf(
    await tx.execute(sql`
      update outgoing_messages set content = ${JSON.stringify(content)}::jsonb, updated_at = now()
      where id = any(${ids}::bigint[])
      returning id`),
  );
  return changed.length;
}
