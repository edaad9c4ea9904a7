import type { Feature } from "../../bot/feature";
import { helpHandlers } from "./handlers";

/** /help (what the person's roles allow, from every feature's help lines) and /privacy. */
export const help: Feature = {
  name: "help",
  handlers: helpHandlers,
  commands: [
    { command: "help", description: "commands.help" },
    { command: "privacy", description: "commands.privacy" },
  ],
};
