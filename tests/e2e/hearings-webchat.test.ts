import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { parseConfig } from "../../src/config";
import { roleGrants, users } from "../../src/db/schema";
import { offsetLabel } from "../../src/features/hearings/notices";
import { hearingQuestions, hearingRsvps } from "../../src/features/hearings/schema";
import { HearingsService } from "../../src/features/hearings/service";
import { CLI_ACTOR, hearingSettingsOf } from "../../src/features/hearings/types";
import { translator } from "../../src/i18n";
import { canRunBrowser, DESKTOP, visible } from "../helpers/browser";
import { waitFor } from "../helpers/wait";
import {
  bubbles,
  finishOnboarding,
  onboardToTopics,
  openChat,
  press,
  type,
  useWebchatBrowser,
  waitForBot,
} from "../helpers/webchat-page";

/**
 * A budget hearing in the web chat, in Chromium against the whole app in this process (HTTP,
 * bot, conversations, delivery engine and scheduler on their real clocks): a newcomer onboards
 * into a municipality subscribed to hearings only, receives the published notice with its
 * buttons, answers "going", asks a question, gets the calendar as a link (no uploads in the web
 * chat), and then the reminder the scheduler starts at its moment. Made staff, the same person's
 * CSV export is pointed to the command line (no uploads in the web chat).
 */

const t = translator("ky");
/** The reminder goes this long after the hearing is published (its offset: 2 minutes). */
const REMINDER_IN_MS = 20_000;
const OFFSET_MIN = 2;

describe.skipIf(!canRunBrowser)("a budget hearing in the web chat", () => {
  const chat = useWebchatBrowser();

  it("onboards, gets the notice, answers going, asks, takes the calendar link, gets the reminder; as staff, exports by the command line", async () => {
    const { app, base } = chat;
    const db = app.database.db;
    const page = await chat.newPage({ ...DESKTOP, locale: "ky-KG", timezoneId: "Asia/Bishkek" });
    const userId = await openChat(page, base);

    // Onboarding: language, municipality, only hearings among the topics, consent.
    await onboardToTopics(page);
    for (const topic of ["polls", "announcements"] as const) {
      const on = `✅ ${t(`onboarding.topic_${topic}`)}`;
      await press(page, on);
      await expect
        .poll(() =>
          page.getByRole("button", { name: `⬜ ${t(`onboarding.topic_${topic}`)}` }).count(),
        )
        .toBeGreaterThan(0);
    }
    await finishOnboarding(page);
    const [me] = await db.select().from(users).where(eq(users.id, userId));
    expect(me?.topics).toEqual(["hearings"]);
    const municipalityId = me?.municipalityId;
    expect(municipalityId).toEqual(expect.any(Number));

    // Staff publish a hearing (through the service, as the flow does) whose 2-minute reminder
    // falls due REMINDER_IN_MS from now.
    const service = new HearingsService(
      db,
      hearingSettingsOf(parseConfig({ LOG_LEVEL: "silent", PORT: "0" })),
    );
    const title = "2027-жылдын бюджетинин долбоору";
    const draft = await service.create(CLI_ACTOR, {
      municipalityId: municipalityId!,
      kind: "draft_budget",
      title: { ky: title, ru: "Проект бюджета на 2027 год" },
      startsAt: new Date(Date.now() + OFFSET_MIN * 60_000 + REMINDER_IN_MS),
      durationMin: 60,
      place: { ky: "Айыл өкмөтүнүн залы" },
      reminderOffsets: [OFFSET_MIN],
    });
    const hearing = await service.publish(CLI_ACTOR, draft.id);

    // The notice, with the place in its text and the four buttons.
    await waitForBot(page, title);
    const notice = page.locator("li.msg.bot", { hasText: title }).last();
    expect(await notice.locator(".text").textContent()).toContain("Айыл өкмөтүнүн залы");
    for (const key of ["btn_going", "btn_not_going", "btn_ask", "btn_calendar"] as const) {
      expect(await notice.getByRole("button", { name: ky.hearings.notice[key] }).count()).toBe(1);
    }

    // Going: a toast in Kyrgyz, the answer stored.
    await press(page, ky.hearings.notice.btn_going);
    await expect
      .poll(() => page.locator("#toast").textContent())
      .toBe(t("hearings.resident.answered_going"));
    const rsvp = await waitFor(async () => {
      const [row] = await db
        .select()
        .from(hearingRsvps)
        .where(and(eq(hearingRsvps.hearingId, hearing.id), eq(hearingRsvps.userId, userId)));
      return row;
    });
    expect(rsvp.answer).toBe("going");

    // A question: the prompt, one message, the confirmation naming who reads it.
    await press(page, ky.hearings.notice.btn_ask);
    await waitForBot(page, visible(ky.hearings.resident.ask_prompt));
    await type(page, "Мектептин оңдоосуна канча каралган?");
    await waitForBot(page, visible(ky.hearings.resident.asked));
    const questions = await db
      .select()
      .from(hearingQuestions)
      .where(eq(hearingQuestions.hearingId, hearing.id));
    expect(questions.map((q) => [q.userId, q.text])).toEqual([
      [userId, "Мектептин оңдоосуна канча каралган?"],
    ]);

    // The calendar: a link to the public file (the web chat cannot take an upload).
    await press(page, ky.hearings.notice.btn_calendar);
    await waitForBot(page, visible(ky.hearings.resident.calendar_link));
    const link = page
      .locator("li.msg.bot", { hasText: visible(ky.hearings.resident.calendar_link) })
      .last()
      .locator(".text a");
    const href = await link.getAttribute("href");
    expect(href).toMatch(new RegExp(`/hearings/${hearing.id}\\.ics$`));
    // The link leads to this app's calendar file of that hearing.
    const file = await fetch(href ?? "");
    expect(file.headers.get("content-type")).toMatch(/^text\/calendar/);
    expect(await file.text()).toContain(`UID:hearing-${hearing.id}@`);

    // The reminder, started by the scheduler at its moment.
    const reminder = t("hearings.notice.reminder", { when: offsetLabel(OFFSET_MIN, "ky") });
    await waitForBot(page, reminder, REMINDER_IN_MS + 30_000);
    const reminded = page.locator("li.msg.bot", { hasText: reminder }).last();
    expect(await reminded.locator(".text").textContent()).toContain(title);
    expect(await reminded.getByRole("button", { name: ky.hearings.notice.btn_going }).count()).toBe(
      1,
    );
    // Exactly once.
    expect(await page.locator("li.msg.bot", { hasText: reminder }).count()).toBe(1);
    await page.screenshot({ path: "/tmp/webchat-hearing.png" });

    // The same person made staff: the card's export cannot upload a file to the web chat, so
    // it names the command that makes one.
    await db.insert(roleGrants).values({ userId, role: "staff", municipalityId: municipalityId! });
    await type(page, "/hearings");
    await waitForBot(page, visible(ky.hearings.staff.list_header));
    await page
      .getByRole("button", { name: new RegExp(`^№${hearing.id} · `) })
      .last()
      .click();
    await press(page, ky.hearings.staff.btn_export);
    await waitForBot(page, visible(ky.hearings.staff.export_webchat));
    expect((await bubbles(page).allTextContents()).at(-1)).toContain(
      `npm run cli -- hearings export ${hearing.id} --out hearing-${hearing.id}.csv`,
    );
  }, 120_000);
});
