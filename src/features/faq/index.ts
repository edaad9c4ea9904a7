import type { Feature } from "../../bot/feature";
import { faqCommand } from "./cli";
import { faqConversations } from "./conversations";
import { faqFreeText, faqHandlers } from "./handlers";
import { registerFaqJobs } from "./jobs";
import { faqPersonalData } from "./personal-data";
import { faqServiceOf, seedFaqIfEmpty } from "./service";

/**
 * The legal FAQ: free text that nothing else took is a question; escalation to the lawyers,
 * /queue, reminders; the FAQ CLI.
 */
export const faq: Feature = {
  name: "faq",
  personalData: faqPersonalData,
  conversations: faqConversations,
  handlers: faqHandlers,
  freeText: faqFreeText,
  prepare: async (deps) => {
    await seedFaqIfEmpty(deps.db, faqServiceOf(deps.db));
  },
  jobs: ({ deps, scheduler, jobSchedules }) =>
    registerFaqJobs(scheduler, deps, deps.logger, jobSchedules),
  cli: [faqCommand],
  help: {
    deputy: ["faq_private", "escalate"],
    staff: ["faq_private", "escalate"],
    lawyer: ["queue", "faq_private"],
    admin: ["queue", "faq_private", "escalate"],
  },
  commands: [{ command: "queue", description: "commands.queue", roles: ["lawyer", "admin"] }],
};
