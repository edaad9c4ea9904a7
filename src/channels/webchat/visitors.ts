import { createHash, randomBytes } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import { createSyntheticUser, findUserByChannelId } from "../../core/people";
import { type Database, rowsOf } from "../../db/client";
import { type UserRow, users } from "../../db/schema";
import { SYNTHETIC_CHAT_ID_BASE } from "../types";

/**
 * Web chat sessions before and after the visitor writes.
 *
 * Opening the page (POST /chat/session) must not create a person: scripts can open thousands of
 * sessions, and a users row is personal data kept until the retention job forgets it. So a new
 * session only reserves the person's id (a value of the users id sequence; nothing is inserted)
 * and carries it in the cookie, `<id>.<secret>`: the page learns its id at once (it tells a new
 * person from the old one by it) and the row is created with that id by the first message.
 *
 * Once the row exists the cookie is replaced by the bare secret. The secret alone identifies the
 * person (the row keeps its hash, as cookies always did), and a bare cookie whose row is gone
 * (/forgetme) is a stranger: it can never claim its old id again. The anti-forgery token is
 * derived from the secret, so it stays valid across that replacement.
 */

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const CLAIM = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

export interface WebCookie {
  /** The random part: its hash is the person's channel id. */
  secret: string;
  /** The reserved id of a visitor who has not written yet (cookies of new sessions). */
  claimedId?: number;
}

/** Reads a cookie; undefined for anything this app never issued. */
export function parseCookie(value: string | undefined): WebCookie | undefined {
  if (!value) return undefined;
  if (SECRET.test(value)) return { secret: value };
  const m = CLAIM.exec(value);
  if (!m) return undefined;
  return { secret: m[2] as string, claimedId: Number(m[1]) };
}

export function secretHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** The person behind a cookie, when they have written before. */
export function findPerson(db: Database, cookie: WebCookie): Promise<UserRow | undefined> {
  return findUserByChannelId(db, "web", secretHash(cookie.secret));
}

/** A new session: a reserved id and the cookie that claims it. Inserts nothing. */
export async function newVisitor(db: Database): Promise<{ cookie: string; id: number }> {
  const [row] = rowsOf<{ id: string | number }>(
    await db.execute(sql`select nextval(pg_get_serial_sequence('users', 'id')) as id`),
  );
  const id = Number(row?.id);
  if (!Number.isSafeInteger(id)) throw new Error("could not reserve a user id");
  return { cookie: `${id}.${randomBytes(32).toString("base64url")}`, id };
}

/**
 * Creates the person at their first message, with the id their session reserved. A claim is only
 * honoured for an id the sequence has really handed out and no row has: a forged cookie naming a
 * future id would collide with a person created later, one naming a taken id gets a fresh one.
 * Concurrent first messages of one session create one row (the channel id is unique).
 */
export async function createPerson(db: Database, cookie: WebCookie): Promise<UserRow> {
  const hash = secretHash(cookie.secret);
  if (cookie.claimedId !== undefined) {
    const id = cookie.claimedId;
    await db.execute(sql`
      insert into users (id, channel, channel_user_id, chat_id, locale)
      select ${id}::bigint, 'web', ${hash}, ${id}::bigint + ${SYNTHETIC_CHAT_ID_BASE}, null
      where ${id}::bigint <= coalesce(
        pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 0)
      on conflict do nothing`);
  }
  return (await findUserByChannelId(db, "web", hash)) ?? createSyntheticUser(db, "web", hash, null);
}

/** Which of these secret hashes belong to a person by now (one query for many waiting pages). */
export async function peopleAmong(db: Database, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await db
    .select({ hash: users.channelUserId })
    .from(users)
    .where(and(eq(users.channel, "web"), inArray(users.channelUserId, hashes)));
  return new Set(rows.map((r) => r.hash));
}
