/**
 * What the hearings' chat handlers and flows share: the service, the actor re-read from the
 * database, and refusals turned into the person's language.
 */
import type { BotDeps } from "../../bot/context";
import { featureRefusals } from "../../bot/refusals";
import { findPersonByChatId } from "../../core/people";
import { isAdmin, staffMunicipalities } from "../../core/permissions";
import type { RoleGrant } from "../../core/roles";
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

export type { Outcome } from "../../bot/refusals";

/** Service calls inside flows and refusals in the person's language (`hearings.errors.<code>`). */
export const { attempt, refusalText, refusalOf } = featureRefusals("hearings", HearingError);

/** What the notices need besides the hearing: who speaks, the public address, the zone. */
export async function noticeContextOf(
  deps: BotDeps,
  municipalityId: number,
): Promise<NoticeContext> {
  const sender: Record<Locale, string> = await senderNames(deps.db, municipalityId);
  return { sender, publicUrl: deps.config.publicUrl, timezone: deps.config.timezone };
}
