import type { Config } from "../../config";
import type { Database } from "../../db/client";
import type { DeliveryLogger } from "../../delivery";
import type { Scheduler } from "../../scheduler";
import { purgeExpiredPending } from "./intake";
import { remindLawyers } from "./reminders";

export const FAQ_REMINDER_JOB = "faq-reminders";
export const FAQ_PENDING_CLEANUP_JOB = "faq-pending-cleanup";

/**
 * The FAQ's periodic jobs on the app's scheduler (every instance runs them; each is safe to run
 * side by side): reminders to the lawyers every minute (when FAQ_REMIND_AFTER_HOURS is not 0),
 * and every 10 minutes the removal of "send to the lawyers" questions whose button expired.
 */
export function registerFaqJobs(
  scheduler: Scheduler,
  deps: { db: Database; config: Pick<Config, "faqRemindAfterHours" | "timezone"> },
  logger?: DeliveryLogger,
  schedules: Record<string, string> = {},
): void {
  const { db, config } = deps;
  if (config.faqRemindAfterHours > 0) {
    scheduler.addJob(FAQ_REMINDER_JOB, schedules[FAQ_REMINDER_JOB] ?? "0 * * * * *", async () => {
      const r = await remindLawyers(db, {
        afterHours: config.faqRemindAfterHours,
        timezone: config.timezone,
      });
      if (r.open.length + r.taken.length + r.released.length > 0) {
        logger?.info(r, "faq: lawyers reminded of unanswered questions");
      }
    });
  }
  const cleanup = schedules[FAQ_PENDING_CLEANUP_JOB] ?? "30 */10 * * * *";
  scheduler.addJob(FAQ_PENDING_CLEANUP_JOB, cleanup, async () => {
    await purgeExpiredPending(db);
  });
}
