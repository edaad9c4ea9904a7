import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WaWebhookStatus } from "../../src/channels/whatsapp/types";
import { createSyntheticUser, updateUserSettings } from "../../src/core/people";
import { deliveries, municipalities, outgoingMessages } from "../../src/db/schema";
import { getMessageProgress } from "../../src/delivery";
import { createAnnouncement } from "../../src/features/announcements/service";
import { type Person, type SentMessage, textOf } from "../fixtures/fake-graph-api/server";
import { statusPayload } from "../fixtures/fake-graph-api/webhooks";
import { drainDeliveries, waitFor } from "../helpers/wait";
import {
  approvedTemplates,
  EXAMPLE_TEMPLATES,
  type RunningWhatsApp,
  startWhatsAppApp,
} from "../helpers/whatsapp";
import {
  lastWroteLongAgo,
  type SettledResident,
  settledResident,
} from "../helpers/whatsapp-people";

/**
 * A staff broadcast (an announcement, through the announcements service and the delivery
 * engine) to WhatsApp residents, through the real app against the fake Graph API: inside the
 * 24-hour window it arrives as a normal message; outside it, as the approved template with the
 * text as its parameter, or, with no template for announcements, not at all (skipped
 * `outside_window`, counted in the report). A 131047 refusal at once goes as the template, once.
 * Meta's late verdicts arrive as status webhooks: a 131047 after a 200 sends the row again as the
 * template, once, or, with no template, skips it `outside_window` as the refusal at once would;
 * 131026 fails it with the code kept; `delivered` and `read` are recorded and counted.
 */

const isTemplate = (m: SentMessage) => m.body.type === "template";

/** What one app in a describe block needs: WhatsApp residents, municipalities, a broadcaster. */
function broadcasting(options: Parameters<typeof startWhatsAppApp>[0]) {
  const state = {} as { wa: RunningWhatsApp; municipalityIds: number[]; adminId: number };

  beforeAll(async () => {
    state.wa = await startWhatsAppApp(options);
    const db = state.wa.app.database.db;
    const rows = await db
      .select({ id: municipalities.id })
      .from(municipalities)
      .orderBy(municipalities.id)
      .limit(4);
    state.municipalityIds = rows.map((r) => Number(r.id));
    // The broadcaster: an administrator in the web chat (Telegram is off here), in no audience;
    // the progress report goes to their web chat.
    const admin = await createSyntheticUser(db, "web", "broadcast-admin", "ky");
    await updateUserSettings(db, admin.id, { topics: [] });
    state.adminId = admin.id;
  }, 60_000);
  afterAll(async () => {
    await state.wa?.stop();
  });

  /**
   * A WhatsApp resident subscribed to announcements, set up as if onboarded. `outside`: they
   * last wrote two days ago, for Meta and for the app.
   */
  async function resident(name: string, waId: string, municipalityId: number, outside = false) {
    const settled = await settledResident(state.wa, {
      name,
      waId,
      municipalityId,
      topics: ["announcements"],
    });
    if (outside) await lastWroteLongAgo(state.wa, settled);
    return settled;
  }

  /** An announcement by the administrator to a municipality's subscribers, sent now. */
  async function announce(municipalityId: number, text: string): Promise<number> {
    const message = await createAnnouncement(
      state.wa.app.database.db,
      { userId: state.adminId, roles: [{ role: "admin", municipalityId: null }] },
      { municipalityId, text: { ky: text } },
    );
    return message.id;
  }

  /** The person's delivery row of the message, once `test` passes on it. */
  function deliveryOnce(
    messageId: number,
    userId: number,
    test: (row: typeof deliveries.$inferSelect) => boolean,
    what: string,
  ) {
    return waitFor(
      async () => {
        const [row] = await state.wa.app.database.db
          .select()
          .from(deliveries)
          .where(and(eq(deliveries.messageId, messageId), eq(deliveries.userId, userId)));
        return row && test(row) && row;
      },
      undefined,
      what,
    );
  }

  /** The message once the engine finished it and `test` passes on its stored totals. */
  function finished(
    messageId: number,
    test: (totals: (typeof outgoingMessages.$inferSelect)["totals"]) => boolean,
  ) {
    return waitFor(
      async () => {
        const [m] = await state.wa.app.database.db
          .select()
          .from(outgoingMessages)
          .where(eq(outgoingMessages.id, messageId));
        return m?.status === "done" && test(m.totals) && m;
      },
      undefined,
      "the message to finish",
    );
  }

  /** The first message the app sent the resident after they were settled. */
  /**
   * The first message to the person after their welcome. Generous: on a busy machine a failure
   * Meta reports before the send was recorded waits for the inbound side's second look.
   */
  async function firstNew(
    { p, seen }: SettledResident,
    timeoutMs = 60_000,
  ): Promise<SentMessage | undefined> {
    return (await state.wa.fake.waitForMessages(p, seen + 1, timeoutMs))[seen];
  }

  /** Every request the fake accepted for the person, failed ones included. */
  function sentTo(p: Person): SentMessage[] {
    return state.wa.fake.sent.filter((m) => m.to === p.waId);
  }

  /** Meta's status webhook for one of our messages, signed; the app's HTTP status. */
  async function postStatus(status: WaWebhookStatus): Promise<number> {
    const { fake } = state.wa;
    const body = JSON.stringify(
      statusPayload(
        {
          wabaId: "200000000000001",
          phoneNumberId: fake.phoneNumberId,
          displayPhoneNumber: "15550001234",
        },
        status,
      ),
    );
    return (await fake.deliverRaw(body, { "x-hub-signature-256": fake.sign(body) })).status;
  }

  /** The requests the fake refused at once for the person, by Meta's error code. */
  function refusedFor(p: Person): { type: unknown; code: number }[] {
    return state.wa.fake.refused
      .filter((r) => (r.body as { to?: string } | undefined)?.to === p.waId)
      .map((r) => ({ type: (r.body as { type?: unknown }).type, code: r.code }));
  }

  return {
    state,
    resident,
    announce,
    deliveryOnce,
    finished,
    firstNew,
    sentTo,
    postStatus,
    refusedFor,
  };
}

describe("WhatsApp broadcast with an announcement template", () => {
  const {
    state,
    resident,
    announce,
    deliveryOnce,
    finished,
    firstNew,
    sentTo,
    postStatus,
    refusedFor,
  } = broadcasting({
    env: { WHATSAPP_TEMPLATES: EXAMPLE_TEMPLATES },
    fake: { templates: approvedTemplates(EXAMPLE_TEMPLATES), statusWebhooks: true },
  });

  it("sends a normal message inside the window, the template outside it; fails an undeliverable number with its code; counts delivered", async () => {
    const { wa, municipalityIds } = state;
    const db = wa.app.database.db;
    const muni = municipalityIds[0]!;
    const inside = await resident("Айбек", "996700330001", muni);
    const outside = await resident("Бермет", "996700330002", muni, true);
    const gone = await resident("Чынара", "996700330003", muni);
    wa.fake.undeliverable.add(gone.p.waId!);

    const typed = "Жарым жылдык бюджеттин отчету 15-майда, саат 10:00до.";
    const messageId = await announce(muni, typed);

    // Inside the window: the announcement itself.
    const normal = await firstNew(inside);
    expect(normal?.body.type).toBe("text");
    expect(textOf(normal!)).toContain(typed);

    // Outside it: the approved template, in Kyrgyz, with the text on one line as {{1}}.
    const template = await firstNew(outside);
    expect(template && isTemplate(template)).toBe(true);
    const tpl = template?.body.template as { name: string; language: { code: string } };
    expect(tpl).toMatchObject({ name: "aimak_announcement", language: { code: "ky_KG" } });
    expect(textOf(template!)).toContain(typed);
    expect(textOf(template!)).not.toMatch(/\n/);
    expect(
      sentTo(outside.p)
        .filter((m) => !isTemplate(m))
        .slice(outside.seen),
    ).toEqual([]);

    // The undeliverable number: accepted, then failed by a status webhook; the code is kept.
    const failed = await deliveryOnce(
      messageId,
      gone.userId,
      (row) => row.status === "failed",
      "the undeliverable row to fail",
    );
    expect(failed.lastError).toContain("131026");

    // The phones reported the normal message and the template delivered.
    for (const who of [inside, outside]) {
      await deliveryOnce(
        messageId,
        who.userId,
        (row) => row.channelStatus === "delivered",
        "the delivered status",
      );
    }
    // The resident opened the normal message: Meta's `read` goes onto their row, and a late
    // `delivered` (Meta does not keep the order) does not take it back.
    const readAt = Math.floor(Date.now() / 1000) + 5;
    expect(await postStatus({ id: normal!.wamid, status: "read", timestamp: String(readAt) })).toBe(
      200,
    );
    const read = await deliveryOnce(
      messageId,
      inside.userId,
      (row) => row.channelStatus === "read",
      "the read status",
    );
    expect(read.channelStatusAt?.getTime()).toBe(readAt * 1000);
    expect(
      await postStatus({ id: normal!.wamid, status: "delivered", timestamp: String(readAt + 1) }),
    ).toBe(200);
    await drainDeliveries(db, { messageId });
    const progress = await getMessageProgress(db, messageId);
    expect(progress).toMatchObject({
      total: 3,
      sent: 2,
      failed: 1,
      templates: 1,
      outsideWindow: 0,
      delivered: 2,
      read: 1,
    });
    const [stillRead] = await db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.messageId, messageId), eq(deliveries.userId, inside.userId)));
    expect(stillRead?.channelStatus).toBe("read");
    // The stored report of the finished message says the same (its delivered and read counts
    // are those of when it finished: retention stores them again before deleting the rows).
    const done = await finished(messageId, (totals) => totals?.failed === 1);
    expect(done.totals).toMatchObject({ total: 3, sent: 2, failed: 1, templates: 1 });
  }, 120_000);

  it("re-sends a row as the template, once, when Meta reports 131047 after accepting it", async () => {
    const { wa, municipalityIds } = state;
    const db = wa.app.database.db;
    const muni = municipalityIds[1]!;
    // The app believes the window is open (the person wrote just now); Meta says it is closed.
    const late = await resident("Данияр", "996700330004", muni);
    wa.fake.closeWindow(late.p);
    wa.fake.windowErrors = "status";
    const before = sentTo(late.p).length;

    const typed = "Суу түтүгүн оңдоо иштери бүгүн башталды.";
    const messageId = await announce(muni, typed);

    // Accepted as a normal message, failed 131047 by webhook, then the template. Slow on a busy
    // machine: the failure may arrive before the send is recorded and wait for a later look.
    const template = await firstNew(late, 150_000).catch(async (error: unknown) => {
      // Where the row got to, so that a failure here says which step did not happen.
      const rows = await db.select().from(deliveries).where(eq(deliveries.messageId, messageId));
      const [m] = await db
        .select()
        .from(outgoingMessages)
        .where(eq(outgoingMessages.id, messageId));
      const sent = sentTo(late.p).map((x) => [x.body.type, x.wamid, x.failed ?? null]);
      throw new Error(
        `${String(error)}\nrows: ${JSON.stringify(rows)}\nmessage: ${m?.status}\nsent: ${JSON.stringify(sent)}`,
      );
    });
    expect(template && isTemplate(template)).toBe(true);
    expect(textOf(template!)).toContain(typed);
    const row = await deliveryOnce(
      messageId,
      late.userId,
      (r) => r.status === "sent" && r.viaTemplate,
      "the row sent as a template",
    );
    expect(row.channelMessageId).toBe(template?.wamid);
    await drainDeliveries(db, { messageId });
    await wa.fake.idle();

    const attempts = sentTo(late.p).slice(before);
    expect(attempts.map((m) => [m.body.type, m.failed ?? null])).toEqual([
      ["text", 131047],
      ["template", null],
    ]);
    const progress = await getMessageProgress(db, messageId);
    expect(progress).toMatchObject({ total: 1, sent: 1, failed: 0, templates: 1 });
    wa.fake.windowErrors = "sync";
  }, 240_000);

  it("sends the template, once, when Meta refuses the normal message at once with 131047", async () => {
    const { wa, municipalityIds } = state;
    const db = wa.app.database.db;
    const muni = municipalityIds[2]!;
    // The app believes the window is open (the person wrote just now); Meta's clock says it is
    // closed and refuses the text synchronously.
    const skewed = await resident("Гүлзат", "996700330005", muni);
    wa.fake.closeWindow(skewed.p);
    expect(wa.fake.windowErrors).toBe("sync");
    const acceptedBefore = sentTo(skewed.p).length;
    const refusedBefore = refusedFor(skewed.p).length;

    const typed = "Айыл өкмөтү жаңы дарекке көчтү.";
    const messageId = await announce(muni, typed);

    const template = await firstNew(skewed);
    expect(template && isTemplate(template)).toBe(true);
    expect(textOf(template!)).toContain(typed);
    const row = await deliveryOnce(
      messageId,
      skewed.userId,
      (r) => r.status !== "pending" && r.status !== "sending",
      "the row to be recorded",
    );
    expect(row).toMatchObject({ status: "sent", viaTemplate: true });
    expect(row.channelMessageId).toBe(template?.wamid);
    await drainDeliveries(db, { messageId });
    await wa.fake.idle();

    // Exactly one refused text, then exactly one accepted template.
    expect(refusedFor(skewed.p).slice(refusedBefore)).toEqual([{ type: "text", code: 131047 }]);
    expect(
      sentTo(skewed.p)
        .slice(acceptedBefore)
        .map((m) => [m.body.type, m.failed ?? null]),
    ).toEqual([["template", null]]);
    const progress = await getMessageProgress(db, messageId);
    expect(progress).toMatchObject({ total: 1, sent: 1, failed: 0, skipped: 0, templates: 1 });
  }, 120_000);
});

describe("WhatsApp broadcast without a template", () => {
  const { state, resident, announce, deliveryOnce, finished, firstNew, sentTo } = broadcasting({});

  it("skips the person outside the window as outside_window, and the report counts it", async () => {
    const { wa, municipalityIds } = state;
    const db = wa.app.database.db;
    const muni = municipalityIds[0]!;
    const inside = await resident("Элнура", "996700340001", muni);
    const outside = await resident("Жоомарт", "996700340002", muni, true);
    const outsideBefore = sentTo(outside.p).length;

    const typed = "Ишемби күнү ашар болот, баарыңарды чакырабыз.";
    const messageId = await announce(muni, typed);

    const normal = await firstNew(inside);
    expect(textOf(normal!)).toContain(typed);
    const skipped = await deliveryOnce(
      messageId,
      outside.userId,
      (row) => row.status === "skipped",
      "the outside row to be skipped",
    );
    expect(skipped.skipReason).toBe("outside_window");
    // Nothing at all went to Meta for that person: no message, so no 131047 either.
    expect(sentTo(outside.p).length).toBe(outsideBefore);
    expect(wa.fake.refused.filter((r) => r.code === 131047)).toEqual([]);

    await drainDeliveries(db, { messageId });
    const progress = await getMessageProgress(db, messageId);
    expect(progress).toMatchObject({
      total: 2,
      sent: 1,
      skipped: 1,
      outsideWindow: 1,
      templates: 0,
    });
    const done = await finished(messageId, () => true);
    expect(done.totals).toMatchObject({ total: 2, sent: 1, skipped: 1, outsideWindow: 1 });
  }, 120_000);

  it("skips as outside_window, not failed, when Meta reports 131047 after accepting the message", async () => {
    const { wa, municipalityIds } = state;
    const db = wa.app.database.db;
    const muni = municipalityIds[1]!;
    // The app believes the window is open; Meta accepts the text, then fails it by webhook.
    const late = await resident("Нурлан", "996700340003", muni);
    wa.fake.closeWindow(late.p);
    wa.fake.windowErrors = "status";
    try {
      const before = sentTo(late.p).length;
      const typed = "Жекшемби күнү суу болбойт.";
      const messageId = await announce(muni, typed);

      // Generous: the failure may arrive before the send is recorded and wait for a later look.
      const row = await waitFor(
        async () => {
          const [r] = await db
            .select()
            .from(deliveries)
            .where(and(eq(deliveries.messageId, messageId), eq(deliveries.userId, late.userId)));
          return r && (r.status === "skipped" || r.status === "failed") && r;
        },
        150_000,
        "Meta's failure to reach the row",
      );
      expect(row).toMatchObject({ status: "skipped", skipReason: "outside_window" });
      expect(row.lastError).toContain("131047");
      await drainDeliveries(db, { messageId });
      await wa.fake.idle();

      // The one text, failed by Meta; no template (there is none), no second try.
      expect(
        sentTo(late.p)
          .slice(before)
          .map((m) => [m.body.type, m.failed ?? null]),
      ).toEqual([["text", 131047]]);
      const progress = await getMessageProgress(db, messageId);
      expect(progress).toMatchObject({
        total: 1,
        sent: 0,
        failed: 0,
        skipped: 1,
        outsideWindow: 1,
        templates: 0,
      });
      const done = await finished(messageId, (totals) => totals?.outsideWindow === 1);
      expect(done.totals).toMatchObject({ total: 1, sent: 0, failed: 0, outsideWindow: 1 });
    } finally {
      wa.fake.windowErrors = "sync";
    }
  }, 240_000);
});
