import type { Feature } from "../../bot/feature";
import { hearingAudiences } from "./audiences";
import { hearingsCommand } from "./cli";
import { hearingsConversations } from "./conversations";
import { hearingsHandlers } from "./handlers";
import { registerHearingJobs } from "./jobs";
import { hearingsPersonalData } from "./personal-data";
import { hearingRoutes } from "./routes";

/**
 * Budget hearings (SPEC §5): staff announce them, residents answer going / not going and send
 * questions in advance, reminders and changes reach who was told, calendar files, minutes.
 */
export const hearings: Feature = {
  name: "hearings",
  personalData: hearingsPersonalData,
  conversations: hearingsConversations,
  handlers: hearingsHandlers,
  routes: hearingRoutes,
  jobs: registerHearingJobs,
  audiences: hearingAudiences,
  cli: [hearingsCommand],
  help: {
    citizen: ["hearings"],
    staff: ["hearings_staff"],
    admin: ["hearings_all"],
  },
  commands: [{ command: "hearings", description: "commands.hearings" }],
};
