import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { preparedStatement } from "../db/prepared";
import { roleGrants, SYNTHETIC_CHAT_ID_BASE, type Topic, type UserRow, users } from "../db/schema";
import type { Locale } from "../locales";
import type { RoleGrant } from "./roles";

export interface Person {
  user: UserRow;
  roles: RoleGrant[];
}

/** The person behind a chat id with their roles, in one query. */
export async function findPersonByChatId(
  db: Database,
  chatId: number,
): Promise<Person | undefined> {
  const rows = await db
    .select({ user: users, role: roleGrants.role, municipalityId: roleGrants.municipalityId })
    .from(users)
    .leftJoin(roleGrants, eq(roleGrants.userId, users.id))
    .where(eq(users.chatId, chatId));
  const first = rows[0];
  if (!first) return undefined;
  const roles: RoleGrant[] = [];
  for (const row of rows) {
    if (row.role) roles.push({ role: row.role, municipalityId: row.municipalityId });
  }
  return { user: first.user, roles };
}

/** Finds the Telegram user, creating the row on their first update. */
export async function findOrCreateTelegramPerson(
  db: Database,
  telegramId: number,
  firstName: string | undefined,
): Promise<Person> {
  const existing = await findPersonByChatId(db, telegramId);
  if (existing) return existing;
  await db
    .insert(users)
    .values({
      channel: "telegram",
      channelUserId: String(telegramId),
      chatId: telegramId,
      firstName: firstName ?? null,
    })
    .onConflictDoNothing();
  const created = await findPersonByChatId(db, telegramId);
  if (!created) throw new Error(`user ${telegramId} vanished right after insert`);
  return created;
}

/**
 * Creates a person on a channel without its own numeric ids (web chat, WhatsApp). Their chat id
 * is derived from the row id, above the range Telegram uses.
 */
export async function createSyntheticUser(
  db: Database,
  channel: "web" | "whatsapp",
  channelUserId: string,
  locale: Locale | null,
): Promise<UserRow> {
  await db.execute(sql`
    with next as (select nextval(pg_get_serial_sequence('users', 'id')) as id)
    insert into users (id, channel, channel_user_id, chat_id, locale)
    select id, ${channel}, ${channelUserId}, id + ${SYNTHETIC_CHAT_ID_BASE}, ${locale} from next
    on conflict (channel, channel_user_id) do nothing
    `);
  const rows = await db
    .select()
    .from(users)
    .where(sql`${users.channel} = ${channel} and ${users.channelUserId} = ${channelUserId}`);
  const row = rows[0];
  if (!row) throw new Error("could not create the user");
  return row;
}

// Every web chat request looks its person up by the session (visitors.ts): built once.
const userByChannelId = preparedStatement((db) =>
  db
    .select()
    .from(users)
    .where(
      sql`${users.channel} = ${sql.placeholder("channel")} and ${users.channelUserId} = ${sql.placeholder("channelUserId")}`,
    )
    .prepare("user_by_channel_id"),
);

export async function findUserByChannelId(
  db: Database,
  channel: UserRow["channel"],
  channelUserId: string,
): Promise<UserRow | undefined> {
  const rows = await userByChannelId(db).execute({ channel, channelUserId });
  return rows[0];
}

export async function findUserById(db: Database, id: number): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(users.id, id));
  return rows[0];
}

type UserSettings = Partial<{
  locale: Locale;
  municipalityId: number;
  topics: Topic[];
  consentAt: Date;
}>;

export async function updateUserSettings(
  db: Database,
  userId: number,
  settings: UserSettings,
): Promise<void> {
  await db
    .update(users)
    .set({ ...settings, updatedAt: sql`now()` })
    .where(eq(users.id, userId));
}

/** The user is fully set up once they have a municipality and gave consent. */
export function isOnboarded(user: UserRow): boolean {
  return user.municipalityId !== null && user.consentAt !== null;
}
