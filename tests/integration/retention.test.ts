import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createSyntheticUser } from "../../src/core/people";
import { rowsOf } from "../../src/db/client";
import { runRetention } from "../../src/scheduler/retention";
import { useTestDatabase } from "../helpers/db";

/**
 * The daily retention job enforces every documented lifetime (README, "Personal data"): each
 * kind of row is seeded just past its lifetime and just within it; only the first goes.
 */
describe("retention", () => {
  const handle = useTestDatabase();
  const DAY = 86_400_000;

  async function count(table: string, where = "true"): Promise<number> {
    const [row] = rowsOf<{ n: number }>(
      await handle.db.execute(sql.raw(`select count(*)::int as n from ${table} where ${where}`)),
    );
    return Number(row?.n);
  }

  it("deletes what outlived its purpose and keeps what did not", async () => {
    const db = handle.db;
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
    const a = await createSyntheticUser(db, "web", "retention-a", "ky");
    const b = await createSyntheticUser(db, "web", "retention-b", "ky");

    await db.execute(sql`insert into faq_pending_questions (user_id, text, lang, expires_at) values
      (${a.id}, 'gone', 'ky', ${ago(60_000)}::timestamptz),
      (${a.id}, 'kept', 'ky', ${ago(-30 * 60_000)}::timestamptz)`);
    await db.execute(sql`insert into faq_question_rate (user_id, window_started_at, count) values
      (${a.id}, ${ago(DAY + 60_000)}::timestamptz, 3),
      (${b.id}, ${ago(60_000)}::timestamptz, 1)`);
    await db.execute(sql`insert into invites (code_hash, role, expires_at, used_at) values
      ('used-long-ago', 'lawyer', ${ago(-DAY)}::timestamptz, ${ago(31 * DAY)}::timestamptz),
      ('expired-long-ago', 'lawyer', ${ago(31 * DAY)}::timestamptz, null),
      ('expired-lately', 'lawyer', ${ago(29 * DAY)}::timestamptz, null),
      ('valid', 'lawyer', ${ago(-DAY)}::timestamptz, null)`);
    await db.execute(sql`insert into conversation_state (key, value, updated_at) values
      ('9001', '{}'::jsonb, ${ago(25 * 3_600_000)}::timestamptz),
      ('9002', '{}'::jsonb, ${ago(3_600_000)}::timestamptz)`);
    await db.execute(sql`insert into whatsapp_inbox (wamid, payload, received_at) values
      ('wamid.old', '{"message": {}}'::jsonb, ${ago(8 * DAY)}::timestamptz),
      ('wamid.new', '{"message": {}}'::jsonb, ${ago(6 * DAY)}::timestamptz)`);
    const quoting = (kind: string, days: number) => sql`insert into outgoing_messages
      (kind, content, status, finished_at)
      values (${kind}, '{"text": {"ru": "Можно ли депутату совмещать мандат?"}}'::jsonb, 'done',
        ${ago(days * DAY)}::timestamptz)`;
    await db.execute(quoting("faq_escalation", 181));
    await db.execute(quoting("faq_answer", 10));
    await db.execute(quoting("announcement", 181));

    // Web chat visitors: one who left without finishing onboarding a month ago goes; one who
    // finished, and one who has not finished but wrote lately, stay.
    const left = await createSyntheticUser(db, "web", "retention-left", null);
    const settled = await createSyntheticUser(db, "web", "retention-settled", "ky");
    const writing = await createSyntheticUser(db, "web", "retention-writing", null);
    await db.execute(sql`update users set created_at = ${ago(31 * DAY)}::timestamptz
      where id in (${left.id}, ${settled.id}, ${writing.id})`);
    await db.execute(sql`update users set consent_at = now() where id = ${settled.id}`);
    await db.execute(sql`insert into webchat_messages (user_id, from_bot, payload, created_at) values
      (${left.id}, false, '{"text": "/start", "format": "plain"}'::jsonb, ${ago(31 * DAY)}::timestamptz),
      (${writing.id}, false, '{"text": "/start", "format": "plain"}'::jsonb, ${ago(DAY)}::timestamptz)`);

    // The bookkeeping of several instances: request counters, Telegram update ids, open web chat
    // streams and the runs of periodic jobs, each just past and just within its lifetime.
    await db.execute(sql`insert into rate_limits (key, window_start, hits) values
      ('webchat:send:ip:203.0.113.7', ${ago(DAY + 60_000)}::timestamptz, 12),
      ('webchat:send:ip:203.0.113.7', ${ago(60_000)}::timestamptz, 3)`);
    await db.execute(sql`insert into telegram_updates (update_id, received_at, processed_at) values
      (1001, ${ago(2 * DAY + 60_000)}::timestamptz, ${ago(2 * DAY)}::timestamptz),
      (1002, ${ago(DAY)}::timestamptz, ${ago(DAY)}::timestamptz)`);
    await db.execute(sql`insert into webchat_streams (id, user_id, instance_id, seen_at) values
      ('stream-dead', ${a.id}, 'gone-instance', ${ago(61 * 60_000)}::timestamptz),
      ('stream-live', ${b.id}, 'this-instance', ${ago(20_000)}::timestamptz)`);
    await db.execute(sql`insert into scheduled_job_runs (job, slot, instance_id) values
      ('retention', ${ago(8 * DAY)}::timestamptz, 'i1'),
      ('retention', ${ago(6 * DAY)}::timestamptz, 'i1')`);

    const result = await runRetention(db, 180, now);
    expect(result).toMatchObject({
      rateLimits: 1,
      telegramUpdates: 1,
      webchatStreams: 1,
      jobRuns: 1,
      pendingQuestions: 1,
      questionRate: 1,
      invites: 2,
      flows: 1,
      whatsappInbox: 1,
      quotingMessages: 1,
      abandonedVisitors: 1,
    });
    expect(await count("users", `id = ${left.id}`)).toBe(0);
    expect(await count("webchat_messages", `user_id = ${left.id}`)).toBe(0);
    expect(await count("users", `id in (${settled.id}, ${writing.id})`)).toBe(2);
    expect(await count("faq_pending_questions")).toBe(1);
    expect(await count("faq_question_rate", `user_id = ${b.id}`)).toBe(1);
    expect(
      rowsOf<{ code_hash: string }>(
        await db.execute(sql`select code_hash from invites order by code_hash`),
      ).map((r) => r.code_hash),
    ).toEqual(["expired-lately", "valid"]);
    expect(await count("conversation_state", "key = '9002'")).toBe(1);
    expect(await count("conversation_state")).toBe(1);
    expect(await count("whatsapp_inbox", "wamid = 'wamid.new'")).toBe(1);
    expect(await count("whatsapp_inbox")).toBe(1);
    expect(await count("rate_limits")).toBe(1);
    expect(await count("rate_limits", `hits = 3`)).toBe(1);
    expect(await count("telegram_updates")).toBe(1);
    expect(await count("telegram_updates", "update_id = 1002")).toBe(1);
    expect(await count("webchat_streams")).toBe(1);
    expect(await count("webchat_streams", "id = 'stream-live'")).toBe(1);
    expect(await count("scheduled_job_runs")).toBe(1);
    expect(await count("scheduled_job_runs", `slot > now() - interval '7 days'`)).toBe(1);
    // The old question's words are gone; the recent answer and the announcement keep theirs.
    expect(await count("outgoing_messages", `content::text like '%мандат%'`)).toBe(2);
    expect(
      await count("outgoing_messages", `kind = 'faq_escalation' and content::text like '%мандат%'`),
    ).toBe(0);

    // A second run finds nothing more.
    expect(Object.values(await runRetention(db, 180, now)).every((n) => n === 0)).toBe(true);
  });
});
