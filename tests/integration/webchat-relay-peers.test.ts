/**
 * The web chat relay looks for pages on other instances only while another instance is there
 * (relay.ts): alone, a reply costs no query; a second instance is heard at its start and gets
 * the events for its pages at once; one that falls silent is forgotten after the TTL.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebchatEvent, WebchatHub } from "../../src/channels/webchat/hub";
import { WebchatRelay } from "../../src/channels/webchat/relay";
import type { Database, DatabaseHandle } from "../../src/db/client";
import { rowsOf } from "../../src/db/client";
import { createTestDatabase } from "../helpers/db";
import { waitFor } from "../helpers/wait";

// Short enough for a test, long enough that a busy machine does not lose a live peer meanwhile.
const SHORT = { helloEveryMs: 200, peerTtlMs: 3_000 };
/** A beat so slow that only the answer to a start can explain hearing each other at once. */
const SLOW_BEAT = { helloEveryMs: 60_000, peerTtlMs: 3_000 };

/** The database with a count of the statements started through it. */
function counting(db: Database): { db: Database; calls: () => number } {
  let calls = 0;
  const wrapped = new Proxy(db, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (key === "execute" || key === "select" || key === "insert" || key === "delete") calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { db: wrapped, calls: () => calls };
}

describe("web chat relay between instances", () => {
  let handle: DatabaseHandle;
  let userId: number;
  const relays: WebchatRelay[] = [];

  beforeAll(async () => {
    handle = await createTestDatabase();
    const [row] = rowsOf<{ id: string | number }>(
      await handle.db.execute(
        sql`insert into users (channel, channel_user_id, chat_id) values ('web', 'relay-peers', 9000000000777) returning id`,
      ),
    );
    userId = Number(row?.id);
  });

  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await handle.close();
  });

  function instance(db: Database, beat = SHORT) {
    const hub = new WebchatHub();
    const relay = new WebchatRelay(db, hub, beat);
    relays.push(relay);
    return { hub, relay };
  }

  it("alone it never looks elsewhere; a new instance and the running one learn of each other at once", async () => {
    const counted = counting(handle.db);
    const a = instance(counted.db, SLOW_BEAT);
    await a.relay.start(handle.listen);
    expect(a.relay.peersMayExist()).toBe(false);

    // Alone: a reply for a person with no page anywhere costs no statement at all.
    const before = counted.calls();
    const notice: WebchatEvent = { type: "notice", data: { text: "alone" } };
    await a.hub.deliver(userId, notice);
    expect(await a.hub.isConnectedAnywhere(userId)).toBe(false);
    expect(counted.calls() - before).toBe(0);

    // A second instance says hello as it starts, before it holds any page.
    const b = instance(handle.db);
    await b.relay.start(handle.listen);
    await waitFor(() => a.relay.peersMayExist(), 5_000, "the first instance to hear the second");
    // …and the running one answered the newcomer's hello, long before its next beat.
    await waitFor(() => b.relay.peersMayExist(), 5_000, "the second instance to hear the first");
    const received: WebchatEvent[] = [];
    const stream = await b.hub.openStream(userId, (event) => received.push(event));
    expect(await a.hub.isConnectedAnywhere(userId)).toBe(true);
    await a.hub.deliver(userId, { type: "notice", data: { text: "to the page on B" } });
    await waitFor(() => received.length > 0, 10_000, "the event to reach the page on B");
    expect(received[0]).toEqual({ type: "notice", data: { text: "to the page on B" } });

    // B goes quiet (stopped, its rows removed): A forgets it after the TTL.
    await stream.close();
    await b.relay.stop();
    await waitFor(() => !a.relay.peersMayExist(), 10_000, "the stopped instance to be forgotten");
  });
});
