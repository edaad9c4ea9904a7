import type { FeatureRuntime } from "../../bot/feature";
import { serviceOf } from "./bot-common";

export const POLLS_TICK_JOB = "polls-tick";

/**
 * Opens and closes polls on time: every 10 seconds, on every instance; each opening and closing
 * is a conditional update, so exactly one instance makes it and announces the result.
 */
export function registerPollJobs(runtime: FeatureRuntime): void {
  const { deps, scheduler, jobSchedules } = runtime;
  const service = serviceOf(deps);
  scheduler.addJob(POLLS_TICK_JOB, jobSchedules[POLLS_TICK_JOB] ?? "*/10 * * * * *", async () => {
    const { opened, closed } = await service.tick();
    if (opened + closed > 0) deps.logger.info({ opened, closed }, "polls: opened and closed");
  });
}
