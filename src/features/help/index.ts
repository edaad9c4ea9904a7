import type { Feature } from "../../bot/feature";
import { helpHandlers } from "./handlers";

/** /help: what the person's roles allow, from every feature's help lines. */
export const help: Feature = {
  name: "help",
  handlers: helpHandlers,
  commands: [{ command: "help", description: "commands.help" }],
};
