import { sql } from "drizzle-orm";
import { type Database, rowsOf } from "../../src/db/client";

/** A region and `count` municipalities; returns their ids. */
export async function seedMunicipalities(db: Database, count: number): Promise<number[]> {
  const region = rowsOf<{ id: number }>(
    await db.execute(sql`insert into regions (code, kind, name_ky, name_ru)
      values ('r-' || md5(random()::text), 'oblast', 'Облус', 'Область') returning id`),
  )[0];
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const row = rowsOf<{ id: number }>(
      await db.execute(sql`insert into municipalities (code, kind, region_id, name_ky, name_ru)
        values ('m-' || md5(random()::text), 'aiyl_aimak', ${region?.id}::int,
          ${`Айыл ${i}`}, ${`Село ${i}`}) returning id`),
    )[0];
    ids.push(Number(row?.id));
  }
  return ids;
}

export interface SeedUser {
  chatId: number;
  municipalityId: number | null;
  locale?: "ky" | "ru" | "en" | null;
  topics?: ("hearings" | "polls" | "announcements")[];
  channel?: "telegram" | "web" | "whatsapp";
  inactive?: boolean;
}

/** Inserts users; returns their ids in order. */
export async function seedUsers(db: Database, users: SeedUser[]): Promise<number[]> {
  const ids: number[] = [];
  for (const u of users) {
    const topics = `{${(u.topics ?? ["hearings", "polls", "announcements"]).join(",")}}`;
    const row = rowsOf<{ id: number }>(
      await db.execute(sql`insert into users
        (channel, channel_user_id, chat_id, locale, municipality_id, topics, inactive)
        values (${u.channel ?? "telegram"}, ${String(u.chatId)}, ${u.chatId}::bigint,
          ${u.locale === undefined ? "ky" : u.locale}, ${u.municipalityId}::int, ${topics}::text[],
          ${u.inactive ?? false})
        returning id`),
    )[0];
    ids.push(Number(row?.id));
  }
  return ids;
}

/** `count` Telegram residents of a municipality with chat ids from `firstChat`. */
export async function seedResidents(
  db: Database,
  municipalityId: number,
  count: number,
  firstChat: number,
): Promise<number[]> {
  return seedUsers(
    db,
    Array.from({ length: count }, (_, i) => ({ chatId: firstChat + i, municipalityId })),
  );
}

export async function grantRole(
  db: Database,
  userId: number,
  role: "deputy" | "staff" | "lawyer" | "admin",
  municipalityId: number | null,
): Promise<void> {
  await db.execute(sql`insert into role_grants (user_id, role, municipality_id)
    values (${userId}::bigint, ${role}, ${municipalityId}::int)`);
}

/** Kept for callers importing it from here; the one implementation is in ./wait. */
export { waitFor } from "./wait";
