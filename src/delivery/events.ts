import { EventEmitter } from "node:events";
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client";

/**
 * Signals between the delivery API and the engines: in this process through an EventEmitter,
 * across processes through PostgreSQL NOTIFY on `DELIVERY_WAKE_CHANNEL` (engines LISTEN to it,
 * see DeliveryEngineOptions.listen). A NOTIFY issued inside a transaction is delivered when it
 * commits, so other processes wake exactly when the new rows become visible to them.
 */
class DeliveryEvents extends EventEmitter<{ wake: []; cancelled: [messageId: number] }> {}

export const deliveryEvents = new DeliveryEvents();
deliveryEvents.setMaxListeners(100);

/**
 * The NOTIFY channel of the delivery engines. Payload: "" (rows may be due), "cancel:<id>", or
 * "pause:<channel>:<until>" (a 429 paused the channel until that time, epoch ms on the
 * database's clock).
 */
export const DELIVERY_WAKE_CHANNEL = "aimak_delivery";

/** Tells this process's engines that rows may be due now (called after every enqueue/start). */
export function wakeDelivery(): void {
  deliveryEvents.emit("wake");
}

/** Tells the engines of every process (at the commit of `db`'s transaction, if any). */
export async function notifyDelivery(db: Executor, payload = ""): Promise<void> {
  await db.execute(sql`select pg_notify(${DELIVERY_WAKE_CHANNEL}, ${payload})`);
}

export interface WakePayload {
  cancelled?: number;
  paused?: { channel: string; untilDbMs: number };
}

/** What a NOTIFY payload asks an engine to do. */
export function parseWakePayload(payload: string): WakePayload {
  const cancel = /^cancel:(\d+)$/.exec(payload);
  if (cancel) return { cancelled: Number(cancel[1]) };
  const pause = /^pause:([a-z]+):(\d+)$/.exec(payload);
  if (pause) return { paused: { channel: String(pause[1]), untilDbMs: Number(pause[2]) } };
  return {};
}
