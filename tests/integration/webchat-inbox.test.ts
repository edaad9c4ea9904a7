import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app";
import { updateUserSettings } from "../../src/core/people";
import { deliveries, outgoingMessages } from "../../src/db/schema";
import { getMessageProgress } from "../../src/delivery";
import { createAnnouncement } from "../../src/features/announcements/service";
import { startTestApp } from "../helpers/app";
import { waitFor } from "../helpers/wait";
import { WebchatClient } from "../helpers/webchat";

/**
 * A web chat resident's history is their inbox: an announcement sent while every page of theirs
 * is closed waits there (delivery `held`), is shown as new when they come back, and only then
 * counts as delivered. Through the real app: HTTP, delivery engine and scheduler.
 */
describe("web chat: messages sent while the page is closed", () => {
  let app: App;
  let base: string;
  let municipalityId: number;
  let staffId: number;

  beforeAll(async () => {
    ({ app, base, municipalityId } = await startTestApp());
    const staff = new WebchatClient(base);
    await staff.session();
    await staff.becomePerson(app.database.db);
    staffId = staff.userId;
  });
  afterAll(() => app.stop());

  async function resident(): Promise<WebchatClient> {
    const client = new WebchatClient(base);
    await client.session();
    await client.becomePerson(app.database.db);
    await updateUserSettings(app.database.db, client.userId, {
      locale: "ky",
      municipalityId,
      consentAt: new Date(),
    });
    return client;
  }

  async function announce(text: string): Promise<number> {
    const message = await createAnnouncement(
      app.database.db,
      { userId: staffId, roles: [{ role: "staff", municipalityId }] },
      { municipalityId, text: { ky: text } },
    );
    return message.id;
  }

  /** The delivery of a message to a person once the engine has finished with it. */
  function deliveryOf(messageId: number, userId: number) {
    return waitFor(
      async () => {
        const [row] = await app.database.db
          .select()
          .from(deliveries)
          .where(and(eq(deliveries.messageId, messageId), eq(deliveries.userId, userId)));
        return row && row.status !== "pending" && row.status !== "sending" && row;
      },
      undefined,
      `the delivery of message ${messageId} to user ${userId} to finish`,
    );
  }

  it("keeps it, shows it as new on return, and counts it delivered only then", async () => {
    const person = await resident();
    const messageId = await announce("Эртең суу өчүрүлөт");

    const held = await deliveryOf(messageId, person.userId);
    expect(held.status).toBe("held");
    // The announcement finishes (nothing left to send) with the person counted as waiting.
    await expect
      .poll(
        async () =>
          (
            await app.database.db
              .select({ status: outgoingMessages.status })
              .from(outgoingMessages)
              .where(eq(outgoingMessages.id, messageId))
          )[0]?.status,
        { timeout: 20_000 },
      )
      .toBe("done");
    expect(await getMessageProgress(app.database.db, messageId)).toMatchObject({
      sent: 0,
      held: 1,
      unreachable: 0,
    });

    // The person comes back: the page loads the history.
    const history = await person.history();
    const shown = history.find((m) => m.text.includes("Эртең суу өчүрүлөт"));
    expect(shown).toMatchObject({ fromBot: true, unread: true });
    expect((await deliveryOf(messageId, person.userId)).status).toBe("sent");
    expect(await getMessageProgress(app.database.db, messageId)).toMatchObject({
      sent: 1,
      held: 0,
    });

    // New only once.
    const again = await person.history();
    expect(again.find((m) => m.id === shown?.id)?.unread).toBeUndefined();
  });

  it("delivers at once to an open page, not as new", async () => {
    const person = await resident();
    const abort = new AbortController();
    const stream = await fetch(`${base}/chat/events`, {
      headers: { cookie: person.cookie },
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    const reader = stream.body?.getReader();
    const received: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const chunk = await reader?.read().catch(() => undefined);
        if (!chunk || chunk.done) return;
        received.push(decoder.decode(chunk.value));
      }
    })();
    await expect.poll(() => app.webchat.hub.isConnected(person.userId)).toBe(true);

    const messageId = await announce("Жыйын бейшембиде");
    expect((await deliveryOf(messageId, person.userId)).status).toBe("sent");
    await expect.poll(() => received.join("")).toContain("Жыйын бейшембиде");
    const history = await person.history();
    expect(history.find((m) => m.text.includes("Жыйын бейшембиде"))?.unread).toBeUndefined();

    abort.abort();
    await reading;
    await expect.poll(() => app.webchat.hub.isConnected(person.userId)).toBe(false);
  });
});
