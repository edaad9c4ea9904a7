/**
 * Whether an error means "the database server cannot be reached right now" (stopped, restarting,
 * the network to it down) rather than "this query is wrong". Such a failure is temporary: HTTP
 * callers get 503 (web chat: "try again in a moment"; webhooks: the sender delivers again), and
 * it is logged as one short line, not as a bug.
 *
 * What postgres.js and Node give us, wrapped by drizzle (DrizzleQueryError.cause) and grammY
 * (BotError.error), possibly several at once (AggregateError.errors of a dual-stack connect):
 * - socket errors: ECONNREFUSED (nothing listens), ECONNRESET, EPIPE, ETIMEDOUT, host unreachable;
 * - postgres.js' own: CONNECTION_CLOSED / _ENDED / _DESTROYED, CONNECT_TIMEOUT;
 * - the server's SQLSTATE: class 08 (connection exception), 57P01 admin shutdown (pg_ctl stop),
 *   57P02 crash shutdown, 57P03 cannot connect now (starting up or shutting down), 53300 too many
 *   connections.
 */

const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

function isUnavailableCode(code: unknown): code is string {
  if (typeof code !== "string") return false;
  return SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}

/** The error and what it wraps (cause, grammY's .error, AggregateError's .errors), breadth first. */
function* chain(error: unknown): Generator<object> {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < 20) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || seen.has(next)) continue;
    seen.add(next);
    yield next;
    const inner = next as { cause?: unknown; error?: unknown; errors?: unknown };
    queue.push(inner.cause, inner.error);
    if (Array.isArray(inner.errors)) queue.push(...inner.errors);
  }
}

/**
 * The code that shows the database is unreachable (e.g. "ECONNREFUSED", "57P01"), or undefined
 * when the error is something else. The code is safe to log: it carries no query parameters.
 */
export function databaseUnavailableCode(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const code = (e as { code?: unknown }).code;
    if (isUnavailableCode(code)) return code;
  }
  return undefined;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseUnavailableCode(error) !== undefined;
}

/**
 * Runs `work`, and runs it again after `pauseMs` for as long as it fails because the database is
 * unreachable, up to `maxMs` in all; any other failure (or the last one) is thrown.
 */
export async function retryWhileUnavailable<T>(
  work: () => Promise<T>,
  maxMs: number,
  pauseMs = 1000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() - started + pauseMs > maxMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
