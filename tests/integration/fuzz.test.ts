import { describe, expect, it } from "vitest";
import { runFuzz } from "../../bench/fuzz/run";
import { createTestDatabase } from "../helpers/db";

/**
 * A small run of `npm run fuzz` (same generators, same in-process app, webhook mode): random and
 * malformed Telegram updates and web chat requests must cause no crash, no unhandled rejection
 * and no 5xx. A failure prints the samples of what went wrong (`npm run fuzz -- --seed N` for more).
 */
describe("fuzz (small)", () => {
  it("survives 300 hostile updates and 300 hostile web chat requests without a 5xx", async () => {
    const result = await runFuzz({
      seed: 14,
      updates: 300,
      requests: 300,
      sessions: 8,
      concurrency: 4,
      database: await createTestDatabase(),
    });
    const summary = JSON.stringify({ ...result, statuses: undefined }, null, 1);
    expect(result.updates, summary).toBe(300);
    expect(result.requests, summary).toBe(300);
    expect(result.crashes, summary).toBe(0);
    expect(result.unhandled_rejections, summary).toBe(0);
    expect(result.no_answer, summary).toBe(0);
    expect(result.http_5xx, summary).toBe(0);
    // Everything was answered, and most of it well: the run really went through the app.
    expect(result.statuses["200"] ?? 0, summary).toBeGreaterThan(100);
  }, 600_000);
});
