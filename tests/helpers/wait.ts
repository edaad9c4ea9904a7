import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client";
import { deliveries } from "../../src/db/schema";

/**
 * How long a test waits for something the app does asynchronously. Generous on purpose: on a busy
 * 2-core machine (two vitest workers, PGlite's WASM, child processes) a step that takes 50 ms alone
 * can take seconds. A passing test never waits this long; only a failing one does.
 */
export const WAIT_MS = 20_000;

type Truthy<T> = Exclude<T, false | null | undefined | 0 | "">;

/**
 * Polls `check` until it returns a truthy value and resolves with that value; fails after
 * `timeoutMs` naming `what` and the last thing `check` threw. Polls quickly at first (10 ms), then
 * backs off to 200 ms so a slow wait does not add load to a loaded machine.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = WAIT_MS,
  what = "condition",
): Promise<Truthy<T>> {
  const started = Date.now();
  let pause = 10;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (error) {
      // A check may throw while the thing is not there yet (a row missing, a server not up).
      lastError = error;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      const cause = lastError === undefined ? "" : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out after ${waited} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(pause, timeoutMs - waited)));
    pause = Math.min(pause * 2, 200);
  }
}

/** Deliveries not yet finished: waiting to be claimed, or claimed and in flight. */
export async function unfinishedDeliveries(db: Database, messageId?: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(deliveries)
    .where(
      and(
        inArray(deliveries.status, ["pending", "sending"]),
        messageId === undefined ? undefined : eq(deliveries.messageId, messageId),
      ),
    );
  return Number(row?.n ?? 0);
}

/**
 * Waits until the delivery engine has finished every delivery in the database (or, with
 * `messageId`, every delivery of that message): none pending or being sent.
 */
export async function drainDeliveries(
  db: Database,
  options: { messageId?: number; timeoutMs?: number } = {},
): Promise<void> {
  await waitFor(
    async () => (await unfinishedDeliveries(db, options.messageId)) === 0,
    options.timeoutMs ?? WAIT_MS,
    options.messageId === undefined
      ? "every delivery to finish"
      : `the deliveries of message ${options.messageId} to finish`,
  );
}
