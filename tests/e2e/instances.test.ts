import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app";
import { MAX_STREAMS_PER_PERSON } from "../../src/channels/webchat/hub";
import { parseConfig } from "../../src/config";
import { updateUserSettings } from "../../src/core/people";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import {
  municipalities,
  scheduledJobRuns,
  webchatMessages,
  webchatStreams,
} from "../../src/db/schema";
import { createAnnouncement } from "../../src/features/announcements/service";
import type { FaqEntry } from "../../src/features/faq/entries";
import { faqServiceOf } from "../../src/features/faq/service";
import { createLogger } from "../../src/logger";
import { TEST_BALLOT_SECRET } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { type EventStreamReader, openEventStream } from "../helpers/event-stream";
import { waitFor } from "../helpers/wait";
import { WebchatClient } from "../helpers/webchat";

interface Instance {
  app: App;
  base: string;
}

/**
 * Two app instances on one PostgreSQL database, as behind a load balancer without sticky
 * sessions: each has its own connection pool and LISTEN connection (as two processes would), and
 * they meet only through the database. PGlite is one process by design (a second one on its
 * data folder is refused), so there is nothing to test there.
 */
describe.skipIf(!process.env.DATABASE_URL)(
  "several app instances on one PostgreSQL (skipped on PGlite: single-process by design)",
  () => {
    let shared: DatabaseHandle & { url?: string };
    let second: DatabaseHandle;
    let a: Instance;
    let b: Instance;
    let municipalityId: number;

    async function instance(database: DatabaseHandle): Promise<Instance> {
      const app = await createApp({
        config: parseConfig({ LOG_LEVEL: "silent", PORT: "0", BALLOT_SECRET: TEST_BALLOT_SECRET }),
        logger: createLogger("silent"),
        database,
        webchatPingMs: 1_000,
      });
      return { app, base: `http://127.0.0.1:${(await app.start()).port}` };
    }

    beforeAll(async () => {
      shared = await createTestDatabase();
      if (!shared.url) throw new Error("a server database has a URL");
      second = await openDatabase({ url: shared.url, maxConnections: 5 });
      a = await instance(shared);
      b = await instance(second);
      const [first] = await shared.db
        .select({ id: municipalities.id })
        .from(municipalities)
        .orderBy(municipalities.id)
        .limit(1);
      municipalityId = Number(first?.id);
    }, 120_000);

    afterAll(async () => {
      // B's database handle is a second pool on A's database: B goes first, A drops it.
      await b?.app.stop();
      await a?.app.stop();
    });

    /** The same browser session talking to another instance (no sticky sessions). */
    function via(client: WebchatClient, instance: Instance): WebchatClient {
      const other = new WebchatClient(instance.base);
      other.cookie = client.cookie;
      other.csrf = client.csrf;
      other.userId = client.userId;
      return other;
    }

    /** A resident who wrote once on A (so their person exists) and finished onboarding. */
    async function resident(): Promise<WebchatClient> {
      const client = new WebchatClient(a.base);
      await client.session();
      expect((await client.send("/privacy")).status).toBe(202);
      await client.waitFor((m) => m.fromBot);
      await updateUserSettings(a.app.database.db, client.userId, {
        locale: "ky",
        municipalityId,
        consentAt: new Date(),
      });
      return client;
    }

    /** A page of the person open on `instance`, registered for every instance to see. */
    async function page(client: WebchatClient, instance: Instance): Promise<EventStreamReader> {
      const stream = await openEventStream(instance.base, client.cookie);
      expect(stream.status).toBe(200);
      await waitFor(() => stream.events.length > 0, undefined, "the stream's first ping");
      return stream;
    }

    it("a page on A gets the reply to a message posted to B, seen at once", async () => {
      const me = await resident();
      const onA = await page(me, a);
      expect(b.app.webchat.hub.isConnected(me.userId)).toBe(false);

      const sent = await via(me, b).send("/help");
      expect(sent.status).toBe(202);
      const reply = await via(me, b).waitFor((m) => m.fromBot && m.text.includes("/privacy"));
      await waitFor(
        () => onA.messages().find((m) => m.id === reply.id),
        undefined,
        "B's reply on the page held by A",
      );
      // B knew the page was open (on A): the reply counts as seen, not "new".
      const [row] = await shared.db
        .select({ seenAt: webchatMessages.seenAt })
        .from(webchatMessages)
        .where(eq(webchatMessages.id, reply.id));
      expect(row?.seenAt).not.toBeNull();
      onA.close();
    });

    it("a page on A gets an announcement sent by B's delivery engine", async () => {
      const me = await resident();
      const staff = await resident();
      const onA = await page(me, a);
      // Only B delivers: A's engine stops, so whatever reaches A's page came through B.
      await a.app.delivery.stop();
      const message = await createAnnouncement(
        b.app.database.db,
        { userId: staff.userId, roles: [{ role: "staff", municipalityId }] },
        { municipalityId, text: { ky: "Шаршемби күнү жыйын болот" } },
      );
      expect(message.id).toBeGreaterThan(0);
      const live = await waitFor(
        () => onA.messages().find((m) => m.text.includes("Шаршемби күнү жыйын болот")),
        undefined,
        "the announcement on the page held by A",
      );
      expect(live.fromBot).toBe(true);
      expect(a.app.webchat.hub.isConnected(me.userId)).toBe(true);
      onA.close();
    });

    it("caps a person's streams across instances: the oldest ends wherever it is", async () => {
      const me = await resident();
      const pages: EventStreamReader[] = [];
      for (let i = 0; i < MAX_STREAMS_PER_PERSON; i++) {
        pages.push(await page(me, i % 2 === 0 ? a : b));
      }
      pages.push(await page(me, b));
      // The oldest was on A; B opened the new one.
      await waitFor(() => pages[0]?.isEnded(), undefined, "A's oldest stream to end");
      expect(pages.slice(1).map((p) => p.isEnded())).toEqual(
        Array(MAX_STREAMS_PER_PERSON).fill(false),
      );
      const [rows] = await shared.db
        .select({ n: count() })
        .from(webchatStreams)
        .where(eq(webchatStreams.userId, me.userId));
      expect(rows?.n).toBe(MAX_STREAMS_PER_PERSON);
      for (const p of pages) p.close();
    });

    it("fires a periodic job once per scheduled time with both instances running", async () => {
      const job = "instances-test-job";
      const runs = { a: 0, b: 0 };
      a.app.scheduler.addJob(job, "* * * * * *", async () => {
        runs.a += 1;
      });
      b.app.scheduler.addJob(job, "* * * * * *", async () => {
        runs.b += 1;
      });
      const claimed = async () => {
        const [row] = await shared.db
          .select({ n: count() })
          .from(scheduledJobRuns)
          .where(eq(scheduledJobRuns.job, job));
        return row?.n ?? 0;
      };
      // Each run is claimed before it starts, so runs and claims agree between two seconds.
      await waitFor(
        async () => {
          const n = await claimed();
          return n >= 4 && runs.a + runs.b === n;
        },
        30_000,
        "4 runs, each by one instance",
      );
      const bySlot = await shared.db
        .select({ instanceId: scheduledJobRuns.instanceId })
        .from(scheduledJobRuns)
        .where(and(eq(scheduledJobRuns.job, job)));
      expect(bySlot.length).toBe(runs.a + runs.b);
    });

    it("an FAQ entry published on B is found by a question asked on A", async () => {
      const me = await resident();
      const onA = via(me, a);
      const indexOnA = faqServiceOf(a.app.database.db);
      await indexOnA.indexedCount(); // A's index is built (and from now on only NOTIFY updates it)
      const entry: FaqEntry = {
        id: "instances-test-entry",
        topic: "local-budget",
        question: { ky: "Зымырык салыгын ким төлөйт?" },
        answer: { ky: "Зымырык салыгын айыл өкмөтү чогултат (сыноо жообу)." },
        source: "Сыноо",
        lastChecked: "2026-11-01",
        audience: "everyone",
        status: "published",
        tags: [],
        phrasings: {},
      };
      await faqServiceOf(b.app.database.db).publish(entry);
      // No search on A meanwhile: only B's announcement can bring the entry into A's index.
      await waitFor(() => indexOnA.hasIndexed(entry.id), undefined, "A's index to have it");

      expect((await onA.send("Зымырык салыгын ким төлөйт?")).status).toBe(202);
      await onA.waitFor((m) => m.fromBot && m.text.includes("сыноо жообу"));
    });
  },
);
