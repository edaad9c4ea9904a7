import { type SQL, sql } from "drizzle-orm";
import type { Audience, AudienceParams, NamedAudience, StoredAudience } from "./content";

/**
 * Audience kinds. A feature registers a named kind with a resolver that turns the kind's params
 * into an SQL condition on `u` (a row of `users`); a message stores `{ kind, params }` and the
 * engine resolves it when the message starts, so a reminder planned today reaches the people
 * who qualify when it goes out (e.g. who answered "going" to a hearing tomorrow).
 *
 *   export const hearingGoing = registerAudience(
 *     "hearing_rsvp_going",
 *     (p: { hearingId: number }) => sql`u.id in (select user_id from hearing_rsvps
 *       where hearing_id = ${p.hearingId} and answer = 'going')`,
 *   );
 *   await createOutgoingMessage(tx, { …, audience: hearingGoing({ hearingId: 12 }), scheduledAt });
 *
 * Only active users are ever enqueued, whatever the resolver says.
 */
export type AudienceResolver<P extends AudienceParams = AudienceParams> = (params: P) => SQL;

/** The built-in kind: residents of a municipality, holders of a role, subscribers of a topic. */
const RESIDENTS_AUDIENCE = "residents";

const resolvers = new Map<string, AudienceResolver>();

/**
 * Registers an audience kind (once per kind; registering the same resolver again is a no-op).
 * Returns a builder of audiences of this kind, with typed params.
 */
export function registerAudience<P extends AudienceParams>(
  kind: string,
  resolve: AudienceResolver<P>,
): (params: P) => NamedAudience {
  const existing = resolvers.get(kind);
  if (existing && existing !== resolve) {
    throw new Error(`audience kind "${kind}" is already registered`);
  }
  resolvers.set(kind, resolve as AudienceResolver);
  return (params) => ({ kind, params });
}

function residentsCondition(audience: Audience): SQL {
  const parts: SQL[] = [];
  if (audience.role) {
    parts.push(
      audience.municipalityId === null
        ? sql`exists (select 1 from role_grants g where g.user_id = u.id and g.role = ${audience.role})`
        : sql`exists (select 1 from role_grants g where g.user_id = u.id and g.role = ${audience.role} and g.municipality_id = ${audience.municipalityId})`,
    );
  } else if (audience.municipalityId !== null) {
    parts.push(sql`u.municipality_id = ${audience.municipalityId}`);
  }
  if (audience.topic) parts.push(sql`${audience.topic} = any(u.topics)`);
  if (audience.channels?.length) {
    parts.push(
      sql`u.channel in (${sql.join(
        audience.channels.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    );
  }
  return parts.length > 0 ? sql.join(parts, sql` and `) : sql`true`;
}

registerAudience(RESIDENTS_AUDIENCE, (params) => residentsCondition(params as unknown as Audience));

function isNamed(audience: StoredAudience): audience is NamedAudience {
  return typeof (audience as Partial<NamedAudience>).kind === "string";
}

/**
 * The form a message stores: `{ kind, params }`. A built-in audience given in its plain shape is
 * stored as kind "residents".
 */
export function toStoredAudience(audience: StoredAudience): NamedAudience {
  if (isNamed(audience)) return audience;
  return { kind: RESIDENTS_AUDIENCE, params: { ...audience } as unknown as AudienceParams };
}

/**
 * The SQL condition selecting the users of an audience (always active users only). Reads both
 * stored shapes: `{ kind, params }` and the plain built-in one of rows written before kinds.
 */
export function audienceCondition(audience: StoredAudience): SQL {
  const named = toStoredAudience(audience);
  const resolve = resolvers.get(named.kind);
  if (!resolve) throw new Error(`unknown audience kind "${named.kind}" (not registered)`);
  return sql`u.inactive = false and (${resolve(named.params)})`;
}
