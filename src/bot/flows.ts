import { type ConversationBuilder, createConversation } from "@grammyjs/conversations";
import { type SQL, sql } from "drizzle-orm";
import type { Middleware } from "grammy";
import type { Message } from "grammy/types";
import type { Database } from "../db/client";
import { conversationState } from "../db/schema";
import type { AppContext, ConvContext } from "./context";

/** A flow nobody answered for this long is over: its next update is handled as if none ran. */
export const FLOW_TTL_MS = 24 * 60 * 60 * 1000;

/** Whether a message starts with a bot command ("/help", "/start CODE"). */
export function isCommandMessage(message: Message | undefined): boolean {
  return message?.entities?.some((e) => e.type === "bot_command" && e.offset === 0) ?? false;
}

/**
 * The condition under which stored flow state is still alive: written within FLOW_TTL_MS.
 * Both reads of conversation state (the per-update prefetch and the storage) use it, so an
 * expired flow reads as no flow and the update is handled as usual. (Cheaper than the plugin's
 * own `maxMillisecondsToWait`, which cost a seventh of the CPU of an update.)
 */
export const flowIsAlive: SQL = sql.raw(
  `conversation_state.updated_at > now() - interval '${FLOW_TTL_MS / 1000} seconds'`,
);

/** A conversation of a feature, registered under `id` (it expires: see flowIsAlive). */
export function flow(
  builder: ConversationBuilder<AppContext, ConvContext>,
  id: string,
): Middleware<AppContext> {
  return createConversation(builder, { id });
}

/**
 * Any command ends whatever flow is waiting and is then handled as usual, so /help, /start or
 * /settings always work: one rule for every flow, installed before the flows see the update.
 */
export function commandsEndFlows(): Middleware<AppContext> {
  return async (ctx, next) => {
    if (isCommandMessage(ctx.message) && Object.keys(ctx.conversation.active()).length > 0) {
      await ctx.conversation.exitAll();
    }
    await next();
  };
}

/** Deletes the stored state of flows abandoned longer than `ttlMs` ago (a periodic job). */
export async function deleteExpiredFlows(db: Database, ttlMs = FLOW_TTL_MS): Promise<number> {
  const cutoff = new Date(Date.now() - ttlMs).toISOString();
  const deleted = await db
    .delete(conversationState)
    .where(sql`${conversationState.updatedAt} < ${cutoff}::timestamptz`)
    .returning({ key: conversationState.key });
  return deleted.length;
}
