import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import ru from "../../locales/ru.json";
import type { MessageView } from "../../src/channels/webchat/hub";
import { parseConfig } from "../../src/config";
import { createInvite } from "../../src/core/invites";
import { rowsOf } from "../../src/db/client";
import { auditLog, municipalities, users } from "../../src/db/schema";
import { faqEscalations, faqFeedback, faqPendingQuestions } from "../../src/db/schema/faq";
import { HearingsService } from "../../src/features/hearings/service";
import { CLI_ACTOR, hearingSettingsOf } from "../../src/features/hearings/types";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { CLI_ACTOR as POLLS_CLI_ACTOR } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import { type RunningTestApp, startTestApp } from "../helpers/app";
import { TEST_BALLOT_SECRET } from "../helpers/bot";
import { canRunBrowser, DESKTOP, visible } from "../helpers/browser";
import { waitFor } from "../helpers/wait";
import { WebchatClient } from "../helpers/webchat";
import {
  finishOnboarding,
  onboardToTopics,
  openChat,
  press,
  type,
  useWebchatBrowser,
  waitForBot,
} from "../helpers/webchat-page";

/**
 * /mydata and /forgetme in the web chat, over real HTTP against the whole app in this process
 * (bot, conversations, delivery engine, scheduler): a deputy on the web chat onboards, asks the
 * FAQ, answers a hearing and asks it a question, votes; a neighbour does the same; the deputy
 * sees their own data and nobody else's, then deletes it. Afterwards the old cookie is a
 * stranger, the counts stand, and nothing of the person is left where the issue looks. Then the
 * page itself: after /forgetme the next message starts afresh, without an error.
 */

const tru = translator("ru");
/** A question the shipped FAQ answers (entry "appeal-language"). */
const ANSWERABLE = "на каком языке можно подать обращение";
/** Questions it cannot answer: the search abstains (a deputy may send them to the lawyers). */
const SENT_TO_LAWYERS = "Можно ли депутату совмещать мандат с работой в школе Сокулука?";
const LEFT_WAITING = "Можно ли айыл окмоту сдать в аренду пастбище иностранцу на сорок лет?";
const MY_HEARING_QUESTION = "Сколько денег заложено на ремонт водопровода на улице Мира?";
const NEIGHBOUR_HEARING_QUESTION = "Почему детский сад на Ленина до сих пор не отремонтирован?";
const MY_TEXTS = [SENT_TO_LAWYERS, LEFT_WAITING, MY_HEARING_QUESTION];

/** A server-sent event stream of a session, read over HTTP as the page's EventSource does. */
function listen(client: WebchatClient): { events: MessageView[]; close: () => void } {
  const events: MessageView[] = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${client.base}/chat/events`, {
      headers: { cookie: client.cookie },
      signal: abort.signal,
    });
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let end = buffered.indexOf("\n\n");
      while (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const type = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (type === "message" && data) events.push(JSON.parse(data) as MessageView);
        end = buffered.indexOf("\n\n");
      }
    }
  })().catch(() => {});
  return { events, close: () => abort.abort() };
}

/** A message's text as the page shows it (markup dropped). */
const plain = (m: MessageView) => m.text.replace(/<[^>]+>/g, "");
const buttonsOf = (m: MessageView) => (m.buttons ?? []).flat();
const dataOf = (m: MessageView, prefix: string) =>
  buttonsOf(m).find((b) => b.callbackData?.startsWith(prefix))?.callbackData;

describe("/mydata and /forgetme in the web chat over HTTP", () => {
  let running: RunningTestApp;

  beforeAll(async () => {
    running = await startTestApp();
  });
  afterAll(async () => {
    await running?.app.stop();
  });

  /** Sends a text as the page does and checks the server took it. */
  async function say(client: WebchatClient, text: string): Promise<void> {
    const res = await client.send(text);
    expect(res.status, `sending ${text}`).toBe(202);
  }

  /** Presses the button with this callback data (or prefix) on the newest message that has it. */
  async function tap(client: WebchatClient, prefix: string): Promise<void> {
    const message = await client.waitFor((m) => dataOf(m, prefix) !== undefined);
    const history = await client.history();
    const newest = history.filter((m) => dataOf(m, prefix) !== undefined).at(-1) ?? message;
    const res = await client.press(newest.id, dataOf(newest, prefix)!);
    expect(res.status, `pressing ${prefix}`).toBe(202);
  }

  /** Bot messages after the message with id `after` (the answers to what was just done). */
  const botAfter = async (client: WebchatClient, after: number) =>
    (await client.history()).filter((m) => m.fromBot && m.id > after);
  const lastId = async (client: WebchatClient) => (await client.history()).at(-1)?.id ?? 0;

  /** Onboarding in Russian through the buttons the history shows, into Sokuluk. */
  async function onboard(client: WebchatClient): Promise<void> {
    await client.session();
    await say(client, "/start");
    await client.waitFor((m) => plain(m).includes(visible(ru.onboarding.welcome)));
    await tap(client, "lang:ru");
    await client.waitFor((m) => m.text === tru("onboarding.municipality_ask"));
    await say(client, "сокулук");
    const found = await client.waitFor((m) => m.text.includes(ru.onboarding.municipality_found));
    const first = buttonsOf(found)[0];
    expect((await client.press(found.id, first!.callbackData!)).status).toBe(202);
    await client.waitFor((m) => m.text === tru("onboarding.topics_ask"));
    await tap(client, "topics:done");
    await client.waitFor((m) => plain(m).includes(visible(ru.onboarding.consent_text)));
    await tap(client, "consent:yes");
    await client.waitFor((m) => plain(m).includes(visible(ru.onboarding.finished)));
  }

  it("shows a person their own data, deletes it on confirmation, and keeps the counts", async () => {
    const { app, base } = running;
    const db = app.database.db;
    const me = new WebchatClient(base, "ru");
    const neighbour = new WebchatClient(base, "ru");
    await onboard(me);
    await onboard(neighbour);
    const [myRow] = await db.select().from(users).where(eq(users.id, me.userId));
    const municipalityId = myRow!.municipalityId!;
    expect((await db.select().from(users).where(eq(users.id, neighbour.userId)))[0]).toMatchObject({
      municipalityId,
    });
    const [place] = await db
      .select()
      .from(municipalities)
      .where(eq(municipalities.id, municipalityId));

    // A deputy (pasting an invite code, as the web chat has no deep links): their unanswered
    // questions can go to the lawyers, so one is sent and one is left waiting.
    const invite = await createInvite(db, { role: "deputy", municipalityId });
    await say(me, invite.code);
    await me.waitFor((m) => plain(m).includes(visible(ru.invite.redeemed)));
    let mark = await lastId(me);
    await say(me, SENT_TO_LAWYERS);
    await me.waitFor((m) => m.id > mark && dataOf(m, "faq:esc") !== undefined);
    await tap(me, "faq:esc");
    const escalated = await waitFor(
      async () =>
        (
          await db.select().from(faqEscalations).where(eq(faqEscalations.askerUserId, me.userId))
        ).at(0),
      undefined,
      "the question sent to the lawyers",
    );
    expect(escalated.text).toBe(SENT_TO_LAWYERS);
    await me.waitFor((m) => m.text === tru("faq.escalated", { id: escalated.id }));
    mark = await lastId(me);
    await say(me, LEFT_WAITING);
    await me.waitFor((m) => m.id > mark && dataOf(m, "faq:esc") !== undefined);
    // And one the FAQ answers, rated helpful.
    mark = await lastId(me);
    await say(me, ANSWERABLE);
    await me.waitFor((m) => m.id > mark && dataOf(m, "faq:fb:") !== undefined);
    await tap(me, "faq:fb:appeal-language:1");
    await waitFor(
      async () =>
        (await db.select().from(faqFeedback).where(eq(faqFeedback.userId, me.userId))).length > 0,
      undefined,
      "the rating stored",
    );
    const [pending] = await db
      .select()
      .from(faqPendingQuestions)
      .where(eq(faqPendingQuestions.userId, me.userId));
    expect(pending?.text).toBe(LEFT_WAITING);

    // Staff (the command line's actor) publish a hearing and open a subscribers' poll.
    const config = parseConfig({ LOG_LEVEL: "silent", PORT: "0" });
    const hearingsService = new HearingsService(db, hearingSettingsOf(config));
    const draft = await hearingsService.create(CLI_ACTOR, {
      municipalityId,
      kind: "draft_budget",
      title: { ky: "2027-жылдын бюджети", ru: "Бюджет на 2027 год" },
      startsAt: new Date(Date.now() + 7 * 86_400_000),
      durationMin: 60,
      place: { ru: "Зал айыл окмоту" },
    });
    const hearing = await hearingsService.publish(CLI_ACTOR, draft.id);
    const pollsService = new PollsService(
      db,
      pollSettingsOf({ timezone: "Asia/Bishkek", ballotSecret: TEST_BALLOT_SECRET, dataDir: "" }),
    );
    const poll = await pollsService.create(POLLS_CLI_ACTOR, {
      municipalityId,
      question: { ky: "Кайсы көчөнү оңдойлу?", ru: "Какую улицу ремонтировать первой?" },
      options: [
        { ky: "Ленин", ru: "Ленина" },
        { ky: "Токтогул", ru: "Токтогула" },
      ],
      audience: "subscribers",
      closesAt: new Date(Date.now() + 86_400_000),
    });

    // Both answer going from the notice, ask the hearing a question and vote from /polls.
    const going = `hr:go:${hearing.id}`;
    for (const [client, question, option] of [
      [me, MY_HEARING_QUESTION, 0],
      [neighbour, NEIGHBOUR_HEARING_QUESTION, 1],
    ] as const) {
      await tap(client, going);
      await tap(client, `hr:ask:${hearing.id}`);
      await client.waitFor((m) => plain(m).includes(visible(ru.hearings.resident.ask_prompt)));
      await say(client, question);
      await client.waitFor((m) => plain(m).includes(visible(ru.hearings.resident.asked)));
      await say(client, "/polls");
      await tap(client, `pv:${poll.id}:${option}`);
    }
    await waitFor(
      async () => (await hearingsService.counts([hearing.id])).get(hearing.id)?.going === 2,
      undefined,
      "both answers going",
    );
    const countsBefore = (await hearingsService.counts([hearing.id])).get(hearing.id);
    expect(countsBefore).toEqual({ going: 2, notGoing: 0, questions: 2 });
    await waitFor(
      async () => (await pollsService.tally(poll)).voters === 2,
      undefined,
      "both votes",
    );
    const tallyBefore = await pollsService.tally(poll);
    expect(tallyBefore).toEqual({ counts: [1, 1], voters: 2 });

    // /mydata: the summary in Russian, then the JSON as <pre> text (no files in the web chat).
    mark = await lastId(me);
    await say(me, "/mydata");
    // The document may come in several <pre> parts: complete once they read as one JSON.
    const { summary, json } = await waitFor(
      async () => {
        const mydata = await botAfter(me, mark);
        const json = mydata
          .filter((m) => m.text.startsWith("<pre>"))
          .map((m) => m.text.slice("<pre>".length, -"</pre>".length))
          .join("\n")
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&amp;/g, "&");
        JSON.parse(json);
        const summary = mydata.filter((m) => !m.text.startsWith("<pre>")).map((m) => m.text);
        return { summary, json };
      },
      undefined,
      "the /mydata document",
    );
    const all = summary.join("\n");
    expect(summary[0]).toContain(ru.privacy.mydata_title);
    expect(all).toContain(tru("privacy.profile.municipality", { municipality: place!.nameRu }));
    expect(all).toContain(SENT_TO_LAWYERS);
    expect(all).toContain(MY_HEARING_QUESTION);
    expect(all).toContain(tru("privacy.faq.waiting", { count: 1 }));
    const document = JSON.parse(json) as {
      faq: { questionWaitingToBeSent: { text: string }[]; ratingsOfAnswers: unknown[] };
      hearings: { answers: { hearing: number; answer: string }[]; questions: { text: string }[] };
      polls: { votedIn: { poll: number }[] };
    };
    expect(document.hearings.questions.map((q) => q.text)).toEqual([MY_HEARING_QUESTION]);
    expect(document.hearings.answers).toEqual([
      expect.objectContaining({ hearing: hearing.id, answer: "going" }),
    ]);
    expect(document.polls.votedIn.map((v) => v.poll)).toEqual([poll.id]);
    expect(document.faq.questionWaitingToBeSent.map((q) => q.text)).toEqual([LEFT_WAITING]);
    expect(document.faq.ratingsOfAnswers).toHaveLength(1);
    // Nobody else's: neither the neighbour's question nor their account.
    const [neighbourRow] = await db.select().from(users).where(eq(users.id, neighbour.userId));
    for (const text of [all, json]) {
      expect(text).not.toContain(NEIGHBOUR_HEARING_QUESTION);
      expect(text).not.toContain(neighbourRow!.channelUserId);
    }

    // /forgetme, confirmed; the person is told before their session goes (live, on the stream).
    const stream = listen(me);
    try {
      mark = await lastId(me);
      await say(me, "/forgetme");
      const ask = await me.waitFor((m) => m.id > mark && dataOf(m, "forget:yes:") !== undefined);
      expect(ask.text).toContain(visible(ru.privacy.forget_ask));
      expect(ask.text).toContain(tru("privacy.forget_roles", { roles: ru.roles.deputy }));
      expect(buttonsOf(ask).map((b) => b.text)).toEqual([
        ru.privacy.forget_yes,
        ru.privacy.forget_no,
      ]);
      await waitFor(() => app.webchat.hub.isConnected(me.userId), undefined, "the stream open");
      expect((await me.press(ask.id, dataOf(ask, "forget:yes:")!)).status).toBe(202);
      await waitFor(
        () => stream.events.some((m) => m.text === tru("privacy.forget_done")),
        undefined,
        "privacy.forget_done on the event stream",
      );
    } finally {
      stream.close();
    }
    await waitFor(
      async () => (await db.select().from(users).where(eq(users.id, me.userId))).length === 0,
      undefined,
      "the users row deleted",
    );

    // The old cookie is a stranger now.
    const oldUserId = me.userId;
    const oldChannelId = myRow!.channelUserId;
    const refused = await me.send("/help");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toBe(
      translator(config.defaultLocale)("errors.need_onboarding"),
    );
    const again = await me.session();
    expect(again.userId).not.toBe(oldUserId);
    await say(me, "/start");
    await me.waitFor((m) => plain(m).includes(visible(ru.onboarding.welcome)));

    // The counts stand.
    expect((await hearingsService.counts([hearing.id])).get(hearing.id)).toEqual(countsBefore);
    expect(await pollsService.tally(poll)).toEqual(tallyBefore);
    const [{ voters } = { voters: -1 }] = rowsOf<{ voters: number }>(
      await db.execute(
        sql`select count(*)::int as voters from poll_voters where poll_id = ${poll.id}`,
      ),
    );
    expect(Number(voters)).toBe(2);

    // The audit log records the deletion, not who.
    const forgets = await db.select().from(auditLog).where(eq(auditLog.action, "privacy.forget"));
    expect(forgets).toHaveLength(1);
    const entry = forgets[0]!;
    expect(entry.actorUserId).toBeNull();
    expect(entry.actorLabel).toBe("person");
    const details = JSON.stringify(entry.details);
    // Only what happened: the channel, how many roles, how many rows per table.
    const recorded = entry.details as { channel: string; roles: number; rows: object };
    expect(Object.keys(recorded).sort()).toEqual(["channel", "roles", "rows"]);
    expect(recorded).toMatchObject({ channel: "web", roles: 1 });
    expect(Object.values(recorded.rows).every((n) => typeof n === "number")).toBe(true);
    for (const secret of [
      oldChannelId,
      me.cookie.split("=")[1]!,
      ...MY_TEXTS,
      String(myRow!.chatId),
    ]) {
      expect(`${details} ${entry.actorLabel}`).not.toContain(secret);
    }

    // Nothing of the person where they wrote or were recorded.
    const byUser = async (table: string, column: string) =>
      Number(
        rowsOf<{ n: number }>(
          await db.execute(
            sql`select count(*)::int as n from ${sql.identifier(table)} where ${sql.identifier(column)} = ${oldUserId}`,
          ),
        )[0]?.n,
      );
    expect(await byUser("webchat_messages", "user_id")).toBe(0);
    expect(await byUser("hearing_questions", "user_id")).toBe(0);
    expect(await byUser("hearing_rsvps", "user_id")).toBe(0);
    expect(await byUser("faq_pending_questions", "user_id")).toBe(0);
    expect(await byUser("faq_feedback", "user_id")).toBe(0);
    expect(await byUser("users", "id")).toBe(0);
    expect(
      await db.select().from(faqEscalations).where(eq(faqEscalations.askerUserId, oldUserId)),
    ).toEqual([]);
    expect(await db.select().from(users).where(eq(users.channelUserId, oldChannelId))).toEqual([]);
    // The texts, in any column of these tables.
    for (const table of [
      "webchat_messages",
      "hearing_questions",
      "faq_pending_questions",
      "faq_escalations",
      "users",
      "audit_log",
    ]) {
      const rows = rowsOf<{ row: string }>(
        await db.execute(sql`select row_to_json(t)::text as row from ${sql.identifier(table)} t`),
      ).map((r) => String(r.row));
      for (const text of MY_TEXTS) {
        expect(
          rows.filter((r) => r.includes(text)),
          `${table} holds «${text}»`,
        ).toEqual([]);
      }
      expect(rows.filter((r) => r.includes(oldChannelId))).toEqual([]);
    }
    // The neighbour keeps theirs.
    const theirs = rowsOf<{ text: string }>(
      await db.execute(sql`select text from hearing_questions where user_id = ${neighbour.userId}`),
    );
    expect(theirs.map((r) => r.text)).toEqual([NEIGHBOUR_HEARING_QUESTION]);
  }, 120_000);
});

describe.skipIf(!canRunBrowser)("the web chat page after /forgetme", () => {
  const chat = useWebchatBrowser();

  it("starts afresh on the next message, keeping what was typed, without an error", async () => {
    const page = await chat.newPage({ ...DESKTOP, locale: "ky-KG", timezoneId: "Asia/Bishkek" });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    const oldUserId = await openChat(page, chat.base);
    await onboardToTopics(page);
    await finishOnboarding(page);

    await type(page, "/forgetme");
    await waitForBot(page, visible(ky.privacy.forget_ask));
    await press(page, ky.privacy.forget_yes);
    await waitForBot(page, visible(ky.privacy.forget_done));
    // "Done" is said just before the deletion: the person is gone a moment later.
    await waitFor(
      async () =>
        (await chat.app.database.db.select().from(users).where(eq(users.id, oldUserId))).length ===
        0,
      undefined,
      "the person's row to be deleted",
    );

    // Every error toast the page shows from now on.
    await page.evaluate(() => {
      const toast = document.getElementById("toast")!;
      const seen: string[] = [];
      (window as unknown as { toasts: string[] }).toasts = seen;
      new MutationObserver(() => {
        if (!toast.hidden && toast.classList.contains("error")) seen.push(toast.textContent ?? "");
      }).observe(toast, { attributes: true, childList: true, characterData: true });
    });

    // The next message finds the session gone: the page opens a new one and greets anew.
    const session = page.waitForResponse(
      (r) => r.url() === `${chat.base}/chat/session` && r.request().method() === "POST",
    );
    await type(page, "/help");
    const { userId } = (await (await session).json()) as { userId: number };
    expect(userId).not.toBe(oldUserId);
    await waitForBot(page, visible(ky.onboarding.welcome));
    const texts = await page.locator("li.msg .text").allTextContents();
    expect(texts.some((text) => text.includes(visible(ky.privacy.forget_done)))).toBe(false);
    expect(texts.some((text) => text.includes(visible(ky.onboarding.finished)))).toBe(false);
    // What was typed waits in the composer; no error was shown.
    expect(await page.locator("#input").inputValue()).toBe("/help");
    expect(await page.evaluate(() => (window as unknown as { toasts: string[] }).toasts)).toEqual(
      [],
    );
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
