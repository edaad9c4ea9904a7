import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { flow } from "../../bot/flows";
import { POLL_CREATE, pollCreateConversation } from "./create-flow";

export { POLL_CREATE };

/**
 * The polls' flows: staff create a poll. Closing and cancelling are one press and a
 * confirmation (staff.ts), so they need no flow. The write re-reads the person and their roles.
 */
export function pollsConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(pollCreateConversation(deps), POLL_CREATE));
  return composer;
}
