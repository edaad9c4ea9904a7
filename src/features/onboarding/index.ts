import type { Feature } from "../../bot/feature";
import { onboardingConversations } from "./conversations";
import { onboardingHandlers } from "./handlers";

/** /start: language → municipality → topics → consent; /language. */
export const onboarding: Feature = {
  name: "onboarding",
  conversations: onboardingConversations,
  handlers: onboardingHandlers,
  commands: [
    { command: "start", description: "commands.start" },
    { command: "language", description: "commands.language" },
  ],
};
