/**
 * What the polls' chat handlers and flows share: the service, the actor re-read from the
 * database, and refusals turned into the person's language.
 */
import type { BotDeps } from "../../bot/context";
import { findPersonByChatId } from "../../core/people";
import { isAdmin, staffMunicipalities } from "../../core/permissions";
import type { RoleGrant } from "../../core/roles";
import type { TFunction } from "../../i18n";
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

type Params = Record<string, string | number>;

/**
 * What a write inside a flow returns: plain JSON, since a conversation stores the results of
 * its side effects and replays them.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; params: Params };

/** Runs a service call; a PollError becomes a refusal the flow can say, anything else throws. */
export async function attempt<T>(task: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await task() };
  } catch (error) {
    if (error instanceof PollError) return { ok: false, code: error.code, params: error.params };
    throw error;
  }
}

/** A refusal in the person's language (`polls.errors.<code>`). */
export function refusalText(t: TFunction, code: string, params: Params = {}): string {
  return t(`polls.errors.${code}`, params);
}

/** The refusal of an error thrown by the service, or undefined when it is not a PollError. */
export function refusalOf(t: TFunction, error: unknown): string | undefined {
  return error instanceof PollError ? refusalText(t, error.code, error.params) : undefined;
}
