import type { VersionedState, VersionedStateStorage } from "@grammyjs/conversations";
import { and, eq, sql } from "drizzle-orm";
import type { Context } from "grammy";
import type { Database } from "../db/client";
import { conversationState } from "../db/schema";
import { chatKey } from "./chat-key";
import { flowIsAlive } from "./flows";

/**
 * Conversation state that an earlier middleware already read for this update (in the same round
 * trip as the person), so the storage need not ask the database again. Keyed by the context
 * object: it lives exactly as long as the update.
 */
const prefetched = new WeakMap<Context, unknown>();

export function rememberConversationState(ctx: Context, value: unknown): void {
  prefetched.set(ctx, value);
}

/**
 * @grammyjs/conversations storage in PostgreSQL, so a flow survives restarts and can continue
 * on another app instance. Rows are keyed by `chatKey`, the same key the runner sequentializes
 * on. Reads, writes and deletes are prepared statements: they run on almost every update.
 */
export function drizzleConversationStorage<S>(db: Database): VersionedStateStorage<Context, S> {
  const key = sql.placeholder("key");
  const readQuery = db
    .select({ value: conversationState.value })
    .from(conversationState)
    .where(and(eq(conversationState.key, key), flowIsAlive))
    .prepare("conversation_state_read");
  const writeQuery = db
    .insert(conversationState)
    .values({ key, value: sql.placeholder("value") })
    .onConflictDoUpdate({
      target: conversationState.key,
      set: { value: sql`excluded.value`, updatedAt: sql`now()` },
    })
    .prepare("conversation_state_write");
  const deleteQuery = db
    .delete(conversationState)
    .where(eq(conversationState.key, key))
    .prepare("conversation_state_delete");

  const keyOf = (ctx: Context): string => {
    const k = chatKey(ctx);
    // The bot only runs conversations in private chats, which always have a chat id.
    if (k === undefined) throw new Error("conversation storage needs a chat or a sender");
    return k;
  };
  return {
    async read(ctx) {
      if (prefetched.has(ctx)) {
        const value = prefetched.get(ctx);
        prefetched.delete(ctx);
        return (value ?? undefined) as VersionedState<S> | undefined;
      }
      const rows = await readQuery.execute({ key: keyOf(ctx) });
      return rows[0]?.value as VersionedState<S> | undefined;
    },
    async write(ctx, state) {
      await writeQuery.execute({ key: keyOf(ctx), value: state });
    },
    async delete(ctx) {
      await deleteQuery.execute({ key: keyOf(ctx) });
    },
  };
}
