import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { users } from "../../src/db/schema";
import { POLLS_TICK_JOB } from "../../src/features/polls/jobs";
import { polls } from "../../src/features/polls/schema";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { CLI_ACTOR } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import { TEST_BALLOT_SECRET } from "../helpers/bot";
import { canRunBrowser, PHONE, visible } from "../helpers/browser";
import { waitFor } from "../helpers/wait";
import {
  bubbles,
  finishOnboarding,
  onboardToTopics,
  openChat,
  type,
  useWebchatBrowser,
  waitForBot,
} from "../helpers/webchat-page";

/**
 * Polls in the web chat, in Chromium against the whole app in this process (HTTP, bot, delivery
 * engine and the scheduler's poll tick on a real clock): a newcomer onboards, receives a poll's
 * opening with its buttons, votes, changes the vote, finds both polls under /polls, is told
 * how to verify when they try a verified-residents poll (not possible in the web chat), and
 * sees the result with its chart when the scheduler closes the poll.
 */

const t = translator("ky");
/**
 * Once the person has voted, the subscribers' poll's closing time is moved this close (as if
 * it had been set so): the test never races a clock it set before the clicks, however slow.
 */
const CLOSES_IN_MS = 3_000;

describe.skipIf(!canRunBrowser)("polls in the web chat", () => {
  const chat = useWebchatBrowser({ jobSchedules: { [POLLS_TICK_JOB]: "*/2 * * * * *" } });

  it("votes, changes the vote, is told how to verify, and sees the result with its chart", async () => {
    const { app, base } = chat;
    const db = app.database.db;
    const page = await chat.newPage({ ...PHONE, locale: "ky-KG", timezoneId: "Asia/Bishkek" });
    const userId = await openChat(page, base);

    // Onboarding: Kyrgyz, a municipality, every topic, consent.
    await onboardToTopics(page);
    await finishOnboarding(page);
    const [me] = await db.select().from(users).where(eq(users.id, userId));
    const municipalityId = me?.municipalityId as number;

    // Staff (the command line's actor) open two polls: one for subscribers, one for verified
    // residents.
    const service = new PollsService(
      db,
      pollSettingsOf({ timezone: "Asia/Bishkek", ballotSecret: TEST_BALLOT_SECRET, dataDir: "" }),
    );
    const question = "Кайсы көчөнү биринчи оңдойлу?";
    const open = await service.create(CLI_ACTOR, {
      municipalityId,
      question: { ky: question, ru: "Какую улицу ремонтировать первой?" },
      options: [{ ky: "Ленин көчөсү" }, { ky: "Токтогул көчөсү" }, { ky: "Мектепке жол" }],
      audience: "subscribers",
      closesAt: new Date(Date.now() + 86_400_000),
    });
    const verifiedQuestion = "Жаңы парк кайда болсун?";
    await service.create(CLI_ACTOR, {
      municipalityId,
      question: { ky: verifiedQuestion },
      options: [{ ky: "Борбордо" }, { ky: "Дарыянын жээгинде" }],
      audience: "verified",
      closesAt: new Date(Date.now() + 86_400_000),
    });

    // The opening arrives with one button per option; a vote is confirmed, then changed.
    await waitForBot(page, question);
    const card = page.locator("li.msg.bot", { hasText: question }).first();
    await card.getByRole("button", { name: "Ленин көчөсү", exact: true }).click();
    await expect
      .poll(() => page.locator("#toast").textContent())
      .toBe(t("polls.resident.answered_new", { choices: "Ленин көчөсү" }));
    await waitForBot(page, visible(t("polls.resident.your_vote", { choices: "Ленин көчөсү" })));
    // The pressed message now marks the vote.
    await expect.poll(() => card.getByRole("button", { name: "✅ Ленин көчөсү" }).count()).toBe(1);
    await card.getByRole("button", { name: "Мектепке жол", exact: true }).click();
    await waitForBot(page, visible(t("polls.resident.your_vote", { choices: "Мектепке жол" })));
    // Changed in place: no message still shows the old vote.
    const old = visible(t("polls.resident.your_vote", { choices: "Ленин көчөсү" }));
    expect(await bubbles(page).filter({ hasText: old }).count()).toBe(0);
    expect(await service.tally(open)).toEqual({ counts: [0, 0, 1], voters: 1 });

    // /polls lists both open polls with how this person voted.
    await type(page, "/polls");
    await waitForBot(page, visible(t("polls.resident.your_vote", { choices: "Мектепке жол" })));
    await waitForBot(page, verifiedQuestion);

    // A verified-residents poll: no vote, and the way to verify (Telegram or WhatsApp).
    const verifiedCard = page.locator("li.msg.bot", { hasText: verifiedQuestion }).last();
    await verifiedCard.getByRole("button", { name: "Борбордо", exact: true }).click();
    await expect
      .poll(() => page.locator("#toast").textContent())
      .toBe(t("polls.errors.verify_needed"));
    await waitForBot(page, visible(ky.polls.verify.how_web));

    // The scheduler closes the poll on time: the result with the numbers and the chart.
    await db
      .update(polls)
      .set({ closesAt: new Date(Date.now() + CLOSES_IN_MS) })
      .where(eq(polls.id, open.id));
    await waitForBot(page, visible(ky.polls.notice.result_title), CLOSES_IN_MS + 30_000);
    const result = page.locator("li.msg.bot", { hasText: visible(ky.polls.notice.result_title) });
    expect(await result.count()).toBe(1);
    const img = result.locator("img");
    expect(await img.getAttribute("src")).toMatch(new RegExp(`/polls/${open.id}/chart/ky\\.png$`));
    // The page loads photos lazily: looked at (as a person scrolls to it), it loads.
    await img.scrollIntoViewIfNeeded();
    await expect
      // The first request renders the chart (about 0.1 s; far longer on a loaded machine).
      .poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), { timeout: 30_000 })
      .toBeGreaterThan(500);
    const closed = await waitFor(async () => (await service.closedResult(open.id)) ?? undefined);
    expect(closed.tally).toEqual({ counts: [0, 0, 1], voters: 1 });
    await page.screenshot({ path: "/tmp/webchat-poll.png", fullPage: false });
  });
});
