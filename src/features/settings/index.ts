import type { Feature } from "../../bot/feature";
import { settingsConversations, settingsHandlers } from "./conversations";

/** /settings: a menu of the onboarding steps. */
export const settings: Feature = {
  name: "settings",
  conversations: settingsConversations,
  handlers: settingsHandlers,
  commands: [{ command: "settings", description: "commands.settings" }],
};
