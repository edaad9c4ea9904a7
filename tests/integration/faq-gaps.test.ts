/**
 * From "I don't know" to a new FAQ entry, through the real bot on a real database: every
 * question the search abstained on is kept (text, language, municipality; not the person), /gaps
 * shows lawyers and admins the groups and nobody else, a lawyer drafts an entry from a group in
 * a conversation (the draft is stored, the group's questions leave the list), the command line
 * lists the groups and publishes the reviewed draft, and the retention job deletes old questions.
 */
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/command";
import { parseConfig } from "../../src/config";
import { createSyntheticUser } from "../../src/core/people";
import type { Database, DatabaseHandle } from "../../src/db/client";
import { auditLog, municipalities, roleGrants, users } from "../../src/db/schema";
import { faqEntries, faqUnanswered } from "../../src/db/schema/faq";
import { faqCommand } from "../../src/features/faq/cli";
import {
  draftFromGap,
  draftIdPrefix,
  forgetUnanswered,
  recordUnanswered,
} from "../../src/features/faq/gaps";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { formatDate, translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { runRetention } from "../../src/scheduler/retention";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase, useTestDatabase } from "../helpers/db";

const ru = translator("ru");
const TZ = "Asia/Bishkek";
const WEATHER_1 = "Какая погода завтра в Бишкеке?";
const WEATHER_2 = "Какая погода будет в Бишкеке в субботу?";
const FOOTBALL = "Где купить билеты на футбол?";
const ANSWERABLE = "на каком языке можно подать обращение";
const DAY = 86_400_000;

let handle: DatabaseHandle;
let m1: number;
let m2: number;
let nextChat = 9_100;

beforeAll(async () => {
  handle = await createTestDatabase();
  await seedDemoDirectoryIfEmpty(handle.db);
  await seedFaqIfEmpty(handle.db);
  const ms = await handle.db.select().from(municipalities).orderBy(municipalities.id).limit(2);
  m1 = ms[0]!.id;
  m2 = ms[1]!.id;
});

afterAll(() => handle.close());

/** A person who talked to the bot once, in Russian, with a role (deputies in m1). */
async function withRole(role: "deputy" | "lawyer" | "admin" | null, municipalityId?: number) {
  const p = person(nextChat++, "ru");
  await createTestBot(handle.db).send(textUpdate(p, "/help"));
  const [row] = await handle.db.select().from(users).where(eq(users.chatId, p.id));
  const userId = row!.id;
  const place = role === "deputy" ? m1 : (municipalityId ?? null);
  await handle.db
    .update(users)
    .set({ locale: "ru", municipalityId: place })
    .where(eq(users.id, userId));
  if (role) {
    await handle.db
      .insert(roleGrants)
      .values({ userId, role, municipalityId: role === "deputy" ? m1 : null });
  }
  return { ...p, userId };
}

const unanswered = () => handle.db.select().from(faqUnanswered).orderBy(faqUnanswered.id);
const gapButtons = (t: ReturnType<typeof createTestBot>) =>
  t.lastButtons().filter((b) => /^faq:gap:\d+:\d+$/.test(b.data));

describe("questions the FAQ could not answer are kept without the person", () => {
  it("stores a citizen's and a deputy's, with language and municipality only", async () => {
    const citizen = await withRole(null, m2);
    const deputy = await withRole("deputy");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(citizen, WEATHER_1));
    expect(t.texts().at(-1)).toContain(ru("faq.no_answer"));
    await t.send(textUpdate(deputy, WEATHER_2));
    expect(t.texts().at(-1)).toContain(ru("faq.no_answer"));
    await t.send(textUpdate(deputy, `  ${FOOTBALL}  `));
    // Neither an answered question nor a bare greeting is a gap.
    await t.send(textUpdate(citizen, ANSWERABLE));
    expect(t.texts().at(-1)).not.toContain(ru("faq.no_answer"));
    await t.send(textUpdate(citizen, "Салам"));

    const rows = await unanswered();
    expect(rows.map((r) => [r.text, r.lang, r.municipalityId, r.draftEntryId])).toEqual([
      [WEATHER_1, "ru", m2, null],
      [WEATHER_2, "ru", m1, null],
      [FOOTBALL, "ru", m1, null],
    ]);
    // Nothing else: no column for the person, and no value that leads to them.
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(
        ["createdAt", "draftEntryId", "id", "lang", "municipalityId", "text"].sort(),
      );
      const values = JSON.stringify(row);
      for (const p of [citizen, deputy]) {
        expect(values).not.toContain(String(p.id));
        expect(values).not.toContain(p.first_name);
      }
    }
  });
});

describe("/gaps", () => {
  it("is refused to citizens and deputies, and so are its buttons", async () => {
    const [row] = await unanswered();
    const t = createTestBot(handle.db);
    for (const who of [await withRole(null), await withRole("deputy")]) {
      await t.send(textUpdate(who, "/gaps"));
      expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
      await t.send(pressUpdate(who, `faq:gap:${row!.id}:30`));
      expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    }
    expect(
      t.texts().some((text) => text.startsWith(ru("faq.gaps_draft_question").slice(0, 10))),
    ).toBe(false);
  });

  it("shows a lawyer the groups, largest first, with a draft button each", async () => {
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(lawyer, "/gaps"));
    const text = t.texts().at(-1)!;
    expect(text).toContain(ru("faq.gaps_hint"));
    const weather = text.indexOf("погода");
    const football = text.indexOf("футбол");
    expect(weather).toBeGreaterThan(0);
    expect(football).toBeGreaterThan(weather);
    // The weather group: two questions, in Russian, from two municipalities.
    const line = ru("faq.gaps_group", { n: 1, size: 2, languages: "RU", places: 2, dates: "\0" });
    expect(text).toContain(line.split("\0")[0]);
    expect(gapButtons(t)).toHaveLength(2);
    expect(gapButtons(t)[0]!.text).toBe(ru("faq.gaps_draft_button", { n: 1 }));

    await t.send(textUpdate(lawyer, "/gaps soon"));
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_usage", { max: 365, days: 30 }));
  });

  it("drafts an entry from a group; its questions leave the list; the CLI publishes it", async () => {
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(lawyer, "/gaps"));
    const [weatherButton] = gapButtons(t);
    await t.send(pressUpdate(lawyer, weatherButton!.data));
    const prompt = t.texts().at(-1)!;
    expect(prompt).toContain(
      ru("faq.gaps_draft_question", { size: 2, suggestion: "\0" }).split("\0")[0],
    );
    const suggestion = [WEATHER_1, WEATHER_2].find((w) => prompt.includes(w));
    expect(suggestion).toBeDefined();
    await t.send(pressUpdate(lawyer, "faq:gap:s:keep"));
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_draft_answer"));
    const answer = "Прогноз погоды даёт Кыргызгидромет, а не айыл окмоту.";
    await t.send(textUpdate(lawyer, answer));
    expect(t.texts().at(-1)).toContain(answer);
    expect(t.lastButtons().map((b) => b.data)).toEqual(["faq:gap:s:save", "faq:gap:s:cancel"]);
    await t.send(pressUpdate(lawyer, "faq:gap:s:save"));
    const id = `${draftIdPrefix(new Date(), TZ)}1`;
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_saved", { id, size: 2 }));

    const [entry] = await handle.db.select().from(faqEntries).where(eq(faqEntries.id, id));
    expect(entry).toMatchObject({
      status: "draft",
      topic: "gaps",
      source: "",
      questionRu: suggestion,
      answerRu: answer,
      questionKy: null,
    });
    const rows = await unanswered();
    expect(
      rows
        .filter((r) => r.draftEntryId === id)
        .map((r) => r.text)
        .sort(),
    ).toEqual([WEATHER_1, WEATHER_2].sort());
    expect(rows.find((r) => r.text === FOOTBALL)?.draftEntryId).toBeNull();
    const audit = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "faq.gap.draft"));
    expect(audit).toMatchObject([
      { actorUserId: lawyer.userId, actorLabel: "lawyer", details: { entryId: id, questions: 2 } },
    ]);
    // A draft is not answered to anyone until it is published.
    const service = new FaqService(handle.db);
    expect(
      (await service.search(suggestion!, { lang: "ru", audience: "everyone" })).ranking,
    ).not.toContain(id);

    // The list no longer has them; the old button says so.
    await t.send(textUpdate(lawyer, "/gaps"));
    expect(t.texts().at(-1)).not.toContain("погода");
    expect(gapButtons(t)).toHaveLength(1);
    await t.send(pressUpdate(lawyer, weatherButton!.data));
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_gone"));

    // Published after review on the command line: the search finds it.
    const published = await cli(handle.db, "publish", id);
    expect(published).toMatchObject({ code: 0, err: [] });
    const [after] = await handle.db.select().from(faqEntries).where(eq(faqEntries.id, id));
    expect(after?.status).toBe("published");
    // (A fresh service: the first one would see the change within its 10-second check.)
    const fresh = new FaqService(handle.db);
    expect((await fresh.search(suggestion!, { lang: "ru", audience: "everyone" })).ranking[0]).toBe(
      id,
    );
    expect((await cli(handle.db, "publish", "no-such-entry")).code).toBe(1);
  });

  it("checks the role again when saving, numbers the day's drafts, and can be cancelled", async () => {
    const lawyer = await withRole("lawyer");
    const admin = await withRole("admin");
    const t = createTestBot(handle.db);
    const startDraft = async (who: typeof lawyer) => {
      await t.send(textUpdate(who, "/gaps"));
      const [button] = gapButtons(t);
      await t.send(pressUpdate(who, button!.data));
      await t.send(textUpdate(who, "Где купить билеты на матч?"));
      await t.send(textUpdate(who, "Билеты продают клубы и кассы стадионов."));
    };
    await startDraft(lawyer);
    await handle.db.delete(roleGrants).where(eq(roleGrants.userId, lawyer.userId));
    await t.send(pressUpdate(lawyer, "faq:gap:s:save"));
    expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
    expect(
      await handle.db
        .select()
        .from(faqUnanswered)
        .where(and(eq(faqUnanswered.text, FOOTBALL), isNull(faqUnanswered.draftEntryId))),
    ).toHaveLength(1);

    // An admin may do what a lawyer does. Cancelled first: nothing is stored.
    await startDraft(admin);
    await t.send(pressUpdate(admin, "faq:gap:s:cancel"));
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_cancelled"));
    const before = (await handle.db.select().from(faqEntries)).length;
    await startDraft(admin);
    await t.send(pressUpdate(admin, "faq:gap:s:save"));
    const id = `${draftIdPrefix(new Date(), TZ)}2`;
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_saved", { id, size: 1 }));
    expect((await handle.db.select().from(faqEntries)).length).toBe(before + 1);
    const [entry] = await handle.db.select().from(faqEntries).where(eq(faqEntries.id, id));
    expect(entry).toMatchObject({ status: "draft", questionRu: "Где купить билеты на матч?" });
    // Every question has its draft now.
    await t.send(textUpdate(admin, "/gaps"));
    const since = formatDate(new Date(Date.now() - 30 * DAY), "ru", TZ);
    expect(t.texts().at(-1)).toBe(ru("faq.gaps_none", { days: 30, date: since }));
  });
});

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function cli(db: Database, ...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    config: parseConfig({ LOG_LEVEL: "silent" }),
    logger: createLogger("silent"),
    database: async () => ({ db }) as DatabaseHandle,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  const code = await faqCommand.run(["faq", ...argv].slice(1), ctx);
  return { code, out, err };
}

describe("faq gaps on the command line, and retention", () => {
  const store = useTestDatabase(seedDemoDirectoryIfEmpty);

  it("prints the groups, largest first, as text or JSON", async () => {
    const db = store.db;
    const now = Date.now();
    const ask = (text: string, hoursAgo: number, lang: "ru" | "ky" = "ru") =>
      recordUnanswered(
        db,
        { text, lang, municipalityId: null },
        new Date(now - hoursAgo * 3_600_000),
      );
    await ask("Сколько получает глава айыл окмоту?", 3);
    await ask("Какая зарплата у главы айыл окмоту?", 2);
    await ask("Какая зарплата у главы айыл окмоту в месяц?", 1);
    await ask("Сколько дней отпуска у муниципального служащего?", 5);
    await ask("Сколько дней отпуска положено муниципальному служащему?", 4);
    await ask("Где купить билеты на футбол?", 24 * 40);

    const json = await cli(db, "gaps", "--json");
    expect(json).toMatchObject({ code: 0, err: [] });
    const groups = JSON.parse(json.out.at(-1)!) as { size: number; examples: string[] }[];
    expect(groups.map((g) => g.size)).toEqual([3, 2]);
    expect(groups[0]!.examples.join(" ")).toContain("глав");
    expect(groups[1]!.examples.join(" ")).toContain("отпуск");
    // Further back, the old question shows too.
    const all = JSON.parse((await cli(db, "gaps", "--days", "60", "--json")).out.at(-1)!);
    expect(all.map((g: { size: number }) => g.size)).toEqual([3, 2, 1]);

    const text = await cli(db, "gaps");
    expect(text.code).toBe(0);
    expect(text.out[0]).toBe("5 unanswered question(s) in the last 30 days, 2 group(s)");
    expect(text.out.some((l) => l.startsWith("1. 3 question(s) · ru"))).toBe(true);
    expect(text.out.some((l) => l.startsWith("2. 2 question(s) · ru"))).toBe(true);

    for (const bad of ["0", "366", "abc"]) {
      const refused = await cli(db, "gaps", "--days", bad);
      expect(refused.code).toBe(2);
      expect(refused.err).toHaveLength(1);
    }
  });

  it("of two lawyers drafting from one group at once, one wins", async () => {
    const db = store.db;
    const lawyers = await Promise.all(
      ["gaps-a", "gaps-b"].map(async (name) => {
        const u = await createSyntheticUser(db, "web", name, "ru");
        await db.insert(roleGrants).values({ userId: u.id, role: "lawyer", municipalityId: null });
        return u.id;
      }),
    );
    await recordUnanswered(db, {
      text: "Как оформить субсидию на уголь?",
      lang: "ru",
      municipalityId: null,
    });
    await recordUnanswered(db, {
      text: "Как получить субсидию на уголь зимой?",
      lang: "ru",
      municipalityId: null,
    });
    const [row] = await db
      .select()
      .from(faqUnanswered)
      .where(eq(faqUnanswered.text, "Как оформить субсидию на уголь?"));
    const draft = (lawyerUserId: number) =>
      draftFromGap(db, {
        questionId: row!.id,
        days: 30,
        lawyerUserId,
        lang: "ru",
        question: "Как получить субсидию на уголь?",
        answer: "Обратитесь в управление соцразвития района.",
        timezone: TZ,
      });
    const results = await Promise.all(lawyers.map(draft));
    expect(results.map((r) => r.kind).sort()).toEqual(["drafted", "gone"]);
    const drafted = results.find((r) => r.kind === "drafted") as { entryId: string };
    const marked = await db
      .select()
      .from(faqUnanswered)
      .where(eq(faqUnanswered.draftEntryId, drafted.entryId));
    expect(marked).toHaveLength(2);
    const gapDrafts = await db.select().from(faqEntries).where(eq(faqEntries.topic, "gaps"));
    expect(gapDrafts.map((e) => e.id)).toEqual([drafted.entryId]);
    // Without the role nothing is drafted.
    const citizen = await createSyntheticUser(db, "web", "gaps-c", "ru");
    expect(await draft(citizen.id)).toEqual({ kind: "not_allowed" });
  });

  it("keeps unanswered questions for a year", async () => {
    const db = store.db;
    const now = new Date();
    await recordUnanswered(
      db,
      { text: "Старый вопрос про налог на скот", lang: "ru", municipalityId: null },
      new Date(now.getTime() - 366 * DAY),
    );
    await recordUnanswered(
      db,
      { text: "Недавний вопрос про налог на скот", lang: "ru", municipalityId: null },
      new Date(now.getTime() - 364 * DAY),
    );
    const result = await runRetention(db, 180, now);
    expect(result.unansweredQuestions).toBe(1);
    const texts = (await db.select().from(faqUnanswered)).map((r) => r.text);
    expect(texts).toContain("Недавний вопрос про налог на скот");
    expect(texts).not.toContain("Старый вопрос про налог на скот");
  });

  it("/forgetme removes the ones still traceable to the person, and only those", async () => {
    const db = store.db;
    const mine = "Можно ли депутату совмещать мандат с работой в школе?";
    await recordUnanswered(db, { text: mine, lang: "ru", municipalityId: null });
    await recordUnanswered(db, { text: mine, lang: "ru", municipalityId: null });
    const before = (await db.select().from(faqUnanswered)).length;
    const gone = await forgetUnanswered(
      db,
      { id: -1, channel: "telegram", channelUserId: null, channelAltId: null },
      [mine, "Ещё какой-то вопрос"],
    );
    expect(gone).toBe(2);
    expect((await db.select().from(faqUnanswered)).length).toBe(before - 2);
  });
});
