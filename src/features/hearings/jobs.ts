import type { FeatureRuntime } from "../../bot/feature";
import { HearingsService } from "./service";
import { hearingSettingsOf } from "./types";

export const HEARINGS_NUDGE_JOB = "hearings-minutes-nudge";

/**
 * The hearings' periodic job: every hour (minute 15), staff of held hearings still without
 * minutes are nudged 3 and 7 days after. Every instance runs it; the nudges' dedupe keys make
 * each go once.
 */
export function registerHearingJobs(runtime: FeatureRuntime): void {
  const { deps, scheduler, jobSchedules } = runtime;
  const service = new HearingsService(deps.db, hearingSettingsOf(deps.config));
  scheduler.addJob(
    HEARINGS_NUDGE_JOB,
    jobSchedules[HEARINGS_NUDGE_JOB] ?? "0 15 * * * *",
    async () => {
      const n = await service.nudgeMissingMinutes();
      if (n > 0) deps.logger.info({ nudges: n }, "hearings: staff nudged about missing minutes");
    },
  );
}
