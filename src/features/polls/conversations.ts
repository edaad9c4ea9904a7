import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { flow } from "../../bot/flows";
import { POLL_CREATE, pollCreateConversation } from "./create-flow";
import { POLL_RESIDENTS, pollResidentsConversation } from "./residents-flow";

export { POLL_CREATE, POLL_RESIDENTS };

/**
 * The polls' flows: staff create a poll, and import the resident list (a file, on Telegram).
 * Closing and cancelling are one press and a confirmation (staff.ts), so they need no flow.
 * Each write re-reads the person and their roles.
 */
export function pollsConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(pollCreateConversation(deps), POLL_CREATE));
  composer.use(flow(pollResidentsConversation(deps), POLL_RESIDENTS));
  return composer;
}
