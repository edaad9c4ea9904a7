import { Composer } from "grammy";
import type { AppContext } from "../../bot/context";
import type { Feature } from "../../bot/feature";
import { faqCommand } from "./cli";
import { faqConversations } from "./conversations";
import { faqDraftsHandlers } from "./drafts-chat";
import { faqGapsConversations, faqGapsHandlers } from "./gaps-chat";
import { faqFreeText, faqHandlers } from "./handlers";
import { registerFaqJobs } from "./jobs";
import { faqPersonalData } from "./personal-data";
import { faqServiceOf, seedFaqIfEmpty } from "./service";

/**
 * The legal FAQ: free text that nothing else took is a question; escalation to the lawyers,
 * /queue, reminders; /gaps (what it could not answer, drafted into entries); /drafts (review
 * and publish or discard them); the FAQ CLI.
 */
export const faq: Feature = {
  name: "faq",
  personalData: faqPersonalData,
  conversations: (deps) =>
    new Composer<AppContext>(faqConversations(deps), faqGapsConversations(deps)),
  handlers: (deps) =>
    new Composer<AppContext>(faqHandlers(deps), faqGapsHandlers(deps), faqDraftsHandlers(deps)),
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
    lawyer: ["queue", "gaps", "drafts", "faq_private"],
    admin: ["queue", "gaps", "drafts", "faq_private", "escalate"],
  },
  commands: [
    { command: "queue", description: "commands.queue", roles: ["lawyer", "admin"] },
    { command: "gaps", description: "commands.gaps", roles: ["lawyer", "admin"] },
    { command: "drafts", description: "commands.drafts", roles: ["lawyer", "admin"] },
  ],
};
