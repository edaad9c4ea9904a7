import { getConnInfo } from "@hono/node-server/conninfo";
import { sql } from "drizzle-orm";
import type { Context } from "hono";
import { type Database, rowsOf } from "../db/client";

/** A budget: at most `limit` hits per fixed window of `windowMs`. */
export interface RateRule {
  /** What is counted, the first part of the key ("webchat:send:session"). */
  name: string;
  limit: number;
  windowMs: number;
}

/**
 * Counts hits in the rate_limits table, so every app instance on the database shares one budget
 * (an in-process counter gives each instance, and each restart, a fresh one). A fixed window:
 * one row per key and window, one atomic upsert per request; rows of past windows are pruned by
 * the retention job. The window is cut on the database's clock, the one clock all instances share.
 */
export class RateLimiter {
  constructor(private readonly db: Database) {}

  /**
   * Counts one hit against each rule for its subject, in one statement; true when every rule is
   * still within its limit (the hit that goes over is refused, and so is every later one in the
   * window). Refused hits are counted too: hammering does not earn a fresh budget.
   */
  async allow(checks: ReadonlyArray<{ rule: RateRule; subject: string }>): Promise<boolean> {
    if (checks.length === 0) return true;
    const values = sql.join(
      checks.map(
        ({ rule, subject }) =>
          sql`(${`${rule.name}:${subject}`}, to_timestamp(floor(extract(epoch from clock_timestamp()) * 1000 / ${rule.windowMs}::bigint) * ${rule.windowMs}::bigint / 1000.0), 1)`,
      ),
      sql`, `,
    );
    const rows = rowsOf<{ key: string; hits: number }>(
      await this.db.execute(sql`
        insert into rate_limits (key, window_start, hits) values ${values}
        on conflict (key, window_start) do update set hits = rate_limits.hits + 1
        returning key, hits`),
    );
    const hits = new Map(rows.map((r) => [r.key, Number(r.hits)]));
    return checks.every(
      ({ rule, subject }) => (hits.get(`${rule.name}:${subject}`) ?? 0) <= rule.limit,
    );
  }
}

/**
 * The client's address: the socket's peer, or, when `trustProxy` says a reverse proxy or load
 * balancer of ours stands in front, the address that proxy appended last to X-Forwarded-For
 * (anything to the left of it was written by the client and proves nothing).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for");
    const last = forwarded?.split(",").at(-1)?.trim();
    if (last) return last.slice(0, 64);
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // Requests handed to app.request() in-process have no socket.
    return "unknown";
  }
}
