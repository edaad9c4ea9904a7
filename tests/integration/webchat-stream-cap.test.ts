import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_STREAMS_PER_PERSON } from "../../src/channels/webchat/hub";
import { webchatStreams } from "../../src/db/schema";
import { type RunningTestApp, startTestApp } from "../helpers/app";
import { type EventStreamReader, openEventStream } from "../helpers/event-stream";
import { waitFor } from "../helpers/wait";
import { WebchatClient } from "../helpers/webchat";

/**
 * A person may hold MAX_STREAMS_PER_PERSON open pages; one more pushes the oldest out (its
 * stream ends), never the new one. Over real HTTP, on PGlite (the hub alone) and on PostgreSQL
 * (the shared webchat_streams table).
 */
describe("web chat: open event streams per person", () => {
  let running: RunningTestApp;

  beforeAll(async () => {
    running = await startTestApp({ webchatPingMs: 500 });
  });
  afterAll(() => running.app.stop());

  /** A visitor who wrote once, so a person row (and its event streams) exists. */
  async function person(): Promise<WebchatClient> {
    const client = new WebchatClient(running.base);
    await client.session();
    expect((await client.send("/privacy")).status).toBe(202);
    await client.waitFor((m) => m.fromBot);
    return client;
  }

  /** Opens a page's stream and waits for its first ping (it is registered by then). */
  async function openPage(client: WebchatClient): Promise<EventStreamReader> {
    const stream = await openEventStream(running.base, client.cookie);
    expect(stream.status).toBe(200);
    await waitFor(() => stream.events.length > 0, undefined, "the stream's first ping");
    return stream;
  }

  async function rowsOf(userId: number): Promise<number> {
    const rows = await running.app.database.db
      .select({ id: webchatStreams.id })
      .from(webchatStreams)
      .where(eq(webchatStreams.userId, userId));
    return rows.length;
  }

  it("ends the oldest stream when one more opens, and keeps the others", async () => {
    const me = await person();
    const other = await person();
    const others = await openPage(other);
    const pages: EventStreamReader[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_PERSON; i++) pages.push(await openPage(me));
    expect(running.app.webchat.hub.connections).toBe(MAX_STREAMS_PER_PERSON + 1);

    pages.push(await openPage(me));
    await waitFor(() => pages[0]?.isEnded(), undefined, "the oldest stream to end");
    pages.push(await openPage(me));
    await waitFor(() => pages[1]?.isEnded(), undefined, "the next oldest stream to end");
    expect(pages.slice(2).map((p) => p.isEnded())).toEqual(
      Array(MAX_STREAMS_PER_PERSON).fill(false),
    );
    expect(others.isEnded()).toBe(false);
    expect(running.app.webchat.hub.connections).toBe(MAX_STREAMS_PER_PERSON + 1);
    if (running.app.database.kind === "postgres") {
      expect(await rowsOf(me.userId)).toBe(MAX_STREAMS_PER_PERSON);
      expect(await rowsOf(other.userId)).toBe(1);
    }

    // The newest pages still get the person's messages.
    const reply = await me.send("/help");
    expect(reply.status).toBe(202);
    const newest = pages[pages.length - 1] as EventStreamReader;
    await waitFor(() => newest.messages().some((m) => m.fromBot), undefined, "a live reply");

    for (const page of [...pages, others]) page.close();
    await waitFor(() => running.app.webchat.hub.connections === 0, undefined, "every page gone");
    if (running.app.database.kind === "postgres") {
      await waitFor(async () => (await rowsOf(me.userId)) === 0, undefined, "rows removed");
    }
  });
});
