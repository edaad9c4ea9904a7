import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase, rowsOf } from "../../src/db/client";
import { outgoingMessages } from "../../src/db/schema";
import { visibleText } from "../../src/delivery";
import { formatMoment } from "../../src/features/hearings/time";
import { BallotSecretMismatch, ballotKeysFrom } from "../../src/features/polls/keys";
import { pollBallots, polls, pollVoters } from "../../src/features/polls/schema";
import { openingKey, PollsService, resultKey } from "../../src/features/polls/service";
import {
  CLI_ACTOR,
  type PollActor,
  PollError,
  type PollErrorCode,
  type PollInput,
  type Voter,
} from "../../src/features/polls/types";
import { useTestDatabase } from "../helpers/db";
import { grantRole, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = new Date("2030-05-01T06:00:00Z");
const keys = ballotKeysFrom("polls-service-test-secret-0123456789abcdef");

const handle = useTestDatabase();
let clock = T0;
let service: PollsService;
let muniA: number;
let muniB: number;
let staffA: PollActor;
let staffB: PollActor;
let residents: number[];
let otherResident: number;

function settings() {
  return { timezone: "Asia/Bishkek", keys };
}

function voter(userId: number, overrides: Partial<Voter> = {}): Voter {
  return {
    userId,
    municipalityId: muniA,
    channel: "telegram",
    verifiedPhone: null,
    createdAt: new Date(T0.getTime() - 30 * DAY),
    ...overrides,
  };
}

function input(overrides: Partial<PollInput> = {}): PollInput {
  return {
    municipalityId: muniA,
    question: { ky: "Кайсы көчөнү биринчи оңдойлу?", ru: "Какую улицу ремонтировать первой?" },
    options: [
      { ky: "Ленин көчөсү", ru: "Улица Ленина" },
      { ky: "Токтогул көчөсү", ru: "Улица Токтогула" },
      { ky: "Мектепке жол" },
    ],
    audience: "subscribers",
    closesAt: new Date(T0.getTime() + 3 * DAY),
    ...overrides,
  };
}

async function refused(p: Promise<unknown>, code: PollErrorCode): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected PollError(${code})`).toBeInstanceOf(PollError);
  expect((error as PollError).code).toBe(code);
}

async function count(table: string, where = sql`true`): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await handle.db.execute(sql`select count(*)::int as n from ${sql.raw(table)} where ${where}`),
  );
  return Number(rows[0]?.n ?? 0);
}

beforeAll(async () => {
  const db = handle.db;
  [muniA, muniB] = (await seedMunicipalities(db, 2)) as [number, number];
  const ids = await seedUsers(db, [
    { chatId: 501, municipalityId: muniA },
    { chatId: 502, municipalityId: muniB },
    ...Array.from({ length: 6 }, (_, i) => ({ chatId: 600 + i, municipalityId: muniA })),
    { chatId: 700, municipalityId: muniB },
  ]);
  const [a, b] = ids as [number, number];
  await grantRole(db, a, "staff", muniA);
  await grantRole(db, b, "staff", muniB);
  staffA = { userId: a, roles: [{ role: "staff", municipalityId: muniA }] };
  staffB = { userId: b, roles: [{ role: "staff", municipalityId: muniB }] };
  residents = ids.slice(2, 8);
  otherResident = ids[8] as number;
  service = new PollsService(db, settings(), () => clock);
});

describe("creating a poll", () => {
  it("opens now: the poll is open and its opening message is sending to subscribers", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    expect(poll.status).toBe("open");
    expect(poll.options[2]).toEqual({ ky: "Мектепке жол", ru: "Мектепке жол" });
    const [m] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, openingKey(poll.id)));
    expect(m?.status).toBe("sending");
    expect(m?.kind).toBe("poll_opened");
    // What a WhatsApp template is filled with outside the 24-hour window: plain text.
    expect(m?.content.templateParams).toEqual({
      question: {
        ky: "Кайсы көчөнү биринчи оңдойлу?",
        ru: "Какую улицу ремонтировать первой?",
        en: "Кайсы көчөнү биринчи оңдойлу?",
      },
      closes: {
        ky: formatMoment(poll.closesAt, "ky", "Asia/Bishkek"),
        ru: formatMoment(poll.closesAt, "ru", "Asia/Bishkek"),
        en: formatMoment(poll.closesAt, "en", "Asia/Bishkek"),
      },
      municipality: {
        ky: "Айыл 0 айыл өкмөтү",
        ru: "Айыл окмоту Село 0",
        en: "Село 0 Aiyl Okmotu",
      },
    });
    expect(m?.content.text.ru).toContain(formatMoment(poll.closesAt, "ru", "Asia/Bishkek"));
    // Subscribers of A (staff A and the six residents), never B's.
    expect(await count("deliveries", sql`message_id = ${m?.id}`)).toBe(7);
  });

  it("opens later: scheduled, and its message waits for the opening time", async () => {
    const opensAt = new Date(T0.getTime() + DAY);
    const poll = await service.create(staffA, input({ opensAt, maxChoices: 2 }));
    expect(poll.status).toBe("scheduled");
    const [m] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, openingKey(poll.id)));
    expect(m?.status).toBe("scheduled");
    expect(m?.scheduledAt?.getTime()).toBe(opensAt.getTime());
    await refused(service.vote(voter(residents[0] as number), poll.id, [0]), "not_open_yet");
  });

  it("refuses bad input and writes nothing", async () => {
    const before = await count("polls");
    const opt = (ky: string) => ({ ky });
    const cases: [Partial<PollInput>, PollErrorCode][] = [
      [{ options: [opt("Бир")] }, "too_few_options"],
      [{ options: Array.from({ length: 11 }, (_, i) => opt(`Вариант ${i}`)) }, "too_many_options"],
      [{ options: [opt("Бир"), opt("  ")] }, "option_empty"],
      [{ options: [opt("Бир"), opt("бир")] }, "option_duplicate"],
      [{ options: [opt("Бир"), opt("x".repeat(41))] }, "option_too_long"],
      [{ question: { ky: " " } }, "question_empty"],
      [{ maxChoices: 4 }, "max_choices_bad"],
      [{ maxChoices: 0 }, "max_choices_bad"],
      [{ closesAt: new Date(T0.getTime() - HOUR) }, "closes_past"],
      [
        { opensAt: new Date(T0.getTime() + 2 * DAY), closesAt: new Date(T0.getTime() + DAY) },
        "closes_before_opens",
      ],
      [{ closesAt: new Date(T0.getTime() + 91 * DAY) }, "too_long_open"],
    ];
    for (const [overrides, code] of cases)
      await refused(service.create(staffA, input(overrides)), code);
    await refused(service.create(staffB, input()), "not_allowed");
    expect(await count("polls")).toBe(before);
  });
});

describe("voting", () => {
  it("counts one vote per person, lets them change it, and ignores the same vote again", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    const [r1, r2] = residents as [number, number];
    expect((await service.vote(voter(r1), poll.id, [0])).outcome).toBe("new");
    expect((await service.vote(voter(r2), poll.id, [1])).outcome).toBe("new");
    expect((await service.vote(voter(r1), poll.id, [2])).outcome).toBe("changed");
    expect((await service.vote(voter(r1), poll.id, [2])).outcome).toBe("same");
    expect(await service.tally(poll)).toEqual({ counts: [0, 1, 1], voters: 2 });
    const mine = await service.pollFor(voter(r1), poll.id);
    expect(mine.myChoices).toEqual([2]);
  });

  it("refuses forged and out-of-place votes, changing nothing", async () => {
    const poll = await service.create(staffA, input({ maxChoices: 2 }));
    const r = residents[2] as number;
    await refused(service.vote(voter(r), poll.id, [3]), "choice_bad");
    await refused(service.vote(voter(r), poll.id, [-1]), "choice_bad");
    await refused(service.vote(voter(r), poll.id, [0, 1, 2]), "too_many_choices");
    await refused(service.vote(voter(r), poll.id, []), "no_choice");
    await refused(
      service.vote(voter(otherResident, { municipalityId: muniB }), poll.id, [0]),
      "other_municipality",
    );
    await refused(service.vote(voter(r), 987654, [0]), "not_found");
    expect(await service.tally(poll)).toEqual({ counts: [0, 0, 0], voters: 0 });
    expect((await service.vote(voter(r), poll.id, [2, 0])).choices).toEqual([0, 2]);
  });

  it("gives one ballot when the same person votes at once through two instances", async () => {
    const poll = await service.create(staffA, input());
    const other = process.env.DATABASE_URL ? await secondConnection() : undefined;
    const second = other ? new PollsService(other.db, settings(), () => clock) : service;
    const r = residents[3] as number;
    const results = await Promise.all([
      service.vote(voter(r), poll.id, [0]),
      second.vote(voter(r), poll.id, [1]),
      service.vote(voter(r), poll.id, [0]),
      second.vote(voter(r), poll.id, [1]),
    ]);
    await other?.close();
    expect(results.filter((x) => x.outcome === "new")).toHaveLength(1);
    expect(await count("poll_voters", sql`poll_id = ${poll.id}`)).toBe(1);
    expect(await count("poll_ballots", sql`poll_id = ${poll.id}`)).toBe(1);
    expect((await service.tally(poll)).voters).toBe(1);
  });
});

describe("verified-residents polls", () => {
  const phone = "+996555123456";

  it("asks to verify, then needs the number on the resident list", async () => {
    const poll = await service.create(staffA, input({ audience: "verified" }));
    const r = residents[4] as number;
    await refused(service.vote(voter(r), poll.id, [0]), "verify_needed");
    await refused(
      service.vote(voter(r, { verifiedPhone: phone }), poll.id, [0]),
      "no_resident_list",
    );
    await service.importResidents(staffA, muniA, ["+996700000001"]);
    await refused(service.vote(voter(r, { verifiedPhone: phone }), poll.id, [0]), "not_resident");
    await refused(service.importResidents(staffB, muniA, [phone]), "not_allowed");
  });

  it("gives one vote per phone number across channels, and stores no number", async () => {
    await service.importResidents(CLI_ACTOR, muniA, [phone, "+996700000002"]);
    const stored = rowsOf<{ phone_hash: string }>(
      await handle.db.execute(sql`select phone_hash from poll_residents`),
    );
    expect(stored).toHaveLength(2);
    expect(stored.some((r) => r.phone_hash.includes("555123456"))).toBe(false);

    const poll = await service.create(staffA, input({ audience: "verified" }));
    const [tg, wa] = [residents[4], residents[5]] as [number, number];
    const onTelegram = voter(tg, { verifiedPhone: phone });
    const onWhatsapp = voter(wa, { verifiedPhone: phone, channel: "whatsapp" });
    expect((await service.vote(onTelegram, poll.id, [0])).outcome).toBe("new");
    expect((await service.vote(onWhatsapp, poll.id, [1])).outcome).toBe("changed");
    expect(await service.tally(poll)).toEqual({ counts: [0, 1, 0], voters: 1 });
    expect((await service.pollFor(onTelegram, poll.id)).myChoices).toEqual([1]);
  });
});

describe("closing", () => {
  it("closes once on time, announces the result with a chart, and takes no vote after", async () => {
    clock = T0;
    const poll = await service.create(staffA, input({ closesAt: new Date(T0.getTime() + HOUR) }));
    await service.vote(voter(residents[0] as number), poll.id, [1]);
    clock = new Date(T0.getTime() + HOUR + 1000);
    await refused(service.vote(voter(residents[1] as number), poll.id, [0]), "closed");
    const first = await Promise.all([service.tick(), service.tick()]);
    expect(first.reduce((n, r) => n + r.closed, 0)).toBeGreaterThanOrEqual(1);
    expect((await service.tick()).closed).toBe(0);
    const [row] = await handle.db.select().from(polls).where(eq(polls.id, poll.id));
    expect(row?.status).toBe("closed");
    const results = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, resultKey(poll.id)));
    expect(results).toHaveLength(1);
    const content = results[0]?.content;
    expect(content?.photo).toEqual({
      ky: `/polls/${poll.id}/chart/ky.png`,
      ru: `/polls/${poll.id}/chart/ru.png`,
      en: `/polls/${poll.id}/chart/en.png`,
    });
    expect(content?.text.ru).toContain("Улица Токтогула");
    expect(content?.templateParams?.question?.ru).toBe("Какую улицу ремонтировать первой?");
    expect(content?.templateParams?.results?.ru).toBe(
      "Улица Ленина: 0 · 0% · Улица Токтогула: 1 · 100% · Мектепке жол: 0 · 0%",
    );
    // Staff of A get the result too (they are in the audience).
    expect(
      await count("deliveries", sql`message_id = ${results[0]?.id} and user_id = ${staffA.userId}`),
    ).toBe(1);
    await refused(service.close(staffA, poll.id), "already_closed");
  });

  it("counts exactly the votes it accepted while votes race the close on another instance", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    const other = await secondConnection();
    const second = other ? new PollsService(other.db, settings(), () => clock) : service;
    const racers = await seedUsers(
      handle.db,
      Array.from({ length: 40 }, (_, i) => ({ chatId: 7000 + i, municipalityId: muniA })),
    );
    const votes = racers.map((id, i) =>
      (i % 2 ? second : service).vote(voter(id), poll.id, [i % 3]).then(
        () => "counted",
        (e: unknown) => (e instanceof PollError ? e.code : "error"),
      ),
    );
    const closes = [service, second].map((s) =>
      s.close(staffA, poll.id).then(
        () => "closed",
        (e: unknown) => (e instanceof PollError ? e.code : "error"),
      ),
    );
    const outcomes = await Promise.all(votes);
    const closings = await Promise.all(closes);
    await other?.close();
    expect(closings.sort()).toEqual(["already_closed", "closed"]);
    expect(outcomes.every((o) => o === "counted" || o === "closed")).toBe(true);
    const counted = outcomes.filter((o) => o === "counted").length;
    const [result] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, resultKey(poll.id)));
    const announced = /<b>(\d+)<\/b>/.exec(
      (result?.content.text.en ?? "").split("\n").at(-1) ?? "",
    )?.[1];
    expect(Number(announced)).toBe(counted);
    expect(await count("poll_ballots", sql`poll_id = ${poll.id}`)).toBe(counted);
  });

  it("keeps a deleted person's ballot and the counts", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    const [leaving] = await seedUsers(handle.db, [{ chatId: 7900, municipalityId: muniA }]);
    await service.vote(voter(leaving as number), poll.id, [1]);
    await handle.db.execute(sql`delete from users where id = ${leaving}`);
    expect(await service.tally(poll)).toEqual({ counts: [0, 1, 0], voters: 1 });
  });

  it("keeps the chart and a caption within Telegram's limit for the longest poll", async () => {
    clock = T0;
    const long = (n: number) => `${n} ${"ө".repeat(36)}`.slice(0, 40);
    const poll = await service.create(
      staffA,
      input({
        question: { ky: "Ө".repeat(300), ru: "Ж".repeat(300) },
        options: Array.from({ length: 10 }, (_, i) => ({ ky: long(i), ru: long(i + 10) })),
      }),
    );
    await service.close(staffA, poll.id);
    const [result] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, resultKey(poll.id)));
    expect(result?.content.photo).toMatchObject({ ky: `/polls/${poll.id}/chart/ky.png` });
    for (const text of Object.values(result?.content.text ?? {})) {
      expect(visibleText(text).length).toBeLessThanOrEqual(1024);
    }
  });

  it("closes early by staff, cancels a scheduled opening", async () => {
    clock = T0;
    const poll = await service.create(
      staffA,
      input({ opensAt: new Date(T0.getTime() + DAY), closesAt: new Date(T0.getTime() + 2 * DAY) }),
    );
    await refused(service.close(staffB, poll.id), "not_allowed");
    const { poll: closed } = await service.close(staffA, poll.id);
    expect(closed.status).toBe("closed");
    const [opening] = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.dedupeKey, openingKey(poll.id)));
    expect(opening?.status).toBe("cancelled");
  });

  it("cancels without a result", async () => {
    const poll = await service.create(staffA, input());
    await service.cancel(staffA, poll.id);
    await refused(service.vote(voter(residents[0] as number), poll.id, [0]), "cancelled");
    await refused(service.cancel(staffA, poll.id), "already_cancelled");
    expect(await count("outgoing_messages", sql`dedupe_key = ${resultKey(poll.id)}`)).toBe(0);
  });
});

describe("secrecy", () => {
  it("refuses to work with another ballot secret than the database's polls were made with", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    await service.vote(voter(residents[0] as number), poll.id, [0]);
    const other = new PollsService(
      handle.db,
      { timezone: "Asia/Bishkek", keys: ballotKeysFrom("a-different-secret-0123456789abcdef0123") },
      () => clock,
    );
    await expect(other.vote(voter(residents[0] as number), poll.id, [1])).rejects.toBeInstanceOf(
      BallotSecretMismatch,
    );
    expect(await service.tally(poll)).toEqual({ counts: [1, 0, 0], voters: 1 });
  });

  it("keeps voters and ballots apart: no user id, no shared time, CSV with counts only", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    const r = residents[0] as number;
    await service.vote(voter(r), poll.id, [0]);
    const columns = rowsOf<{ table_name: string; column_name: string }>(
      await handle.db.execute(sql`select table_name, column_name from information_schema.columns
        where table_name in ('poll_voters', 'poll_ballots') order by 1, 2`),
    );
    expect(
      columns.filter((c) => c.table_name === "poll_ballots").map((c) => c.column_name),
    ).toEqual(["choices", "poll_id", "token"]);
    const voterRows = await handle.db
      .select()
      .from(pollVoters)
      .where(eq(pollVoters.pollId, poll.id));
    expect(JSON.stringify(voterRows)).not.toContain(`"${r}"`);
    expect(voterRows[0]?.voterKey).not.toBe(String(r));
    const ballots = await handle.db
      .select()
      .from(pollBallots)
      .where(eq(pollBallots.pollId, poll.id));
    expect(ballots[0]?.token).not.toBe(voterRows[0]?.voterKey);
    const csv = await service.exportCsv(staffA, poll.id, "ru");
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv).toContain("1,Ленин көчөсү,Улица Ленина,1,100.0");
    expect(csv).not.toContain(voterRows[0]?.voterKey ?? "-");
    // Counts only: the header and one row per option, turnout, question, status, time.
    expect(csv.trim().split("\n")).toHaveLength(1 + 3 + 4);
  });

  it("warns staff once about a burst of votes from new accounts", async () => {
    clock = T0;
    const poll = await service.create(staffA, input());
    const fresh = await seedUsers(
      handle.db,
      Array.from({ length: 21 }, (_, i) => ({ chatId: 9000 + i, municipalityId: muniA })),
    );
    const warned: number[] = [];
    service.onBurst = (p) => warned.push(p.id);
    for (const id of fresh) {
      await service.vote(
        voter(id, { createdAt: new Date(T0.getTime() - 5 * 60_000) }),
        poll.id,
        [0],
      );
    }
    service.onBurst = undefined;
    expect(warned).toEqual([poll.id]);
    expect(
      await count(
        "outgoing_messages",
        sql`kind = 'system' and content->'text'->>'en' like ${`%${"Unusual voting"}%`}`,
      ),
    ).toBe(1);
  });
});

async function secondConnection() {
  const url = process.env.DATABASE_URL;
  if (!url) return undefined;
  const name = rowsOf<{ db: string }>(
    await handle.db.execute(sql`select current_database() as db`),
  )[0]?.db;
  const u = new URL(url);
  u.pathname = `/${name}`;
  return openDatabase({ url: u.toString(), maxConnections: 3 });
}
