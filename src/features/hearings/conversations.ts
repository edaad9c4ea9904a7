import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { flow } from "../../bot/flows";
import { HEARING_ASK, hearingAskConversation } from "./ask-flow";
import { HEARING_CREATE, hearingCreateConversation } from "./create-flow";
import { HEARING_MANAGE, hearingManageConversation } from "./manage-flow";

export { HEARING_ASK, HEARING_CREATE, HEARING_MANAGE };

/**
 * The hearings' flows: staff create a hearing and act on one from its card; a resident asks a
 * question. Each write inside re-reads the person and their roles from the database.
 */
export function hearingsConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(hearingCreateConversation(deps), HEARING_CREATE));
  composer.use(flow(hearingManageConversation(deps), HEARING_MANAGE));
  composer.use(flow(hearingAskConversation(deps), HEARING_ASK));
  return composer;
}
