import { readFileSync } from "node:fs";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyntheticUser, updateUserSettings } from "../../src/core/people";
import {
  conversationState,
  deliveries,
  municipalities,
  outgoingMessages,
  users,
} from "../../src/db/schema";
import { getMessageProgress } from "../../src/delivery";
import { createAnnouncement } from "../../src/features/announcements/service";
import { type Person, type SentMessage, textOf } from "../fixtures/fake-graph-api/server";
import { drainDeliveries, waitFor } from "../helpers/wait";
import { type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";

/**
 * A staff broadcast (an announcement, through the announcements service and the delivery
 * engine) to WhatsApp residents, through the real app against the fake Graph API: inside the
 * 24-hour window it arrives as a normal message; outside it, as the approved template with the
 * text as its parameter, or, with no template for announcements, not at all (skipped
 * `outside_window`, counted in the report). Meta's late verdicts arrive as status webhooks: a
 * 131047 after a 200 sends the row again as the template, once; 131026 fails it with the code
 * kept; `delivered` is counted.
 */

const TEMPLATES = "config/whatsapp-templates.example.json";

/** The shipped template file's names and language codes, as the fake's approved templates. */
function approvedTemplates(path: string): Record<string, string[]> {
  const file = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const [kind, entry] of Object.entries(file)) {
    if (kind.startsWith("_")) continue;
    const { name, language } = entry as { name: string; language: Record<string, string> };
    out[name] = Object.values(language);
  }
  return out;
}

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
   * A WhatsApp resident subscribed to announcements, set up as if onboarded: their first message
   * creates them (and opens the window), the settings are written directly and the onboarding
   * flow their message started is ended. `outside`: they last wrote two days ago, for Meta and
   * for the app.
   */
  async function resident(name: string, waId: string, municipalityId: number, outside = false) {
    const { wa } = state;
    const db = wa.app.database.db;
    const p = wa.person(name, waId);
    await wa.fake.sendText(p, "Салам");
    await wa.fake.waitForMessages(p, 1);
    const [user] = await db.select().from(users).where(eq(users.channelUserId, waId));
    if (!user) throw new Error(`no user for ${waId}`);
    await updateUserSettings(db, user.id, {
      locale: "ky",
      municipalityId,
      topics: ["announcements"],
      consentAt: new Date(),
    });
    const flowKey = eq(conversationState.key, String(user.chatId));
    await waitFor(async () => (await db.select().from(conversationState).where(flowKey)).length);
    await db.delete(conversationState).where(flowKey);
    if (outside) {
      wa.fake.closeWindow(p);
      await db
        .update(users)
        .set({ lastMessageAt: sql`now() - interval '2 days'` })
        .where(eq(users.id, user.id));
    }
    return { p, userId: user.id, seen: wa.fake.messagesTo(p).length };
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

  async function deliveryOf(messageId: number, userId: number) {
    const [row] = await state.wa.app.database.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.messageId, messageId), eq(deliveries.userId, userId)));
    return row;
  }

  /** Every request the fake accepted for the person, failed ones included. */
  function sentTo(p: Person): SentMessage[] {
    return state.wa.fake.sent.filter((m) => m.to === p.waId);
  }

  return { state, resident, announce, deliveryOf, sentTo };
}

describe("WhatsApp broadcast with an announcement template", () => {
  const { state, resident, announce, deliveryOf, sentTo } = broadcasting({
    env: { WHATSAPP_TEMPLATES: TEMPLATES },
    fake: { templates: approvedTemplates(TEMPLATES), statusWebhooks: true },
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
    const [normal] = (await wa.fake.waitForMessages(inside.p, inside.seen + 1)).slice(inside.seen);
    expect(normal?.body.type).toBe("text");
    expect(textOf(normal!)).toContain(typed);

    // Outside it: the approved template, in Kyrgyz, with the text on one line as {{1}}.
    const [template] = (await wa.fake.waitForMessages(outside.p, outside.seen + 1)).slice(
      outside.seen,
    );
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
    const failed = await waitFor(
      async () => {
        const row = await deliveryOf(messageId, gone.userId);
        return row?.status === "failed" && row;
      },
      undefined,
      "the undeliverable row to fail",
    );
    expect(failed.lastError).toContain("131026");

    // The phones reported the normal message and the template delivered.
    for (const who of [inside, outside]) {
      await waitFor(
        async () => (await deliveryOf(messageId, who.userId))?.channelStatus === "delivered",
        undefined,
        "the delivered status",
      );
    }
    await drainDeliveries(db, { messageId });
    const progress = await getMessageProgress(db, messageId);
    expect(progress).toMatchObject({
      total: 3,
      sent: 2,
      failed: 1,
      templates: 1,
      outsideWindow: 0,
    });
    expect(progress.delivered).toBe(2);
    // The stored report of the finished message says the same.
    const done = await waitFor(
      async () => {
        const [m] = await db
          .select()
          .from(outgoingMessages)
          .where(eq(outgoingMessages.id, messageId));
        return m?.status === "done" && m.totals?.failed === 1 && m;
      },
      undefined,
      "the finished message's totals",
    );
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

    // Accepted as a normal message, failed 131047 by webhook, then the template.
    const [template] = (await wa.fake.waitForMessages(late.p, late.seen + 1)).slice(late.seen);
    expect(template && isTemplate(template)).toBe(true);
    expect(textOf(template!)).toContain(typed);
    const row = await waitFor(
      async () => {
        const r = await deliveryOf(messageId, late.userId);
        return r?.status === "sent" && r.viaTemplate && r;
      },
      undefined,
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
  }, 120_000);
});

describe("WhatsApp broadcast without a template", () => {
  const { state, resident, announce, deliveryOf, sentTo } = broadcasting({});

  it("skips the person outside the window as outside_window, and the report counts it", async () => {
    const { wa, municipalityIds } = state;
    const db = wa.app.database.db;
    const muni = municipalityIds[0]!;
    const inside = await resident("Элнура", "996700340001", muni);
    const outside = await resident("Жоомарт", "996700340002", muni, true);
    const outsideBefore = sentTo(outside.p).length;

    const typed = "Ишемби күнү ашар болот, баарыңарды чакырабыз.";
    const messageId = await announce(muni, typed);

    const [normal] = (await wa.fake.waitForMessages(inside.p, inside.seen + 1)).slice(inside.seen);
    expect(textOf(normal!)).toContain(typed);
    const skipped = await waitFor(
      async () => {
        const row = await deliveryOf(messageId, outside.userId);
        return row?.status === "skipped" && row;
      },
      undefined,
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
    const done = await waitFor(
      async () => {
        const [m] = await db
          .select()
          .from(outgoingMessages)
          .where(eq(outgoingMessages.id, messageId));
        return m?.status === "done" && m;
      },
      undefined,
      "the message to finish",
    );
    expect(done.totals).toMatchObject({ total: 2, sent: 1, skipped: 1, outsideWindow: 1 });
  }, 120_000);
});
