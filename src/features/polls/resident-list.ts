/**
 * A municipality's resident list for verified-residents polls: keyed hashes of E.164 numbers,
 * replaced whole by each import. The service checks who may import; this is the storage.
 */
import { and, eq, sql } from "drizzle-orm";
import { type AuditEntry, recordAudit } from "../../core/audit";
import type { Database, Executor } from "../../db/client";
import type { BallotKeys } from "./keys";
import { pollResidentLists, pollResidents } from "./schema";

/** High bits of the advisory-lock keys of imports (the municipality id below them). */
const LOCK_BASE = 0x506f6c6cn << 24n;
/** Rows per INSERT: well under PostgreSQL's 65,535 parameters. */
const BATCH = 5000;

/**
 * Replaces the list with these numbers in one transaction (two imports of one municipality
 * run one after the other); returns how many distinct numbers it holds now.
 */
export async function replaceResidentList(
  db: Database,
  keys: BallotKeys,
  municipalityId: number,
  phones: readonly string[],
  audit: Pick<AuditEntry, "actorUserId" | "actorLabel">,
): Promise<number> {
  const hashes = [...new Set(phones.map((p) => keys.residentHash(p)))];
  await db.transaction(async (tx) => {
    const lock = String(LOCK_BASE + BigInt(municipalityId));
    await tx.execute(sql`select pg_advisory_xact_lock(${lock})`);
    await tx.delete(pollResidents).where(eq(pollResidents.municipalityId, municipalityId));
    for (let i = 0; i < hashes.length; i += BATCH) {
      await tx
        .insert(pollResidents)
        .values(hashes.slice(i, i + BATCH).map((phoneHash) => ({ municipalityId, phoneHash })));
    }
    await tx
      .insert(pollResidentLists)
      .values({ municipalityId, numbers: hashes.length })
      .onConflictDoUpdate({
        target: pollResidentLists.municipalityId,
        set: { numbers: hashes.length, importedAt: sql`now()` },
      });
    await recordAudit(tx, {
      ...audit,
      action: "poll.residents_import",
      municipalityId,
      details: { numbers: hashes.length },
    });
  });
  return hashes.length;
}

/** How many numbers the list holds and when it was imported; undefined: never imported. */
export async function residentListOf(
  db: Executor,
  municipalityId: number,
): Promise<{ numbers: number; importedAt: Date } | undefined> {
  const [row] = await db
    .select()
    .from(pollResidentLists)
    .where(eq(pollResidentLists.municipalityId, municipalityId));
  return row ? { numbers: row.numbers, importedAt: row.importedAt } : undefined;
}

/** Whether a verified number is on the municipality's list (or why not). */
export async function residentStatus(
  db: Executor,
  keys: BallotKeys,
  municipalityId: number,
  phone: string,
): Promise<"listed" | "not_resident" | "no_resident_list"> {
  const [onList] = await db
    .select({ hash: pollResidents.phoneHash })
    .from(pollResidents)
    .where(
      and(
        eq(pollResidents.municipalityId, municipalityId),
        eq(pollResidents.phoneHash, keys.residentHash(phone)),
      ),
    );
  if (onList) return "listed";
  return (await residentListOf(db, municipalityId)) ? "not_resident" : "no_resident_list";
}
