import type { Logger as CronLogger } from "node-cron";
import type { DeliveryLogger } from "../delivery";

/**
 * node-cron's own messages, as our JSON log lines: left alone, node-cron writes ANSI-coloured
 * text to stdout and stderr ("missed execution at …", "task still running …"). An overlap (a
 * run still going when the next is due: a slow tick, or one waiting for the database) is normal
 * for a job that runs every second, so it is a debug line.
 */
export function cronLogger(logger: DeliveryLogger | undefined, job: string): CronLogger {
  const text = (message: string | Error) =>
    message instanceof Error ? { err: message } : { detail: message };
  return {
    info: (message) => logger?.info({ job, detail: message }, "scheduler: node-cron"),
    warn: (message) => {
      const overlap = /still running/i.test(message);
      if (overlap)
        logger?.debug({ job, detail: message }, "scheduler: run skipped, previous still running");
      else logger?.warn({ job, detail: message }, "scheduler: node-cron warning");
    },
    error: (message, err) =>
      logger?.error(
        { job, ...text(message), ...(err ? { err } : {}) },
        "scheduler: node-cron error",
      ),
    debug: (message) => logger?.debug({ job, ...text(message) }, "scheduler: node-cron"),
  };
}

/**
 * Logs a job's failures so that a database outage is two lines (unreachable, then back) instead
 * of a stack trace every second. `unavailable` tells a connection failure from a real error.
 */
export function jobFailureLog(
  logger: DeliveryLogger | undefined,
  job: string,
  unavailable: (err: unknown) => string | undefined,
) {
  let down: { since: number; code: string; skipped: number } | undefined;
  return {
    failed(err: unknown): void {
      const code = unavailable(err);
      if (!code) {
        logger?.error({ err, job }, "scheduler: job failed");
        return;
      }
      if (down) {
        down.skipped += 1;
        return;
      }
      down = { since: Date.now(), code, skipped: 0 };
      logger?.warn({ job, code }, "scheduler: database unreachable; the job waits for it");
    },
    succeeded(): void {
      if (!down) return;
      logger?.info(
        { job, code: down.code, downMs: Date.now() - down.since, failedRuns: down.skipped + 1 },
        "scheduler: database reachable again; the job runs",
      );
      down = undefined;
    },
  };
}
