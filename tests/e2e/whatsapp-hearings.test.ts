import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { parseConfig } from "../../src/config";
import type { Topic } from "../../src/db/schema";
import { outgoingMessages } from "../../src/db/schema";
import { getMessageProgress } from "../../src/delivery";
import { hearingRsvps } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import { CLI_ACTOR, hearingSettingsOf } from "../../src/features/hearings/types";
import { translator } from "../../src/i18n";
import { buttonsOf, textOf } from "../fixtures/fake-graph-api/server";
import { drainDeliveries, waitFor } from "../helpers/wait";
import {
  approvedTemplates,
  EXAMPLE_TEMPLATES,
  type RunningWhatsApp,
  startWhatsAppApp,
} from "../helpers/whatsapp";
import { option, peopleOf } from "../helpers/whatsapp-people";

/**
 * A budget hearing reaching WhatsApp residents through the real app (webhooks in, Graph API out,
 * the delivery engine on its real clock): inside the 24-hour window the notice arrives with its
 * buttons as a list, the resident answers "going" by picking a row and asks for the calendar,
 * which arrives as an uploaded .ics document; outside the window the notice arrives as the
 * approved template with the hearing's facts as its parameters.
 */

const t = translator("ky");

describe("WhatsApp: a hearing notice, an RSVP and the calendar", () => {
  let wa: RunningWhatsApp;
  let service: HearingsService;

  beforeAll(async () => {
    wa = await startWhatsAppApp({
      env: { WHATSAPP_TEMPLATES: EXAMPLE_TEMPLATES },
      fake: { templates: approvedTemplates(EXAMPLE_TEMPLATES) },
    });
    service = new HearingsService(
      wa.app.database.db,
      hearingSettingsOf(parseConfig({ LOG_LEVEL: "silent", PORT: "0" })),
    );
  }, 60_000);
  afterAll(async () => {
    await wa?.stop();
  });

  const { settledResident, lastWroteLongAgo, nextMessage } = peopleOf(() => wa);
  const resident = (name: string, waId: string, topics: Topic[]) =>
    settledResident({ name, waId, topics });

  it("delivers the notice inside the window, takes 'going' and sends the .ics; a template outside it", async () => {
    const db = wa.app.database.db;
    const aibek = await resident("Айбек", "996700310001", ["hearings"]);
    const gulnara = await resident("Гулнара", "996700310002", ["hearings"]);
    // Gulnara last wrote two days ago: Meta and the app both see her window closed.
    await lastWroteLongAgo(gulnara);

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
    const going = option(notice, ky.hearings.notice.btn_going);
    option(notice, ky.hearings.notice.btn_not_going);
    option(notice, ky.hearings.notice.btn_ask);
    const calendar = option(notice, ky.hearings.notice.btn_calendar);

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
