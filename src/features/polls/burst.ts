/**
 * Many first votes from accounts made within the last hour, in a few minutes: bought or
 * scripted accounts voting. The poll's staff are told, at most once an hour per poll (a
 * conditional update picks the one instance that warns).
 */
import { and, eq, sql } from "drizzle-orm";
import { type Database, rowsOf } from "../../db/client";
import { sendToUsers } from "../../delivery";
import { translator } from "../../i18n";
import { LOCALES } from "../../locales";
import { pollText } from "./notices";
import { type PollRow, polls } from "./schema";
import { POLL_LIMITS } from "./types";

const HOUR_MS = 3_600_000;

/** Checks after a new account's first vote; returns the burst's vote count when it warned. */
export async function warnOnBurst(
  db: Database,
  poll: PollRow,
  now: Date,
): Promise<number | undefined> {
  const warnedAt = poll.burstWarnedAt?.getTime();
  if (warnedAt !== undefined && now.getTime() - warnedAt < HOUR_MS) return undefined;
  const windowStart = new Date(now.getTime() - POLL_LIMITS.burstWindowMin * 60_000);
  const [count] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from (select 1 from poll_voters
      where poll_id = ${poll.id} and new_account
        and voted_at >= ${windowStart.toISOString()}::timestamptz
      limit ${POLL_LIMITS.burstVotes}) recent`),
  );
  const votes = Number(count?.n ?? 0);
  if (votes < POLL_LIMITS.burstVotes) return undefined;
  const hourAgo = new Date(now.getTime() - HOUR_MS).toISOString();
  const [claimed] = await db
    .update(polls)
    .set({ burstWarnedAt: now })
    .where(
      and(
        eq(polls.id, poll.id),
        sql`(${polls.burstWarnedAt} is null or ${polls.burstWarnedAt} < ${hourAgo}::timestamptz)`,
      ),
    )
    .returning({ id: polls.id });
  if (!claimed) return undefined;
  const staff = rowsOf<{ user_id: number }>(
    await db.execute(sql`select distinct g.user_id from role_grants g
      where (g.role = 'staff' and g.municipality_id = ${poll.municipalityId})
        or g.user_id = ${poll.createdByUserId ?? -1}`),
  ).map((r) => Number(r.user_id));
  if (staff.length > 0) {
    const text = Object.fromEntries(
      LOCALES.map((l) => [
        l,
        translator(l)("polls.notice.burst", {
          question: pollText(poll.question, l),
          count: votes,
          minutes: POLL_LIMITS.burstWindowMin,
        }),
      ]),
    );
    await sendToUsers(db, {
      kind: "system",
      municipalityId: poll.municipalityId,
      createdByUserId: null,
      content: { text },
      userIds: staff,
    });
  }
  return votes;
}
