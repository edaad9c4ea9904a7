/**
 * What the hearings' chat handlers and flows share: the service, the actor re-read from the
 * database, and refusals turned into the person's language.
 */
import type { BotDeps } from "../../bot/context";
import { findPersonByChatId } from "../../core/people";
import { isAdmin, staffMunicipalities } from "../../core/permissions";
import type { RoleGrant } from "../../core/roles";
import type { TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { senderNames } from "../announcements/service";
import type { NoticeContext } from "./notices";
import { HearingsService } from "./service";
import { type HearingActor, HearingError, hearingSettingsOf } from "./types";

const services = new WeakMap<BotDeps, HearingsService>();

/** One service per bot (its settings come from the deployment's configuration). */
export function serviceOf(deps: BotDeps): HearingsService {
  let service = services.get(deps);
  if (!service) {
    service = new HearingsService(deps.db, hearingSettingsOf(deps.config));
    services.set(deps, service);
  }
  return service;
}

/** Staff of some municipality, or an admin: who gets the staff side of /hearings. */
export function isHearingStaff(roles: readonly RoleGrant[]): boolean {
  return isAdmin(roles) || staffMunicipalities(roles).length > 0;
}

/**
 * The person behind a chat with their roles as the database has them now: flows call this for
 * every write instead of trusting what they remembered when they started.
 */
export async function actorOf(deps: BotDeps, chatId: number): Promise<HearingActor | undefined> {
  const person = await findPersonByChatId(deps.db, chatId);
  if (!person) return undefined;
  return { userId: person.user.id, roles: person.roles };
}

/**
 * What a write inside a flow returns: plain JSON, since a conversation stores the results of
 * its side effects and replays them (an Error or a Date would not come back as one).
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; params: Params };
type Params = Record<string, string | number>;

/** Runs a service call; a HearingError becomes a refusal the flow can say, anything else throws. */
export async function attempt<T>(task: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await task() };
  } catch (error) {
    if (error instanceof HearingError) return { ok: false, code: error.code, params: error.params };
    throw error;
  }
}

/** A refusal in the person's language (`hearings.errors.<code>`). */
export function refusalText(t: TFunction, code: string, params: Params = {}): string {
  return t(`hearings.errors.${code}`, params);
}

/** The refusal of an error thrown by the service, or undefined when it is not a HearingError. */
export function refusalOf(t: TFunction, error: unknown): string | undefined {
  return error instanceof HearingError ? refusalText(t, error.code, error.params) : undefined;
}

/** What the notices need besides the hearing: who speaks, the public address, the zone. */
export async function noticeContextOf(
  deps: BotDeps,
  municipalityId: number,
): Promise<NoticeContext> {
  const sender: Record<Locale, string> = await senderNames(deps.db, municipalityId);
  return { sender, publicUrl: deps.config.publicUrl, timezone: deps.config.timezone };
}
