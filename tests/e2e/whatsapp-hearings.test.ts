import { readFileSync } from "node:fs";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { parseConfig } from "../../src/config";
import { updateUserSettings } from "../../src/core/people";
import type { Topic } from "../../src/db/schema";
import { conversationState, outgoingMessages, users } from "../../src/db/schema";
import { getMessageProgress } from "../../src/delivery";
import { hearingRsvps } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import { CLI_ACTOR, hearingSettingsOf } from "../../src/features/hearings/types";
import { translator } from "../../src/i18n";
import {
  buttonsOf,
  type OfferedButton,
  type Person,
  type SentMessage,
  textOf,
} from "../fixtures/fake-graph-api/server";
import { drainDeliveries, waitFor } from "../helpers/wait";
import { type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";

/**
 * A budget hearing reaching WhatsApp residents through the real app (webhooks in, Graph API out,
 * the delivery engine on its real clock): inside the 24-hour window the notice arrives with its
 * buttons as a list, the resident answers "going" by picking a row and asks for the calendar,
 * which arrives as an uploaded .ics document; outside the window the notice arrives as the
 * approved template with the hearing's facts as its parameters.
 */

const TEMPLATES = "config/whatsapp-templates.example.json";
const t = translator("ky");

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

/** The row or button with this label (a shortened title carries the full label as description). */
function choice(message: SentMessage, label: string): OfferedButton {
  const found = buttonsOf(message).find((b) => b.title === label || b.description === label);
  if (!found) {
    throw new Error(`no "${label}" among ${JSON.stringify(buttonsOf(message))}`);
  }
  return found;
}

describe("WhatsApp: a hearing notice, an RSVP and the calendar", () => {
  let wa: RunningWhatsApp;
  let service: HearingsService;

  beforeAll(async () => {
    wa = await startWhatsAppApp({
      env: { WHATSAPP_TEMPLATES: TEMPLATES },
      fake: { templates: approvedTemplates(TEMPLATES) },
    });
    service = new HearingsService(
      wa.app.database.db,
      hearingSettingsOf(parseConfig({ LOG_LEVEL: "silent", PORT: "0" })),
    );
  }, 60_000);
  afterAll(async () => {
    await wa?.stop();
  });

  /**
   * A WhatsApp resident set up as if they had finished onboarding: their first message creates
   * them (and opens the window); the settings are then written directly and the onboarding flow
   * the message started is ended.
   */
  async function resident(name: string, waId: string, topics: Topic[]) {
    const db = wa.app.database.db;
    const p = wa.person(name, waId);
    await wa.fake.sendText(p, "Салам");
    await wa.fake.waitForMessages(p, 1);
    const [user] = await db.select().from(users).where(eq(users.channelUserId, waId));
    if (!user) throw new Error(`no user for ${waId}`);
    await updateUserSettings(db, user.id, {
      locale: "ky",
      municipalityId: wa.municipalityId,
      topics,
      consentAt: new Date(),
    });
    // The flow's state is stored once the welcome has gone: wait for it, then end the flow.
    const key = eq(conversationState.key, String(user.chatId));
    await waitFor(async () => (await db.select().from(conversationState).where(key)).length > 0);
    await db.delete(conversationState).where(key);
    return { p, userId: user.id, seen: wa.fake.messagesTo(p).length };
  }

  /** The first message to `p` after the `after` first ones that satisfies `test`. */
  function nextMessage(p: Person, after: number, test: (m: SentMessage) => boolean, what: string) {
    return waitFor(
      () =>
        wa.fake
          .messagesTo(p)
          .slice(after)
          .find((m) => test(m)),
      undefined,
      what,
    );
  }

  it("delivers the notice inside the window, takes 'going' and sends the .ics; a template outside it", async () => {
    const db = wa.app.database.db;
    const aibek = await resident("Айбек", "996700310001", ["hearings"]);
    const gulnara = await resident("Гулнара", "996700310002", ["hearings"]);
    // Gulnara last wrote two days ago: Meta and the app both see her window closed.
    wa.fake.closeWindow(gulnara.p);
    await db
      .update(users)
      .set({ lastMessageAt: sql`now() - interval '2 days'` })
      .where(eq(users.id, gulnara.userId));

    const title = "2027-жылдын бюджетинин долбоору";
    const place = "Айыл өкмөтүнүн чоң залы";
    const draft = await service.create(CLI_ACTOR, {
      municipalityId: wa.municipalityId,
      kind: "draft_budget",
      title: { ky: title, ru: "Проект бюджета на 2027 год" },
      startsAt: new Date(Date.now() + 3 * 86_400_000),
      durationMin: 60,
      place: { ky: place },
      // A day before: long after this test.
      reminderOffsets: [1440],
    });
    const hearing = await service.publish(CLI_ACTOR, draft.id);

    // Inside the window: the notice itself, its four buttons as a list (more than three).
    const notice = await nextMessage(
      aibek.p,
      aibek.seen,
      (m) => buttonsOf(m).length > 0,
      "the notice's buttons",
    );
    const before = wa.fake.messagesTo(aibek.p).slice(aibek.seen);
    const shown = before.map(textOf).join("\n");
    expect(shown).toContain(title);
    expect(shown).toContain(place);
    expect(notice.body.type).toBe("interactive");
    expect((notice.body.interactive as { type?: string }).type).toBe("list");
    const going = choice(notice, ky.hearings.notice.btn_going);
    choice(notice, ky.hearings.notice.btn_not_going);
    choice(notice, ky.hearings.notice.btn_ask);
    const calendar = choice(notice, ky.hearings.notice.btn_calendar);

    // Outside the window: the approved template, in Kyrgyz, with the hearing's facts.
    const [template] = await wa.fake
      .waitForMessages(gulnara.p, gulnara.seen + 1)
      .then((all) => all.slice(gulnara.seen));
    expect(template?.body.type).toBe("template");
    const tpl = template?.body.template as { name: string; language: { code: string } };
    expect(tpl.name).toBe("aimak_hearing_notice");
    expect(tpl.language.code).toBe("ky_KG");
    const params = textOf(template!);
    expect(params).toContain(title);
    expect(params).toContain(place);
    expect(params).toContain(t("hearings.kind.draft_budget"));
    expect(params).not.toMatch(/[\n\t]/);

    // The report counts one normal delivery and one template.
    const [message] = await db
      .select({ id: outgoingMessages.id })
      .from(outgoingMessages)
      .where(eq(outgoingMessages.kind, "hearing_notice"));
    const messageId = Number(message?.id);
    await drainDeliveries(db, { messageId });
    const progress = await getMessageProgress(db, messageId);
    expect(progress).toMatchObject({ total: 2, sent: 2, templates: 1, outsideWindow: 0 });

    // "Going", picked from the list: the answer stored, confirmed in Kyrgyz.
    const seenBeforeGoing = wa.fake.messagesTo(aibek.p).length;
    const picked = await wa.fake.pickRow(aibek.p, going);
    expect(picked.status).toBe(200);
    const rsvp = await waitFor(async () => {
      const [row] = await db
        .select()
        .from(hearingRsvps)
        .where(and(eq(hearingRsvps.hearingId, hearing.id), eq(hearingRsvps.userId, aibek.userId)));
      return row;
    });
    expect(rsvp.answer).toBe("going");
    await nextMessage(
      aibek.p,
      seenBeforeGoing,
      (m) => textOf(m) === t("hearings.resident.answered_going"),
      "the 'going' confirmation",
    );

    // The calendar: an .ics uploaded through the media endpoint and sent as a document.
    const seenBeforeCalendar = wa.fake.messagesTo(aibek.p).length;
    await wa.fake.pickRow(aibek.p, calendar);
    const doc = await nextMessage(
      aibek.p,
      seenBeforeCalendar,
      (m) => m.body.type === "document",
      "the calendar document",
    );
    const document = doc.body.document as { id?: string; filename?: string; caption?: string };
    expect(document.filename).toBe(`hearing-${hearing.id}.ics`);
    expect(document.caption).toContain(title);
    const upload = wa.fake.uploads.find((u) => u.id === document.id);
    expect(upload).toBeDefined();
    expect(upload?.mime).toBe("text/calendar");
    expect(upload?.filename).toBe(`hearing-${hearing.id}.ics`);
    const ics = upload?.bytes.toString("utf8") ?? "";
    expect(ics).toContain("BEGIN:VCALENDAR");
    expect(ics).toContain(`UID:hearing-${hearing.id}@`);
  }, 120_000);
});
