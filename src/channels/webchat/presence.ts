import { randomUUID } from "node:crypto";
import { and, eq, gt, ne, sql } from "drizzle-orm";
import { type Database, rowsOf } from "../../db/client";
import { webchatStreams } from "../../db/schema";
import type { StreamRef } from "./hub";

/**
 * How long a stream counts as open after its last keep-alive. Pages are pinged every 20 s
 * (PING_EVERY_MS) and each ping refreshes the row, so only a row of an instance that died (or
 * lost its database) gets this old.
 */
export const STREAM_STALE_MS = 90_000;

/**
 * The shared table of open web chat event streams (webchat_streams): which instance holds which
 * person's pages. Every query is by primary key or by the user_id index.
 */
export class StreamPresence {
  constructor(
    private readonly db: Database,
    readonly instanceId: string,
    private readonly cap: number,
    private readonly staleMs = STREAM_STALE_MS,
  ) {}

  private fresh() {
    return sql`now() - make_interval(secs => ${this.staleMs / 1000})`;
  }

  /**
   * Registers a stream and removes, in the same statement, the person's streams beyond the
   * newest `cap` and every stale row (of instances that died). Two pages opening at once both
   * run the delete, which converges on the same newest `cap`.
   */
  async open(userId: number): Promise<{ stream: StreamRef; evicted: StreamRef[] }> {
    const stream = { id: randomUUID(), instanceId: this.instanceId };
    await this.db
      .insert(webchatStreams)
      .values({ id: stream.id, userId, instanceId: stream.instanceId });
    const removed = rowsOf<{ id: string; instance_id: string; user_id: number | string }>(
      await this.db.execute(sql`
        delete from webchat_streams
        where seen_at < ${this.fresh()}
           or id in (select id from webchat_streams where user_id = ${userId}
                     order by opened_at desc, id desc offset ${this.cap})
        returning id, instance_id, user_id`),
    );
    const evicted = removed
      .filter((r) => Number(r.user_id) === userId)
      .map((r) => ({ id: r.id, instanceId: r.instance_id }));
    return { stream, evicted };
  }

  /** Refreshes a stream's keep-alive; false when its row is gone (pushed over the cap). */
  async touch(streamId: string): Promise<boolean> {
    const rows = await this.db
      .update(webchatStreams)
      .set({ seenAt: sql`now()` })
      .where(eq(webchatStreams.id, streamId))
      .returning({ id: webchatStreams.id });
    return rows.length > 0;
  }

  async close(streamId: string): Promise<void> {
    await this.db.delete(webchatStreams).where(eq(webchatStreams.id, streamId));
  }

  /** Whether the person has a live stream on another instance. */
  async openElsewhere(userId: number): Promise<boolean> {
    const rows = await this.db
      .select({ id: webchatStreams.id })
      .from(webchatStreams)
      .where(
        and(
          eq(webchatStreams.userId, userId),
          ne(webchatStreams.instanceId, this.instanceId),
          gt(webchatStreams.seenAt, this.fresh()),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }

  /**
   * Sends a NOTIFY only when the person has a live stream on another instance: one round trip
   * either way, and nothing on the wire for the many recipients with no page open anywhere.
   */
  async notifyIfElsewhere(userId: number, channel: string, payload: string): Promise<void> {
    await this.db.execute(sql`
      select pg_notify(${channel}, ${payload})
      where exists (select 1 from webchat_streams
                    where user_id = ${userId} and instance_id <> ${this.instanceId}
                      and seen_at > ${this.fresh()})`);
  }

  /** Removes this instance's rows (shutdown: its pages reconnect elsewhere). */
  async closeInstance(): Promise<void> {
    await this.db.delete(webchatStreams).where(eq(webchatStreams.instanceId, this.instanceId));
  }
}
