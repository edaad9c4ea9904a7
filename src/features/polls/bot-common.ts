/**
 * What the polls' chat handlers and flows share: the service, the actor re-read from the
 * database, and refusals turned into the person's language.
 */
import type { BotDeps } from "../../bot/context";
import { featureRefusals } from "../../bot/refusals";
import { findPersonByChatId } from "../../core/people";
import { isAdmin, staffMunicipalities } from "../../core/permissions";
import type { RoleGrant } from "../../core/roles";
import { PollsService, pollSettingsOf } from "./service";
import { type PollActor, PollError } from "./types";

const services = new WeakMap<BotDeps, PollsService>();

/** One service per bot (its settings come from the deployment's configuration). */
export function serviceOf(deps: BotDeps): PollsService {
  let service = services.get(deps);
  if (!service) {
    service = new PollsService(deps.db, pollSettingsOf(deps.config));
    service.onBurst = (poll, votes) =>
      deps.logger.warn(
        { pollId: poll.id, municipalityId: poll.municipalityId, newAccountVotes: votes },
        "polls: a burst of votes from accounts created within the last hour",
      );
    services.set(deps, service);
  }
  return service;
}

/** Staff of some municipality, or an admin: who gets the staff side of /polls. */
export function isPollStaff(roles: readonly RoleGrant[]): boolean {
  return isAdmin(roles) || staffMunicipalities(roles).length > 0;
}

/** The person behind a chat with their roles as the database has them now. */
export async function actorOf(deps: BotDeps, chatId: number): Promise<PollActor | undefined> {
  const person = await findPersonByChatId(deps.db, chatId);
  if (!person) return undefined;
  return { userId: person.user.id, roles: person.roles };
}

export type { Outcome } from "../../bot/refusals";

/** Service calls inside flows and refusals in the person's language (`polls.errors.<code>`). */
export const { attempt, refusalText, refusalOf } = featureRefusals("polls", PollError);
