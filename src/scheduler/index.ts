import cron, { type ScheduledTask } from "node-cron";
import type { Database } from "../db/client";
import type { OutgoingMessageRow } from "../db/schema/delivery";
import type { DeliveryLogger } from "../delivery/engine";
import { wakeDelivery } from "../delivery/events";
import {
  finishCompletedMessages,
  getMessageProgress,
  type MessageProgress,
  reapExpiredLeases,
  startDueMessages,
  takeProgressTurns,
} from "../delivery/store";

/**
 * Called for a sending message with a progress message, every `progressEverySeconds`, by exactly
 * one instance; and once, by exactly one instance, when a message is done.
 */
export type ProgressHook = (
  message: OutgoingMessageRow,
  progress: MessageProgress,
) => Promise<void>;

export interface SchedulerOptions {
  db: Database;
  /** TIMEZONE: cron expressions of jobs are read in it (Asia/Bishkek). */
  timezone: string;
  logger?: DeliveryLogger;
  /** How often the delivery tick runs (node-cron with seconds). Default every second. */
  tickCron?: string;
  progressEverySeconds?: number;
  onProgress?: ProgressHook;
  onFinished?: ProgressHook;
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
  private readonly jobs: { name: string; expression: string; fn: () => Promise<void> }[] = [];
  private ticking: Promise<void> | undefined;
  private running = false;

  constructor(private readonly options: SchedulerOptions) {}

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
    this.scheduleJob("delivery-tick", this.options.tickCron ?? "* * * * * *", () => this.tick());
    for (const job of this.jobs) this.scheduleJob(job.name, job.expression, job.fn);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const task of this.tasks.splice(0)) await task.destroy();
    await this.ticking;
  }

  private scheduleJob(name: string, expression: string, fn: () => Promise<void>): void {
    const task = cron.schedule(
      expression,
      async () => {
        if (!this.running) return;
        try {
          await fn();
        } catch (err) {
          this.options.logger?.error({ err, job: name }, "scheduler: job failed");
        }
      },
      { timezone: this.options.timezone, name, noOverlap: true },
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
    const started = await startDueMessages(db);
    if (started.length > 0) logger?.info({ messages: started }, "scheduler: started due messages");
    const reaped = await reapExpiredLeases(db);
    if (reaped > 0) logger?.warn({ rows: reaped }, "scheduler: re-queued rows of expired leases");
    wakeDelivery();

    const { onProgress, onFinished } = this.options;
    if (onProgress) {
      for (const message of await takeProgressTurns(db, this.options.progressEverySeconds ?? 4)) {
        await this.safely(onProgress, message);
      }
    }
    for (const message of await finishCompletedMessages(db)) {
      logger?.info({ message: message.id }, "scheduler: message done");
      if (onFinished) await this.safely(onFinished, message);
    }
  }

  private async safely(hook: ProgressHook, message: OutgoingMessageRow): Promise<void> {
    try {
      await hook(message, await getMessageProgress(this.options.db, message.id));
    } catch (err) {
      this.options.logger?.error({ err, message: message.id }, "scheduler: progress hook failed");
    }
  }
}
