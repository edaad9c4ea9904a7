import { randomUUID } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import type { Database } from "../db/client";
import { databaseUnavailableCode } from "../db/errors";
import type { MessageKind, OutgoingMessageRow } from "../db/schema/delivery";
import { type DeliveryLogger, getMessageProgress, type MessageProgress } from "../delivery";
import { wakeDelivery } from "../delivery/events";
import {
  finishCompletedMessages,
  reapExpiredLeases,
  reopenMessagesWithPendingRows,
  startDueMessages,
  takeProgressTurns,
} from "../delivery/transitions";
import { cronLogger, jobFailureLog } from "./cron-logger";
import { JobClaims } from "./job-claims";
import { RETENTION_JOB, runRetention } from "./retention";

/**
 * Called for a sending message with a progress message, every `progressEverySeconds`, by exactly
 * one instance; and once, by exactly one instance, when a message is done.
 */
export type ProgressHook = (
  message: OutgoingMessageRow,
  progress: MessageProgress,
) => Promise<void>;

/** What a feature does about its messages of one kind as they progress and finish. */
export interface KindHooks {
  /** Every `progressEverySeconds` while a message with a progress message is sending. */
  onProgress?: ProgressHook;
  /** Once, when a message is done. */
  onFinished?: ProgressHook;
}

/** Hooks per message kind, as a feature declares them. */
export type DeliveryHooks = { [kind in MessageKind]?: KindHooks };

export interface SchedulerOptions {
  db: Database;
  /** TIMEZONE: cron expressions of jobs are read in it (Asia/Bishkek). */
  timezone: string;
  logger?: DeliveryLogger;
  /** How often the delivery tick runs (node-cron with seconds). Default every second. */
  tickCron?: string;
  progressEverySeconds?: number;
  /**
   * Progress and finish hooks keyed by message kind, from any number of features (one map, or
   * a list of maps: the hooks of one kind from several maps all run, in order).
   */
  hooks?: DeliveryHooks | readonly DeliveryHooks[];
  /**
   * RETENTION_DAYS: registers the daily "retention" job, which deletes delivery rows (keeping
   * each message's totals) and web chat messages older than this many days. Unset: no job.
   */
  retentionDays?: number;
  /** Cron expression of the retention job (default 03:30 every day, in TIMEZONE). */
  retentionCron?: string;
  /**
   * The clock for "is a scheduled message due" (tests start one without waiting for its time).
   * Default: the database's now(), one clock for every instance. Leases are always judged by
   * the database's clock (they are the engines' business).
   */
  now?: () => number;
  /**
   * This app instance's id, recorded with each periodic job run it wins (scheduled_job_runs).
   * Default: a random one per scheduler.
   */
  instanceId?: string;
}

/**
 * The scheduler only wakes things up. What is due lives in the database, and every transition
 * is a conditional UPDATE (… WHERE status = 'scheduled' RETURNING), so any number of instances
 * can run it side by side: a scheduled message is started exactly once, a finished one reported
 * exactly once.
 *
 * Each tick: start due scheduled messages, re-queue rows of expired leases, wake the engines of
 * this process, refresh progress messages, and close (report) finished messages.
 * Other features add their own periodic jobs with `addJob` (e.g. "every 10 minutes, remind the
 * lawyers"), which should likewise only look at the database and start or enqueue what is due.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  /** Periodic jobs run once per scheduled time across all instances (job-claims.ts). */
  private claims: JobClaims | undefined;
  private readonly jobs: { name: string; expression: string; fn: () => Promise<void> }[] = [];
  private ticking: Promise<void> | undefined;
  private running = false;

  private readonly progressHooks = new Map<MessageKind, ProgressHook[]>();
  private readonly finishedHooks = new Map<MessageKind, ProgressHook[]>();

  constructor(private readonly options: SchedulerOptions) {
    const maps = options.hooks === undefined ? [] : [options.hooks].flat();
    for (const map of maps as DeliveryHooks[]) {
      for (const [kind, hooks] of Object.entries(map) as [MessageKind, KindHooks | undefined][]) {
        if (hooks?.onProgress) this.add(this.progressHooks, kind, hooks.onProgress);
        if (hooks?.onFinished) this.add(this.finishedHooks, kind, hooks.onFinished);
      }
    }
    const days = options.retentionDays;
    if (days !== undefined) {
      this.addJob(RETENTION_JOB, options.retentionCron ?? "0 30 3 * * *", async () => {
        const r = await runRetention(options.db, days, this.now());
        if (Object.values(r).some((n) => n > 0)) {
          options.logger?.info({ ...r, days }, "scheduler: retention deleted old rows");
        }
      });
    }
  }

  private add(map: Map<MessageKind, ProgressHook[]>, kind: MessageKind, hook: ProgressHook): void {
    map.set(kind, [...(map.get(kind) ?? []), hook]);
  }

  /** The injected clock's time, or undefined for the database's now(). */
  private now(): Date | undefined {
    return this.options.now ? new Date(this.options.now()) : undefined;
  }

  /** Names of the registered periodic jobs (besides the delivery tick). */
  get jobNames(): string[] {
    return this.jobs.map((j) => j.name);
  }

  /** Registers a periodic job (cron expression, seconds optional, in TIMEZONE). */
  addJob(name: string, expression: string, fn: () => Promise<void>): void {
    if (!cron.validate(expression)) throw new Error(`invalid cron expression for ${name}`);
    this.jobs.push({ name, expression, fn });
    if (this.running) this.scheduleJob(name, expression, fn);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // The tick is not claimed: its steps are conditional UPDATEs, safe on every instance.
    this.scheduleJob(
      "delivery-tick",
      this.options.tickCron ?? "* * * * * *",
      () => this.tick(),
      false,
    );
    for (const job of this.jobs) this.scheduleJob(job.name, job.expression, job.fn);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const task of this.tasks.splice(0)) await task.destroy();
    await this.ticking;
  }

  private scheduleJob(
    name: string,
    expression: string,
    fn: () => Promise<void>,
    claimed = true,
  ): void {
    this.claims ??= new JobClaims(this.options.db, this.options.instanceId ?? randomUUID());
    const claims = this.claims;
    const failures = jobFailureLog(this.options.logger, name, databaseUnavailableCode);
    const task = cron.schedule(
      expression,
      async (context) => {
        if (!this.running) return;
        try {
          // Another instance won this run (same job, same scheduled time): skip it here.
          if (claimed && !(await claims.claim(name, context.date))) return;
          await fn();
          failures.succeeded();
        } catch (err) {
          failures.failed(err);
        }
      },
      {
        timezone: this.options.timezone,
        name,
        noOverlap: true,
        logger: cronLogger(this.options.logger, name),
      },
    );
    this.tasks.push(task);
  }

  /** One delivery tick (also callable directly, e.g. from tests). */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.runTick().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const { db, logger } = this.options;
    const started = await startDueMessages(db, 20, this.now());
    if (started.length > 0) logger?.info({ messages: started }, "scheduler: started due messages");
    const reaped = await reapExpiredLeases(db);
    if (reaped > 0) logger?.warn({ rows: reaped }, "scheduler: re-queued rows of expired leases");
    const reopened = await reopenMessagesWithPendingRows(db);
    if (reopened > 0) logger?.info({ messages: reopened }, "scheduler: reopened finished messages");
    wakeDelivery();

    const turns = await takeProgressTurns(db, this.options.progressEverySeconds ?? 4, [
      ...this.progressHooks.keys(),
    ]);
    for (const message of turns) {
      await this.safely(this.progressHooks.get(message.kind), message);
    }
    for (const message of await finishCompletedMessages(db)) {
      logger?.info({ message: message.id }, "scheduler: message done");
      await this.safely(this.finishedHooks.get(message.kind), message);
    }
  }

  private async safely(
    hooks: readonly ProgressHook[] | undefined,
    message: OutgoingMessageRow,
  ): Promise<void> {
    if (!hooks?.length) return;
    try {
      const progress = await getMessageProgress(this.options.db, message.id);
      for (const hook of hooks) {
        try {
          await hook(message, progress);
        } catch (err) {
          this.options.logger?.error(
            { err, message: message.id },
            "scheduler: progress hook failed",
          );
        }
      }
    } catch (err) {
      this.options.logger?.error({ err, message: message.id }, "scheduler: progress hook failed");
    }
  }
}
