import type { VersionedState } from "@grammyjs/conversations";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { conversationState } from "../db/schema";

/**
 * @grammyjs/conversations storage in PostgreSQL, so a flow survives restarts and can continue
 * on another app instance. Keys are the chat id, the same key the runner sequentializes on.
 */
export function drizzleConversationStorage<S>(db: Database) {
  // Read on every update: a prepared statement skips building the SQL each time.
  const readQuery = db
    .select({ value: conversationState.value })
    .from(conversationState)
    .where(eq(conversationState.key, sql.placeholder("key")))
    .prepare("conversation_state_read");
  return {
    async read(key: string): Promise<VersionedState<S> | undefined> {
      const rows = await readQuery.execute({ key });
      return rows[0]?.value as VersionedState<S> | undefined;
    },
    async write(key: string, state: VersionedState<S>): Promise<void> {
      await db
        .insert(conversationState)
        .values({ key, value: state })
        .onConflictDoUpdate({
          target: conversationState.key,
          set: { value: state, updatedAt: sql`now()` },
        });
    },
    async delete(key: string): Promise<void> {
      await db.delete(conversationState).where(eq(conversationState.key, key));
    },
  };
}
