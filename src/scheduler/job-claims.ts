import { and, eq, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { scheduledJobRuns } from "../db/schema";

/** Rows of past runs are kept this long (a day's runs show who ran what when). */
const KEEP_MS = 24 * 60 * 60 * 1000;
/** How often one instance prunes a job's old rows (pruning on every run of a per-second job is waste). */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * Claims one run of a periodic job for one instance: every instance's scheduler fires the job at
 * the same cron time, and the first insert of (job, slot) wins; the others skip that run. The
 * slot is the time node-cron scheduled the run for (whole seconds, the same on every instance
 * whatever their small clock differences), not the moment the callback started.
 */
export class JobClaims {
  private readonly prunedAt = new Map<string, number>();

  constructor(
    private readonly db: Database,
    readonly instanceId: string,
  ) {}

  async claim(job: string, scheduledFor: Date): Promise<boolean> {
    const slot = new Date(Math.floor(scheduledFor.getTime() / 1000) * 1000);
    const won = await this.db
      .insert(scheduledJobRuns)
      .values({ job, slot, instanceId: this.instanceId })
      .onConflictDoNothing()
      .returning({ job: scheduledJobRuns.job });
    if (won.length > 0) await this.prune(job, slot);
    return won.length > 0;
  }

  private async prune(job: string, slot: Date): Promise<void> {
    const last = this.prunedAt.get(job) ?? 0;
    if (slot.getTime() - last < PRUNE_EVERY_MS) return;
    this.prunedAt.set(job, slot.getTime());
    await this.db
      .delete(scheduledJobRuns)
      .where(
        and(
          eq(scheduledJobRuns.job, job),
          lt(scheduledJobRuns.slot, new Date(slot.getTime() - KEEP_MS)),
        ),
      );
  }
}
