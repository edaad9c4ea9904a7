import { and, eq, or, sql } from "drizzle-orm";
import { type Database, rowsOf } from "../../db/client";
import { type UserRow, users } from "../../db/schema";
import { syntheticChatId } from "../types";

/** Who wrote, as Meta names them: the phone number, the business-scoped id, or both. */
export interface WaSender {
  waId?: string | undefined;
  bsuid?: string | undefined;
  name?: string | undefined;
}

/** The phone number of a wa_id ("996700123456" → "+996700123456"), or null when it is none. */
export function phoneOfWaId(waId: string | undefined): string | null {
  return waId && /^[1-9]\d{6,14}$/.test(waId) ? `+${waId}` : null;
}

/**
 * Finds the WhatsApp person by either identifier, creating them on their first message. The
 * phone number is `channel_user_id` (the business-scoped id stands in for it while Meta sends
 * no number) and the business-scoped id `channel_alt_id`; an id seen for the first time is added.
 * WhatsApp proved the sender owns the number, so it is stored as a verified phone (polls).
 */
export async function findOrCreateWhatsappUser(
  db: Database,
  sender: WaSender,
): Promise<{ user: UserRow; created: boolean }> {
  const { waId, bsuid } = sender;
  const primary = waId ?? bsuid;
  if (!primary) throw new Error("a WhatsApp message without a sender id");
  const existing = await find(db, sender);
  if (existing) return { user: await complete(db, existing, sender), created: false };
  const phone = phoneOfWaId(waId);
  const inserted = await db.execute(sql`
    with next as (select nextval(pg_get_serial_sequence('users', 'id')) as id)
    insert into users (id, channel, channel_user_id, channel_alt_id, chat_id, first_name,
      phone, phone_verified_at)
    select id, 'whatsapp', ${primary}, ${bsuid ?? null}, id + ${syntheticChatId(0)},
      ${sender.name?.slice(0, 64) ?? null}, ${phone}, ${phone ? sql`now()` : null}
    from next
    on conflict do nothing
    returning id`);
  const created = rowsOf(inserted).length > 0;
  const user = await find(db, sender);
  if (!user) throw new Error("could not create the WhatsApp user");
  return { user, created };
}

async function find(db: Database, { waId, bsuid }: WaSender): Promise<UserRow | undefined> {
  const ids = [waId, bsuid].filter((v): v is string => Boolean(v));
  const rows = await db
    .select()
    .from(users)
    .where(
      and(
        eq(users.channel, "whatsapp"),
        or(
          ...ids.map((id) => eq(users.channelUserId, id)),
          ...(bsuid ? [eq(users.channelAltId, bsuid)] : []),
        ),
      ),
    );
  // Both ids may match two rows only if Meta once sent them apart; the phone's row wins.
  return rows.find((r) => r.channelUserId === waId) ?? rows[0];
}

/** Adds an identifier the row lacks: the business-scoped id, or the number once Meta sends it. */
async function complete(db: Database, user: UserRow, sender: WaSender): Promise<UserRow> {
  const patch: Partial<typeof users.$inferInsert> = {};
  if (sender.bsuid && !user.channelAltId) patch.channelAltId = sender.bsuid;
  const phone = phoneOfWaId(sender.waId);
  if (
    sender.waId &&
    user.channelUserId !== sender.waId &&
    user.channelUserId === user.channelAltId
  ) {
    patch.channelUserId = sender.waId;
  }
  if (phone && !user.phoneVerifiedAt) {
    patch.phone = phone;
    patch.phoneVerifiedAt = new Date();
  }
  if (Object.keys(patch).length === 0) return user;
  try {
    const [row] = await db
      .update(users)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(eq(users.id, user.id))
      .returning();
    return row ?? user;
  } catch {
    // Another row already holds that id (two rows for one person): keep this one as it is.
    return user;
  }
}
