/**
 * Claims on Telegram updates by update_id (table telegram_updates), so an update Telegram
 * delivers again — after a 5xx, a timeout, or to another instance behind the load balancer — is
 * handled once. The claim is one atomic statement: a fresh row, or a row whose handling neither
 * finished nor holds a live lease (its instance died meanwhile). Pruning of old rows belongs to
 * the retention job.
 */
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { telegramUpdates } from "../db/schema/instances";

/**
 * How long a claim holds while its instance handles the update. An update is handled in well
 * under a second; a claim still held after this belonged to an instance that died, and the
 * next delivery takes it over. Until then a delivery is answered "busy" (5xx), so Telegram keeps
 * the update and tries again rather than having it dropped.
 */
const LEASE = sql`interval '60 seconds'`;

/** A claim that this delivery holds: pass it back to finish or release it. */
export interface UpdateClaim {
  updateId: number;
  /** The lease as written: a release only deletes the row while it still carries this one. */
  lease: Date;
}

export type ClaimResult =
  | { kind: "claimed"; claim: UpdateClaim }
  /** Handled already: answer 200 and do nothing. */
  | { kind: "processed" }
  /** Another delivery (this or another instance) is handling it right now. */
  | { kind: "busy" };

export async function claimUpdate(db: Database, updateId: number): Promise<ClaimResult> {
  const [won] = await db
    .insert(telegramUpdates)
    // Whole milliseconds, so the lease survives the trip through a JS Date (release compares it).
    .values({ updateId, claimedUntil: sql`date_trunc('milliseconds', now() + ${LEASE})` })
    .onConflictDoUpdate({
      target: telegramUpdates.updateId,
      set: { claimedUntil: sql`excluded.claimed_until` },
      setWhere: and(
        isNull(telegramUpdates.processedAt),
        or(isNull(telegramUpdates.claimedUntil), lt(telegramUpdates.claimedUntil, sql`now()`)),
      ),
    })
    .returning({ lease: telegramUpdates.claimedUntil });
  if (won?.lease) return { kind: "claimed", claim: { updateId, lease: won.lease } };
  const [row] = await db
    .select({ processedAt: telegramUpdates.processedAt })
    .from(telegramUpdates)
    .where(eq(telegramUpdates.updateId, updateId));
  // No row any more: its handling failed and released it just now; the next delivery takes it.
  return row?.processedAt ? { kind: "processed" } : { kind: "busy" };
}

/** The update was handled: later deliveries of it are answered without handling. */
export async function finishUpdate(db: Database, claim: UpdateClaim): Promise<void> {
  await db
    .update(telegramUpdates)
    .set({ processedAt: sql`now()`, claimedUntil: null })
    .where(eq(telegramUpdates.updateId, claim.updateId));
}

/**
 * Handling failed: the claim goes, so Telegram's next delivery handles the update afresh. A
 * claim another instance took over meanwhile (this one outlived its lease) is left alone.
 */
export async function releaseUpdate(db: Database, claim: UpdateClaim): Promise<void> {
  await db
    .delete(telegramUpdates)
    .where(
      and(
        eq(telegramUpdates.updateId, claim.updateId),
        isNull(telegramUpdates.processedAt),
        eq(telegramUpdates.claimedUntil, claim.lease),
      ),
    );
}
