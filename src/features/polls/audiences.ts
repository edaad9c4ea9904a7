/**
 * The poll audiences: SQL conditions on a users row `u`, resolved when a message starts. The
 * opening goes to the municipality's subscribers to polls, also for a verified-residents poll
 * (voting asks an unverified resident to verify first; nobody learns of a poll too late to).
 * The result also goes to the municipality's staff and to whoever created the poll.
 */
import { type SQL, sql } from "drizzle-orm";
import { type AudienceResolver, registerAudience } from "../../delivery";

type PollParams = { pollId: number };

const subscribers = (p: PollParams): SQL => sql`(
  u.municipality_id = (select p.municipality_id from polls p where p.id = ${p.pollId})
  and 'polls' = any(u.topics))`;

const resultReaders = (p: PollParams): SQL => sql`(${subscribers(p)}
  or u.id in (select g.user_id from role_grants g
    where g.role = 'staff'
      and g.municipality_id = (select p.municipality_id from polls p where p.id = ${p.pollId}))
  or u.id = (select p.created_by_user_id from polls p where p.id = ${p.pollId}))`;

export const POLL_OPENING_AUDIENCE = "poll_opening";
export const POLL_RESULT_AUDIENCE = "poll_result";

export const pollOpeningAudience = registerAudience(POLL_OPENING_AUDIENCE, subscribers);
export const pollResultAudience = registerAudience(POLL_RESULT_AUDIENCE, resultReaders);

/** For the feature object (`Feature.audiences`): registered again by the app, idempotently. */
export const pollAudiences: Readonly<Record<string, AudienceResolver>> = {
  [POLL_OPENING_AUDIENCE]: subscribers as unknown as AudienceResolver,
  [POLL_RESULT_AUDIENCE]: resultReaders as unknown as AudienceResolver,
};
