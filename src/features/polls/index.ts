import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import type { Feature } from "../../bot/feature";
import { pollAudiences } from "./audiences";
import { serviceOf } from "./bot-common";
import { pollsCommand, residentsCommand } from "./cli";
import { pollsConversations } from "./conversations";
import { pollsHandlers } from "./handlers";
import { registerPollJobs } from "./jobs";
import { pollsPersonalData } from "./personal-data";
import { pollRoutes } from "./routes";
import { staffPollsHandlers } from "./staff";
import { verifyHandlers } from "./verify";

function handlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(verifyHandlers(deps), staffPollsHandlers(deps), pollsHandlers(deps));
  return composer;
}

/**
 * Polls (SPEC §6): staff create them, residents vote with buttons and may change their vote,
 * one vote per person (per verified phone number for residents-only polls), ballots kept apart
 * from voters, results announced with a chart when the scheduler closes them.
 */
export const polls: Feature = {
  name: "polls",
  personalData: pollsPersonalData,
  conversations: pollsConversations,
  handlers,
  routes: pollRoutes,
  jobs: registerPollJobs,
  audiences: pollAudiences,
  async prepare(deps) {
    // An instance with another ballot secret than the database's would let people vote twice:
    // it stops here, before taking any update.
    await serviceOf(deps).checkSecret();
  },
  cli: [pollsCommand, residentsCommand],
  help: {
    citizen: ["polls", "verify"],
    staff: ["polls_staff"],
    admin: ["polls_all"],
  },
  commands: [
    { command: "polls", description: "commands.polls" },
    { command: "verify", description: "commands.verify" },
  ],
};
