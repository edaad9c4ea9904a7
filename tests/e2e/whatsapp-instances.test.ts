import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app";
import { WHATSAPP_WEBHOOK_PATH } from "../../src/channels/whatsapp";
import { parseConfig } from "../../src/config";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import { users, whatsappInbox } from "../../src/db/schema";
import { createLogger } from "../../src/logger";
import { FakeGraphApi, type Person } from "../fixtures/fake-graph-api/server";
import { messagePayload } from "../fixtures/fake-graph-api/webhooks";
import { TEST_BALLOT_SECRET } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { WA_APP_SECRET, WA_PHONE_NUMBER_ID, WA_TOKEN, WA_VERIFY_TOKEN } from "../helpers/whatsapp";

interface Instance {
  app: App;
  webhook: string;
}

/**
 * Meta's redelivery of one message may reach another instance behind the load balancer: two app
 * instances with WhatsApp on one PostgreSQL database get the same signed body (the same wamid),
 * and the message is processed once — one inbox row, one person, one set of replies at the Graph
 * API. PGlite is one process by design, so there is nothing to test there.
 */
describe.skipIf(!process.env.DATABASE_URL)(
  "WhatsApp on several app instances (skipped on PGlite: single-process by design)",
  () => {
    let shared: DatabaseHandle & { url?: string };
    let second: DatabaseHandle;
    let fake: FakeGraphApi;
    let a: Instance;
    let b: Instance;
    let serial = 0;

    async function instance(database: DatabaseHandle): Promise<Instance> {
      const app = await createApp({
        config: parseConfig({
          LOG_LEVEL: "silent",
          PORT: "0",
          BALLOT_SECRET: TEST_BALLOT_SECRET,
          WHATSAPP_ACCESS_TOKEN: WA_TOKEN,
          WHATSAPP_PHONE_NUMBER_ID: WA_PHONE_NUMBER_ID,
          WHATSAPP_APP_SECRET: WA_APP_SECRET,
          WHATSAPP_VERIFY_TOKEN: WA_VERIFY_TOKEN,
          WHATSAPP_API_ROOT: fake.apiRoot,
        }),
        logger: createLogger("silent"),
        database,
      });
      const { port } = await app.start();
      return { app, webhook: `http://127.0.0.1:${port}${WHATSAPP_WEBHOOK_PATH}` };
    }

    beforeAll(async () => {
      fake = new FakeGraphApi({
        token: WA_TOKEN,
        appSecret: WA_APP_SECRET,
        phoneNumberId: WA_PHONE_NUMBER_ID,
      });
      await fake.start();
      shared = await createTestDatabase();
      if (!shared.url) throw new Error("a server database has a URL");
      second = await openDatabase({ url: shared.url, maxConnections: 5 });
      a = await instance(shared);
      b = await instance(second);
    }, 120_000);

    afterAll(async () => {
      // B's database handle is a second pool on A's database: B goes first, A drops it.
      await b?.app.stop();
      await a?.app.stop();
      await fake?.stop();
    });

    /** A signed text message of `p`, as Meta posts it (the same bytes to every instance). */
    function textBody(p: Person, text: string): string {
      const message = {
        from: p.waId,
        from_user_id: p.userId,
        id: `wamid.instances-${process.pid}-${++serial}`,
        timestamp: String(Math.floor(Date.now() / 1000)),
        type: "text",
        text: { body: text },
      };
      const contact = { profile: { name: p.name }, wa_id: p.waId, user_id: p.userId };
      const ids = {
        wabaId: "200000000000001",
        phoneNumberId: WA_PHONE_NUMBER_ID,
        displayPhoneNumber: "15550001234",
      };
      return JSON.stringify(messagePayload(ids, contact, message));
    }

    async function post(to: Instance, body: string): Promise<number> {
      const response = await fetch(to.webhook, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature-256": fake.sign(body) },
        body,
      });
      await response.arrayBuffer();
      return response.status;
    }

    /** Both instances have processed everything they accepted (replies sent). */
    async function drained(): Promise<void> {
      await Promise.all([a.app.whatsapp?.inbound.drain(), b.app.whatsapp?.inbound.drain()]);
    }

    function newcomer(name: string): Person {
      const p = fake.person(name);
      fake.openWindow(p);
      return p;
    }

    async function inboxRows(body: string) {
      const wamid = (
        JSON.parse(body) as { entry: [{ changes: [{ value: { messages: [{ id: string }] } }] }] }
      ).entry[0].changes[0].value.messages[0].id;
      return shared.db.select().from(whatsappInbox).where(eq(whatsappInbox.wamid, wamid));
    }

    it("the same message posted to both instances at once is processed once", async () => {
      // What one "Салам" and one "/help" bring, posted to A alone.
      const control = newcomer("Control");
      expect(await post(a, textBody(control, "Салам"))).toBe(200);
      await drained();
      const afterHello = fake.messagesTo(control).length;
      expect(afterHello).toBeGreaterThan(0);
      expect(await post(a, textBody(control, "/help"))).toBe(200);
      await drained();
      const afterHelp = fake.messagesTo(control).length;
      expect(afterHelp).toBeGreaterThan(afterHello);

      // The newcomer's first message, to A and B at the same moment.
      const p = newcomer("Twice");
      const hello = textBody(p, "Салам");
      expect(await Promise.all([post(a, hello), post(b, hello)])).toEqual([200, 200]);
      await drained();
      expect(fake.messagesTo(p)).toHaveLength(afterHello);

      // The next one, to B and then again to A (a redelivery landing elsewhere).
      const help = textBody(p, "/help");
      expect(await post(b, help)).toBe(200);
      await drained();
      expect(await post(a, help)).toBe(200);
      await drained();
      expect(fake.messagesTo(p)).toHaveLength(afterHelp);

      for (const body of [hello, help]) {
        const rows = await inboxRows(body);
        expect(rows).toHaveLength(1);
        expect(rows[0]?.processedAt).not.toBeNull();
      }
      const people = await shared.db.select().from(users).where(eq(users.channelUserId, p.waId!));
      expect(people).toHaveLength(1);
    }, 120_000);
  },
);
