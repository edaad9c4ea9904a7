import { sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/client";
import { POLL_CB } from "../../src/features/polls/callbacks";
import type { PollRow } from "../../src/features/polls/schema";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { CLI_ACTOR, type PollInput } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, TEST_BALLOT_SECRET, textUpdate } from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";
import { seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

/**
 * Residents vote through the real bot (grammY with every feature, the database, the service):
 * the buttons of a delivered poll, multiple choice toggles carried in the keyboard, changes,
 * redelivered updates, forged presses and verification, with Telegram faked at the HTTP client.
 */

const ru = translator("ru");
const handle = useTestDatabase();
let muniA: number;
let service: PollsService;
const asel = person(81_001, "ru");
const bakyt = person(81_002, "ru");
const stranger = person(81_003, "ru");

function input(overrides: Partial<PollInput> = {}): PollInput {
  return {
    municipalityId: muniA,
    question: { ru: "Какую улицу ремонтировать первой?" },
    options: [{ ru: "Ленина" }, { ru: "Токтогула" }, { ru: "Школьная" }],
    audience: "subscribers",
    closesAt: new Date(Date.now() + 86_400_000),
    ...overrides,
  };
}

async function ballots(pollId: number): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await handle.db.execute(
      sql`select count(*)::int as n from poll_ballots where poll_id = ${pollId}`,
    ),
  );
  return Number(row?.n);
}

beforeAll(async () => {
  const [a, b] = (await seedMunicipalities(handle.db, 2)) as [number, number];
  muniA = a;
  await seedUsers(handle.db, [
    { chatId: asel.id, municipalityId: a, locale: "ru" },
    { chatId: bakyt.id, municipalityId: a, locale: "ru" },
    { chatId: stranger.id, municipalityId: b, locale: "ru" },
  ]);
  service = new PollsService(
    handle.db,
    pollSettingsOf({ timezone: "Asia/Bishkek", ballotSecret: TEST_BALLOT_SECRET, dataDir: "" }),
  );
});

function alertOf(t: ReturnType<typeof createTestBot>) {
  const call = t.lastCall("answerCallbackQuery");
  return { text: call?.payload.text, alert: call?.payload.show_alert === true };
}

describe("single choice", () => {
  let poll: PollRow;
  beforeAll(async () => {
    poll = await service.create(CLI_ACTOR, input());
  });

  it("counts a press, marks it on the message, confirms it with what was chosen", async () => {
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(asel, POLL_CB.vote.pack({ pollId: poll.id, option: 1 })));
    expect(alertOf(t).text).toBe(ru("polls.resident.answered_new", { choices: "Токтогула" }));
    // The pressed message becomes the confirmation: the vote in its text, the option marked.
    const edit = t.lastCall("editMessageText");
    expect(edit?.payload.text).toContain(ru("polls.resident.your_vote", { choices: "Токтогула" }));
    expect(t.lastButtons().map((b) => b.text)).toEqual(["Ленина", "✅ Токтогула", "Школьная"]);
    expect(t.calls.filter((c) => c.method === "sendMessage")).toHaveLength(0);
    expect(await service.tally(poll)).toEqual({ counts: [0, 1, 0], voters: 1 });
  });

  it("changes the vote, and a redelivered update changes nothing", async () => {
    const t = createTestBot(handle.db);
    const change = pressUpdate(asel, POLL_CB.vote.pack({ pollId: poll.id, option: 2 }));
    await t.send(change);
    expect(alertOf(t).text).toBe(ru("polls.resident.answered_changed", { choices: "Школьная" }));
    expect(t.texts().at(-1)).toContain(ru("polls.resident.your_vote", { choices: "Школьная" }));
    const sent = t.texts().length;
    await t.send(change);
    expect(alertOf(t).text).toBe(ru("polls.resident.answered_same", { choices: "Школьная" }));
    expect(t.texts()).toHaveLength(sent);
    expect(await service.tally(poll)).toEqual({ counts: [0, 0, 1], voters: 1 });
  });

  it("refuses forged presses with an alert and changes nothing", async () => {
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(stranger, POLL_CB.vote.pack({ pollId: poll.id, option: 0 })));
    expect(alertOf(t)).toEqual({ text: ru("polls.errors.other_municipality"), alert: true });
    await t.send(pressUpdate(bakyt, POLL_CB.vote.pack({ pollId: poll.id, option: 7 })));
    expect(alertOf(t)).toEqual({ text: ru("polls.errors.choice_bad"), alert: true });
    await t.send(pressUpdate(bakyt, POLL_CB.vote.pack({ pollId: 9_999_999, option: 0 })));
    expect(alertOf(t)).toEqual({ text: ru("polls.errors.not_found"), alert: true });
    // Data that does not match any button's shape is not a vote at all.
    await t.send(pressUpdate(bakyt, `pv:${poll.id}:123`));
    expect(await service.tally(poll)).toEqual({ counts: [0, 0, 1], voters: 1 });
  });

  it("lists the open polls under /polls with the person's vote", async () => {
    const t = createTestBot(handle.db);
    await t.send(textUpdate(asel, "/polls"));
    const texts = t.texts();
    expect(texts.some((x) => x.includes("Какую улицу ремонтировать первой?"))).toBe(true);
    expect(
      texts.some((x) => x.includes(ru("polls.resident.your_vote", { choices: "Школьная" }))),
    ).toBe(true);
  });
});

describe("multiple choice", () => {
  it("toggles in the keyboard without writing, then counts the submitted selection", async () => {
    const poll = await service.create(CLI_ACTOR, input({ maxChoices: 2 }));
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(bakyt, POLL_CB.toggle.pack({ pollId: poll.id, mask: 0, option: 0 })));
    await t.send(pressUpdate(bakyt, POLL_CB.toggle.pack({ pollId: poll.id, mask: 1, option: 2 })));
    expect(await ballots(poll.id)).toBe(0);
    const buttons = t.lastButtons();
    expect(buttons.map((b) => b.text).slice(0, 3)).toEqual([
      "✅ Ленина",
      "Токтогула",
      "✅ Школьная",
    ]);
    expect(buttons.at(-1)?.data).toBe(POLL_CB.submit.pack({ pollId: poll.id, mask: 5 }));
    // A third option would exceed the maximum: refused, the keyboard stays.
    await t.send(pressUpdate(bakyt, POLL_CB.toggle.pack({ pollId: poll.id, mask: 5, option: 1 })));
    expect(alertOf(t)).toEqual({
      text: ru("polls.errors.too_many_choices", { max: 2 }),
      alert: true,
    });
    // A forged option number past the last one (35 would shift like 3) is refused.
    await t.send(pressUpdate(bakyt, POLL_CB.toggle.pack({ pollId: poll.id, mask: 5, option: 33 })));
    expect(alertOf(t)).toEqual({ text: ru("polls.errors.choice_bad"), alert: true });
    // Forged selections.
    await t.send(pressUpdate(bakyt, POLL_CB.submit.pack({ pollId: poll.id, mask: 7 })));
    expect(alertOf(t).text).toBe(ru("polls.errors.too_many_choices", { max: 2 }));
    await t.send(pressUpdate(bakyt, POLL_CB.submit.pack({ pollId: poll.id, mask: 1 << 6 })));
    expect(alertOf(t).text).toBe(ru("polls.errors.choice_bad"));
    await t.send(pressUpdate(bakyt, POLL_CB.submit.pack({ pollId: poll.id, mask: 0 })));
    expect(alertOf(t).text).toBe(ru("polls.errors.no_choice"));
    expect(await ballots(poll.id)).toBe(0);

    await t.send(pressUpdate(bakyt, POLL_CB.submit.pack({ pollId: poll.id, mask: 5 })));
    expect(t.texts().at(-1)).toContain(
      ru("polls.resident.your_vote", { choices: "Ленина, Школьная" }),
    );
    expect(await service.tally(poll)).toEqual({ counts: [1, 0, 1], voters: 1 });
  });
});

describe("closed, cancelled and verified polls", () => {
  it("answers a closed or cancelled poll's buttons with a notice and changes nothing", async () => {
    const closed = await service.create(CLI_ACTOR, input());
    await service.close(CLI_ACTOR, closed.id);
    const cancelled = await service.create(CLI_ACTOR, input());
    await service.cancel(CLI_ACTOR, cancelled.id);
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(asel, POLL_CB.vote.pack({ pollId: closed.id, option: 0 })));
    expect(alertOf(t).text).toBe(ru("polls.errors.closed"));
    await t.send(pressUpdate(asel, POLL_CB.vote.pack({ pollId: cancelled.id, option: 0 })));
    expect(alertOf(t).text).toBe(ru("polls.errors.cancelled"));
    expect(await ballots(closed.id)).toBe(0);
    expect(await ballots(cancelled.id)).toBe(0);
  });

  it("asks an unverified resident to share their number, then counts the vote of a listed one", async () => {
    const poll = await service.create(CLI_ACTOR, input({ audience: "verified" }));
    await service.importResidents(CLI_ACTOR, muniA, ["+996555000111"]);
    const t = createTestBot(handle.db);
    const press = pressUpdate(asel, POLL_CB.vote.pack({ pollId: poll.id, option: 0 }));
    await t.send(press);
    expect(alertOf(t).text).toBe(ru("polls.errors.verify_needed"));
    const ask = t.lastCall("sendMessage");
    const keyboard = (ask?.payload.reply_markup as { keyboard?: { request_contact?: boolean }[][] })
      ?.keyboard;
    expect(keyboard?.flat().some((b) => b.request_contact === true)).toBe(true);

    const contact: Update = {
      update_id: 900_001,
      message: {
        message_id: 77,
        date: Math.floor(Date.now() / 1000),
        chat: { id: asel.id, type: "private", first_name: asel.first_name },
        from: asel,
        contact: { phone_number: "996555000111", first_name: "Asel", user_id: asel.id },
      },
    };
    await t.send(contact);
    await t.send({ ...press, update_id: 900_002 });
    expect(alertOf(t).text).toBe(ru("polls.resident.answered_new", { choices: "Ленина" }));
    expect(await service.tally(poll)).toEqual({ counts: [1, 0, 0], voters: 1 });
  });

  it("slows down a person who presses too fast", async () => {
    const poll = await service.create(CLI_ACTOR, input());
    const t = createTestBot(handle.db);
    for (let i = 0; i < 21; i++) {
      await t.send(pressUpdate(stranger, POLL_CB.vote.pack({ pollId: poll.id, option: i % 3 })));
    }
    expect(alertOf(t).text).toBe(ru("polls.errors.slow_down"));
  });
});
