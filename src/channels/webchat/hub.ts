import type { WebchatPayload } from "../../db/schema";

/** What the page renders for one message. */
export interface MessageView extends WebchatPayload {
  id: number;
  fromBot: boolean;
  updatedAt: string;
}

export type WebchatEvent =
  | { type: "message"; data: MessageView }
  | { type: "delete"; data: { id: number } }
  | { type: "notice"; data: { text: string } }
  | { type: "locale"; data: { locale: string; strings: unknown } };

type Listener = (event: WebchatEvent) => void;

/** Open pages (server-sent event streams) by user id; a person may have several tabs open. */
export class WebchatHub {
  private readonly listeners = new Map<number, Set<Listener>>();

  subscribe(userId: number, listener: Listener): () => void {
    let set = this.listeners.get(userId);
    if (!set) {
      set = new Set();
      this.listeners.set(userId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(userId);
    };
  }

  isConnected(userId: number): boolean {
    return this.listeners.has(userId);
  }

  publish(userId: number, event: WebchatEvent): void {
    for (const listener of this.listeners.get(userId) ?? []) listener(event);
  }

  get connections(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
