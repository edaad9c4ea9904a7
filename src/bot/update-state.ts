import { eq, type SQL, sql } from "drizzle-orm";
import type { Person } from "../core/people";
import type { RoleGrant } from "../core/roles";
import type { Database } from "../db/client";
import { conversationState, roleGrants, users } from "../db/schema";
import { flowIsAlive } from "./flows";

/** What every update needs from the database before any handler runs. */
export interface UpdateState {
  /** The person with their roles; undefined when the chat id has no user yet. */
  person: Person | undefined;
  /**
   * The stored conversation state for the update's storage key (null: none), known only when
   * the person exists (it came back on the same rows).
   */
  conversation: { value: unknown } | undefined;
}

export type UpdateStateLoader = (chatId: number, key: string) => Promise<UpdateState>;

/**
 * Loads the person, their roles and their conversation state in one round trip. Every update
 * pays for this, and a round trip to the database costs more than the rest of a typical update,
 * so the two reads that used to run back to back share one prepared statement.
 */
export function updateStateLoader(db: Database): UpdateStateLoader {
  const conversationValue: SQL<unknown> = sql`(select ${conversationState.value} from ${conversationState} where ${conversationState.key} = ${sql.placeholder("key")} and ${flowIsAlive})`;
  const query = db
    .select({
      user: users,
      role: roleGrants.role,
      municipalityId: roleGrants.municipalityId,
      conversation: conversationValue.mapWith(conversationState.value),
    })
    .from(users)
    .leftJoin(roleGrants, eq(roleGrants.userId, users.id))
    .where(eq(users.chatId, sql.placeholder("chatId")))
    .prepare("update_state_read");
  return async (chatId, key) => {
    const rows = await query.execute({ chatId, key });
    const first = rows[0];
    if (!first) return { person: undefined, conversation: undefined };
    const roles: RoleGrant[] = [];
    for (const row of rows) {
      if (row.role) roles.push({ role: row.role, municipalityId: row.municipalityId });
    }
    return {
      person: { user: first.user, roles },
      conversation: { value: first.conversation ?? null },
    };
  };
}
