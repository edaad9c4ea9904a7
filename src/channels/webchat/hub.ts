import type { WebchatPayload } from "../../db/schema";

/** What the page renders for one message. */
export interface MessageView extends WebchatPayload {
  id: number;
  fromBot: boolean;
  updatedAt: string;
  /** Arrived while no page of the person was open; shown as "new" once. */
  unread?: boolean;
}

export type WebchatEvent =
  | { type: "message"; data: MessageView }
  | { type: "delete"; data: { id: number } }
  | { type: "notice"; data: { text: string } }
  | { type: "locale"; data: { locale: string; strings: unknown } }
  /** Sent every few seconds so the page can tell a live stream from a dead one. */
  | { type: "ping"; data: { at: number } };

type Listener = (event: WebchatEvent) => void;

/** Open pages (server-sent event streams) by user id; a person may have several tabs open. */
export class WebchatHub {
  private readonly listeners = new Map<number, Set<Listener>>();

  /**
   * Adds a page's listener. The returned function removes exactly that listener and may be
   * called any number of times: a stream that ends both on abort and after its loop must not
   * remove the listeners of a page opened since (a reload opens the new stream before the old
   * one is noticed as gone).
   */
  subscribe(userId: number, listener: Listener): () => void {
    let set = this.listeners.get(userId);
    if (!set) {
      set = new Set();
      this.listeners.set(userId, set);
    }
    set.add(listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.listeners.get(userId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(userId);
    };
  }

  /** Whether this very listener still receives the person's events. */
  isSubscribed(userId: number, listener: Listener): boolean {
    return this.listeners.get(userId)?.has(listener) ?? false;
  }

  /**
   * Forgets every open page (shutdown). Their streams end at their next ping and the pages
   * reconnect (to this instance once it is back, or to another).
   */
  closeAll(): void {
    this.listeners.clear();
  }

  isConnected(userId: number): boolean {
    return (this.listeners.get(userId)?.size ?? 0) > 0;
  }

  /** Hands the event to every open page of the person; returns how many pages got it. */
  publish(userId: number, event: WebchatEvent): number {
    const set = this.listeners.get(userId);
    if (!set) return 0;
    for (const listener of set) listener(event);
    return set.size;
  }

  get connections(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
