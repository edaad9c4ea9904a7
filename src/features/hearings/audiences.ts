/**
 * The hearing audiences: SQL conditions on a users row `u`, resolved when a message starts, so a
 * reminder planned days ago reaches whoever answered "going" since, and never someone who has
 * answered "not going".
 */
import { type SQL, sql } from "drizzle-orm";
import { type AudienceResolver, registerAudience } from "../../delivery";

type HearingParams = { hearingId: number };

/** Subscribers of the hearing's municipality to "hearings", or who answered going; never "not going". */
const reminderResolver = (p: HearingParams): SQL => sql`(
  (u.municipality_id = (select h.municipality_id from hearings h where h.id = ${p.hearingId})
    and 'hearings' = any(u.topics))
  or u.id in (select r.user_id from hearing_rsvps r
    where r.hearing_id = ${p.hearingId} and r.answer = 'going'))
  and not exists (select 1 from hearing_rsvps r
    where r.hearing_id = ${p.hearingId} and r.user_id = u.id and r.answer = 'not_going')`;

/**
 * Everyone who was told of the hearing (a delivery of one of its messages that was sent, is
 * held in a closed web chat, or is still on its way), answered, or asked a question: who hears
 * of a reschedule, a cancellation and the minutes. Staff nudges do not count.
 */
const toldResolver = (p: HearingParams): SQL => {
  const prefix = `hearing:${p.hearingId}:%`;
  return sql`(
  u.id in (select d.user_id from deliveries d join outgoing_messages m on m.id = d.message_id
    where m.dedupe_key like ${prefix} and m.kind <> 'hearing_nudge'
      and d.status in ('sent', 'held', 'pending', 'sending'))
  or u.id in (select r.user_id from hearing_rsvps r where r.hearing_id = ${p.hearingId})
  or u.id in (select q.user_id from hearing_questions q
    where q.hearing_id = ${p.hearingId} and q.user_id is not null))`;
};

export const HEARING_REMINDER_AUDIENCE = "hearing_reminder";
export const HEARING_TOLD_AUDIENCE = "hearing_told";

export const hearingReminderAudience = registerAudience(
  HEARING_REMINDER_AUDIENCE,
  reminderResolver,
);
export const hearingToldAudience = registerAudience(HEARING_TOLD_AUDIENCE, toldResolver);

/** For the feature object (`Feature.audiences`): registered again by the app, idempotently. */
export const hearingAudiences: Readonly<Record<string, AudienceResolver>> = {
  [HEARING_REMINDER_AUDIENCE]: reminderResolver as unknown as AudienceResolver,
  [HEARING_TOLD_AUDIENCE]: toldResolver as unknown as AudienceResolver,
};
