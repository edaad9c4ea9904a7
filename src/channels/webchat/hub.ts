import { randomUUID } from "node:crypto";
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

/**
 * Open event streams per person, across every app instance. A person with more than this many
 * open pages loses the oldest one (see WebchatHub.openStream for why the oldest, not the new).
 */
export const MAX_STREAMS_PER_PERSON = 5;

/** An event stream registered in the shared table, on this instance or another. */
export interface StreamRef {
  id: string;
  instanceId: string;
}

/**
 * What makes the hub span several app instances (relay.ts, on PostgreSQL): the shared table of
 * open streams, and NOTIFY to the instances that hold a person's other pages.
 */
export interface HubBackplane {
  /** Registers a new stream; returns it and the person's streams it pushed over the cap. */
  open(userId: number): Promise<{ stream: StreamRef; evicted: StreamRef[] }>;
  /** Refreshes a stream's presence; false when the row is gone (evicted elsewhere). */
  touch(streamId: string): Promise<boolean>;
  close(streamId: string): Promise<void>;
  /** Whether a page of the person is open on another instance. */
  openElsewhere(userId: number): Promise<boolean>;
  /** Hands the event to the instances holding the person's other pages (none: sends nothing). */
  relay(userId: number, event: WebchatEvent): Promise<void>;
  /** Tells the instance holding a stream to end it. */
  evict(stream: StreamRef): Promise<void>;
}

/** One open event stream, as the events route holds it. */
export interface StreamHandle {
  /** Resolves when the stream must end: pushed over the cap by a newer page, or shut down. */
  readonly ended: Promise<void>;
  /** Whether the stream still receives the person's events. */
  isOpen(): boolean;
  /** At every keep-alive: refreshes the stream's presence for other instances. */
  ping(): Promise<void>;
  /** Ends the stream (idempotent): unsubscribes and removes its presence. */
  close(): Promise<void>;
}

interface LocalStream {
  id: string;
  userId: number;
  listener: Listener;
  end: () => void;
}

/**
 * Open pages (server-sent event streams) by user id; a person may have several tabs open.
 * Alone (PGlite, one process) it is the whole story. With a backplane (PostgreSQL, any number of
 * instances) the streams are also registered in the database, and what this instance publishes
 * reaches the pages held by the others.
 */
export class WebchatHub {
  private readonly listeners = new Map<number, Set<Listener>>();
  /** This instance's streams opened through openStream, oldest first. */
  private readonly streams = new Map<string, LocalStream>();
  private backplane: HubBackplane | undefined;

  constructor(private readonly maxStreamsPerPerson = MAX_STREAMS_PER_PERSON) {}

  /** Spans the hub over several instances (once, before any stream opens). */
  share(backplane: HubBackplane): void {
    this.backplane = backplane;
  }

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
   * Opens a page's event stream: subscribes the listener and counts the stream against the
   * person's cap. Over the cap the OLDEST stream ends, not the new one: the page a person just
   * opened or reloaded is the one in front of them, while the oldest is most likely a forgotten
   * background tab or the stream of a page already gone that the server has not noticed yet (a
   * reload, a laptop that slept). Refusing the new one would show "offline" in the very tab in
   * use; an ended background tab reconnects by itself when it is looked at again.
   */
  async openStream(userId: number, listener: Listener): Promise<StreamHandle> {
    const unsubscribe = this.subscribe(userId, listener);
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    let open = true;
    const local: LocalStream = {
      id: randomUUID(),
      userId,
      listener,
      end: () => {
        open = false;
        unsubscribe();
        end();
      },
    };
    const backplane = this.backplane;
    if (backplane) {
      try {
        const { stream, evicted } = await backplane.open(userId);
        local.id = stream.id;
        this.streams.set(local.id, local);
        for (const other of evicted) {
          if (this.streams.has(other.id)) this.endLocal(other.id);
          else await backplane.evict(other).catch(() => {});
        }
      } catch {
        // The database is briefly away: the stream still works on this instance, unregistered.
        this.streams.set(local.id, local);
      }
    } else {
      this.streams.set(local.id, local);
      const mine = [...this.streams.values()].filter((s) => s.userId === userId);
      for (const old of mine.slice(0, Math.max(0, mine.length - this.maxStreamsPerPerson))) {
        this.endLocal(old.id);
      }
    }
    let closed = false;
    return {
      ended,
      isOpen: () => open && this.isSubscribed(userId, listener),
      ping: async () => {
        if (!backplane || !open) return;
        // A row removed by another instance means this stream was pushed over the cap there.
        if (!(await backplane.touch(local.id).catch(() => true))) this.endLocal(local.id);
      },
      close: async () => {
        local.end();
        if (closed) return;
        closed = true;
        if (this.streams.get(local.id) === local) this.streams.delete(local.id);
        await backplane?.close(local.id).catch(() => {});
      },
    };
  }

  /** Ends one of this instance's streams (pushed over the cap); false when it is not here. */
  endLocal(streamId: string): boolean {
    const stream = this.streams.get(streamId);
    if (!stream) return false;
    this.streams.delete(streamId);
    stream.end();
    return true;
  }

  /**
   * Forgets every open page (shutdown). Their streams end at their next ping and the pages
   * reconnect (to this instance once it is back, or to another).
   */
  closeAll(): void {
    this.listeners.clear();
  }

  /** Whether a page of the person is open on this instance. */
  isConnected(userId: number): boolean {
    return (this.listeners.get(userId)?.size ?? 0) > 0;
  }

  /**
   * Whether a page of the person is open on any instance. This instance's own pages answer
   * without a query (the common case with one instance, and on PGlite always).
   */
  async isConnectedAnywhere(userId: number): Promise<boolean> {
    if (this.isConnected(userId)) return true;
    if (!this.backplane) return false;
    return this.backplane.openElsewhere(userId).catch(() => false);
  }

  /** Hands the event to every open page of the person on this instance; returns how many. */
  publish(userId: number, event: WebchatEvent): number {
    const set = this.listeners.get(userId);
    if (!set) return 0;
    for (const listener of set) listener(event);
    return set.size;
  }

  /** Hands the event to every open page of the person, on this instance and the others. */
  async deliver(userId: number, event: WebchatEvent): Promise<void> {
    this.publish(userId, event);
    // A relay that fails (database briefly away) loses only the live copy: the message is stored,
    // and the other instance's page shows it at its next history sync (on reconnect).
    await this.backplane?.relay(userId, event).catch(() => {});
  }

  get connections(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
