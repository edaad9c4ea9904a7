import { EventEmitter } from "node:events";

/**
 * In-process signals between the delivery API and the engines of this process. Other processes
 * learn the same things from the database within their poll interval.
 */
class DeliveryEvents extends EventEmitter<{ wake: []; cancelled: [messageId: number] }> {}

export const deliveryEvents = new DeliveryEvents();
deliveryEvents.setMaxListeners(100);

/** Tells this process's engines that rows may be due now (called after every enqueue/start). */
export function wakeDelivery(): void {
  deliveryEvents.emit("wake");
}
