import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Database, DatabaseHandle, Unlisten } from "../../db/client";
import { webchatMessages } from "../../db/schema";
import { getI18n } from "../../i18n";
import { toView } from "./adapter";
import {
  type HubBackplane,
  MAX_STREAMS_PER_PERSON,
  type StreamRef,
  type WebchatEvent,
  type WebchatHub,
} from "./hub";
import { StreamPresence } from "./presence";

/** The NOTIFY channel of web chat events between app instances. */
export const WEBCHAT_RELAY_CHANNEL = "aimak_webchat";
/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. A bigger event (a long message in
 * Cyrillic) goes as its message id, and the receiving instance loads the row.
 */
const MAX_PAYLOAD_BYTES = 7_000;
/**
 * Every instance says "here" this often, and another instance counts as gone after hearing
 * nothing from it for PEER_TTL_MS (three missed hellos and some slack).
 */
const HELLO_EVERY_MS = 10_000;
const PEER_TTL_MS = 35_000;

/** What one instance tells the others; `i` is the sender (it ignores its own notes). */
type Note =
  | { i: string; u: number; e: WebchatEvent }
  | { i: string; u: number; m: number }
  | { i: string; u: number; l: string }
  | { i: string; x: string; t: string }
  /** "Here": 1 is the beat, 2 a start ("here, who else?"), which every other answers at once. */
  | { i: string; h: 1 | 2 };

interface RelayLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Spans a WebchatHub over every app instance on one PostgreSQL database: streams are registered
 * in webchat_streams, and an event published here for a person whose page is held by another
 * instance is sent there by NOTIFY (only when such a page exists).
 */
export class WebchatRelay implements HubBackplane {
  readonly instanceId: string;
  private readonly presence: StreamPresence;
  private unlisten: Unlisten | undefined;
  /** Notes are handled one after the other, so a page sees events in the order they were sent. */
  private queue: Promise<void> = Promise.resolve();
  /**
   * Until when another instance may hold pages. Most deployments run one instance: while no
   * other has been heard from, a reply costs no query to look for a page elsewhere (it was one
   * of the ~7 round trips of every web chat message). A starting instance asks who is there and
   * the others answer at once; after a reconnect of the LISTEN (notes were missed meanwhile)
   * others are assumed to be there for a full TTL.
   */
  private peersUntil: number;
  private hello: NodeJS.Timeout | undefined;
  private readonly helloEveryMs: number;
  private readonly peerTtlMs: number;

  constructor(
    private readonly db: Database,
    private readonly hub: WebchatHub,
    options: {
      instanceId?: string;
      maxStreamsPerPerson?: number;
      logger?: RelayLogger;
      /** Tests shorten the hello beat and the time after which a silent instance counts as gone. */
      helloEveryMs?: number;
      peerTtlMs?: number;
    } = {},
  ) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.helloEveryMs = options.helloEveryMs ?? HELLO_EVERY_MS;
    this.peerTtlMs = options.peerTtlMs ?? PEER_TTL_MS;
    this.peersUntil = 0;
    this.presence = new StreamPresence(
      db,
      this.instanceId,
      options.maxStreamsPerPerson ?? MAX_STREAMS_PER_PERSON,
    );
    this.logger = options.logger;
  }

  private readonly logger: RelayLogger | undefined;

  /** Listens for the other instances' notes and joins the hub. */
  async start(listen: DatabaseHandle["listen"]): Promise<void> {
    let listening = false;
    this.unlisten = await listen(
      WEBCHAT_RELAY_CHANNEL,
      (payload) => {
        this.queue = this.queue.then(() => this.receive(payload)).catch(() => {});
      },
      () => {
        // Notes sent while the LISTEN connection was away were missed, hellos included.
        if (listening) this.heardFromPeers();
        listening = true;
      },
    );
    this.hub.share(this);
    // The others learn of this instance before it holds any page, and answer.
    await this.sayHello(2);
    this.hello = setInterval(() => void this.sayHello(), this.helloEveryMs);
    this.hello.unref();
  }

  /** Whether another instance may hold pages (one said something within the TTL). */
  peersMayExist(): boolean {
    return Date.now() < this.peersUntil;
  }

  private heardFromPeers(): void {
    this.peersUntil = Math.max(this.peersUntil, Date.now() + this.peerTtlMs);
  }

  private async sayHello(kind: 1 | 2 = 1): Promise<void> {
    const note: Note = { i: this.instanceId, h: kind };
    // A hello lost to a database outage is sent again at the next beat.
    await this.db
      .execute(sql`select pg_notify(${WEBCHAT_RELAY_CHANNEL}, ${JSON.stringify(note)})`)
      .catch(() => {});
  }

  /** Stops listening and removes this instance's streams (their pages reconnect elsewhere). */
  async stop(): Promise<void> {
    clearInterval(this.hello);
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch(() => {});
    await this.queue;
    await this.presence.closeInstance().catch(() => {});
  }

  open(userId: number): Promise<{ stream: StreamRef; evicted: StreamRef[] }> {
    return this.presence.open(userId);
  }

  touch(streamId: string): Promise<boolean> {
    return this.presence.touch(streamId);
  }

  close(streamId: string): Promise<void> {
    return this.presence.close(streamId);
  }

  async openElsewhere(userId: number): Promise<boolean> {
    if (!this.peersMayExist()) return false;
    return this.presence.openElsewhere(userId);
  }

  async relay(userId: number, event: WebchatEvent): Promise<void> {
    if (event.type === "ping" || !this.peersMayExist()) return;
    const note = this.noteOf(userId, event);
    if (!note) return;
    await this.presence.notifyIfElsewhere(userId, WEBCHAT_RELAY_CHANNEL, note);
  }

  async evict(stream: StreamRef): Promise<void> {
    const note: Note = { i: this.instanceId, x: stream.id, t: stream.instanceId };
    await this.db.execute(sql`select pg_notify(${WEBCHAT_RELAY_CHANNEL}, ${JSON.stringify(note)})`);
  }

  private noteOf(userId: number, event: WebchatEvent): string | undefined {
    const full = JSON.stringify({ i: this.instanceId, u: userId, e: event } satisfies Note);
    if (Buffer.byteLength(full) < MAX_PAYLOAD_BYTES) return full;
    if (event.type === "message") {
      return JSON.stringify({ i: this.instanceId, u: userId, m: event.data.id } satisfies Note);
    }
    if (event.type === "locale") {
      return JSON.stringify({ i: this.instanceId, u: userId, l: event.data.locale } satisfies Note);
    }
    // A notice is a button's short answer; nothing else grows this big.
    this.logger?.warn({ type: event.type }, "webchat: event too big to relay");
    return undefined;
  }

  private async receive(payload: string): Promise<void> {
    let note: Note;
    try {
      note = JSON.parse(payload) as Note;
    } catch {
      return;
    }
    if (note.i === this.instanceId) return;
    this.heardFromPeers();
    if ("h" in note) {
      if (note.h === 2) await this.sayHello();
      return;
    }
    if ("x" in note) {
      if (note.t === this.instanceId) this.hub.endLocal(note.x);
      return;
    }
    // Only pages held here matter; most notes are for another instance's pages.
    if (!this.hub.isConnected(note.u)) return;
    if ("e" in note) {
      this.hub.publish(note.u, note.e);
    } else if ("m" in note) {
      const [row] = await this.db
        .select()
        .from(webchatMessages)
        .where(eq(webchatMessages.id, note.m));
      if (row && row.userId === note.u) {
        this.hub.publish(note.u, { type: "message", data: toView(row) });
      }
    } else {
      const strings = getI18n().getResourceBundle(note.l, "translation")?.webchat ?? {};
      this.hub.publish(note.u, { type: "locale", data: { locale: note.l, strings } });
    }
  }
}
