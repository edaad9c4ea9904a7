import { lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { webchatMessages } from "../db/schema/webchat";
import { whatsappMessages } from "../db/schema/whatsapp";
import { purgeDeliveries } from "../delivery/transitions";

export const RETENTION_JOB = "retention";

const DAY_MS = 86_400_000;

/**
 * RETENTION_DAYS: deletes delivery rows of messages that ended more than `days` days ago (each
 * message keeps its totals, so reports still show its counts) and web chat messages older than
 * that, and the bot's WhatsApp messages not touched for as long (kept only so their buttons and
 * edits work). Safe on any number of instances at once (plain conditional deletes).
 */
export async function runRetention(
  db: Database,
  days: number,
  now: Date = new Date(),
): Promise<{ deliveries: number; webchatMessages: number; whatsappMessages: number }> {
  const cutoff = new Date(now.getTime() - days * DAY_MS);
  const deliveries = await purgeDeliveries(db, cutoff);
  const gone = await db
    .delete(webchatMessages)
    .where(lt(webchatMessages.createdAt, cutoff))
    .returning({ id: webchatMessages.id });
  const whatsapp = await db
    .delete(whatsappMessages)
    .where(lt(whatsappMessages.updatedAt, cutoff))
    .returning({ id: whatsappMessages.id });
  return { deliveries, webchatMessages: gone.length, whatsappMessages: whatsapp.length };
}
