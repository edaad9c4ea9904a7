/**
 * /mydata and /forgetme, channel-free: every feature's holder (Feature.personalData) and the
 * shared tables' own (core-data.ts), read together or cleared together in one transaction.
 */
import { eq } from "drizzle-orm";
import type { BotDeps } from "../../bot/context";
import type { Feature, PersonalDataSection } from "../../bot/feature";
import { recordAudit } from "../../core/audit";
import { users } from "../../db/schema";
import type { TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { collectProfile, forgetCore } from "./core-data";

export interface PersonalData {
  sections: PersonalDataSection[];
  /** The JSON document: every section's data under its key. */
  document: Record<string, unknown>;
}

const holdersOf = (features: readonly Feature[] | undefined) =>
  (features ?? []).flatMap((f) => (f.personalData ? [f.personalData] : []));

/** What Aimak keeps about the person, read fresh from every table that has some. */
export async function collectPersonalData(
  deps: BotDeps,
  userId: number,
  t: TFunction,
  locale: Locale,
): Promise<PersonalData | undefined> {
  const [person] = await deps.db.select().from(users).where(eq(users.id, userId));
  if (!person) return undefined;
  const sections = await collectProfile(deps, person, t, locale);
  for (const holder of holdersOf(deps.features)) {
    sections.push(...(await holder.collect(deps, person, t, locale)));
  }
  const document: Record<string, unknown> = {
    service: "Aimak",
    exportedAt: new Date().toISOString(),
  };
  for (const s of sections) document[s.key] = s.data;
  return { sections, document };
}

export interface ForgetResult {
  /** Rows deleted or anonymised, per table. */
  rows: Record<string, number>;
  /** Roles the person held (they went too). */
  roles: number;
}

/**
 * Deletes or anonymises everything about the person, in one transaction: every feature's rows
 * first, then the shared tables and the users row. The audit log records that it happened and
 * how many rows, never who. Undefined when the person is already gone (a second tap).
 */
export async function forgetPerson(
  deps: BotDeps,
  userId: number,
): Promise<ForgetResult | undefined> {
  return deps.db.transaction(async (tx) => {
    const [person] = await tx.select().from(users).where(eq(users.id, userId)).for("update");
    if (!person) return undefined;
    const rows: Record<string, number> = {};
    const add = (part: Record<string, number>) => {
      for (const [table, n] of Object.entries(part)) rows[table] = (rows[table] ?? 0) + n;
    };
    for (const holder of holdersOf(deps.features)) add(await holder.forget(tx, person, deps));
    add(await forgetCore(tx, person));
    const roles = rows.role_grants ?? 0;
    await recordAudit(tx, {
      actorLabel: "person",
      action: "privacy.forget",
      municipalityId: null,
      details: { channel: person.channel, roles, rows },
    });
    return { rows, roles };
  });
}
