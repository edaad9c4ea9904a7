import { sql } from "drizzle-orm";
import type { MiddlewareFn } from "grammy";
import type { Database } from "../../db/client";
import type { AppContext } from "../context";

/** Why a Telegram person is inactive when they blocked the bot (the delivery engine's word too). */
const BLOCKED = "blocked";

/**
 * Telegram tells the bot when a person blocks it (`my_chat_member`: kicked) and unblocks it
 * (member): they are marked inactive at once, not at the next failed delivery, and active again
 * when they come back. Nobody is created here: a stranger blocking the bot leaves no row.
 */
export function chatMemberMiddleware(db: Database): MiddlewareFn<AppContext> {
  return async (ctx, next) => {
    const update = ctx.myChatMember;
    if (!update) return next();
    if (update.chat.type !== "private" || update.from.is_bot) return;
    const status = update.new_chat_member.status;
    if (status === "kicked") {
      await db.execute(sql`update users set inactive = true, inactive_reason = ${BLOCKED},
          updated_at = now()
        where channel = 'telegram' and chat_id = ${update.chat.id} and inactive = false`);
    } else if (status === "member") {
      await reactivate(db, update.chat.id);
    }
  };
}

/** A person who blocked the bot and is back (they unblocked it, or they write again). */
export async function reactivate(db: Database, chatId: number): Promise<void> {
  await db.execute(sql`update users set inactive = false, inactive_reason = null,
      updated_at = now()
    where channel = 'telegram' and chat_id = ${chatId} and inactive
      and inactive_reason = ${BLOCKED}`);
}
