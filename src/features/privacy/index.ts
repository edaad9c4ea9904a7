import type { Feature } from "../../bot/feature";
import { privacyHandlers } from "./handlers";

/**
 * Personal data (SPEC §8): /privacy says what is kept and for how long, /mydata shows it,
 * /forgetme deletes it. What each feature keeps is its own `personalData` holder.
 */
export const privacy: Feature = {
  name: "privacy",
  handlers: privacyHandlers,
  help: { citizen: ["privacy"] },
  commands: [
    { command: "privacy", description: "commands.privacy" },
    { command: "mydata", description: "commands.mydata" },
    { command: "forgetme", description: "commands.forgetme" },
  ],
};
