/**
 * /drafts through the real bot on a real database: lawyers and admins see the draft FAQ entries
 * (newest first, in their language or the draft's), publish one with a button (the search finds
 * it at once, the audit log has it) or discard one (deleted, its questions back in /gaps); a
 * second press on the same draft is stale; citizens and deputies are refused, presses included.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { auditLog, municipalities, roleGrants, users } from "../../src/db/schema";
import { faqEntries, faqUnanswered } from "../../src/db/schema/faq";
import { draftFromGap, listUnanswered, recordUnanswered } from "../../src/features/faq/gaps";
import { faqServiceOf, seedFaqIfEmpty } from "../../src/features/faq/service";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import type { Locale } from "../../src/locales";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";

const ru = translator("ru");
const ky = translator("ky");
const TZ = "Asia/Bishkek";
const COAL_Q = "Как получить субсидию на уголь для отопления дома?";
const COAL_A = "Субсидию на уголь оформляет районное управление социального развития по заявлению.";
const BEES_Q = "Нужно ли регистрировать пасеку в айыл окмоту?";
const BEES_A =
  "Пасеку регистрирует ветеринарная служба района, айыл окмоту ведёт только похозяйственный учёт.";

let handle: DatabaseHandle;
let m1: number;
let nextChat = 9_700;
let coalId: string;
let beesId: string;

async function withRole(role: "deputy" | "lawyer" | "admin" | null, locale: Locale = "ru") {
  const p = person(nextChat++, locale);
  await createTestBot(handle.db).send(textUpdate(p, "/help"));
  const [row] = await handle.db.select().from(users).where(eq(users.chatId, p.id));
  const userId = row!.id;
  await handle.db.update(users).set({ locale, municipalityId: m1 }).where(eq(users.id, userId));
  if (role) {
    await handle.db
      .insert(roleGrants)
      .values({ userId, role, municipalityId: role === "deputy" ? m1 : null });
  }
  return { ...p, userId };
}

/** A draft from an unanswered question, as a lawyer saves it from /gaps. */
async function draft(lawyerUserId: number, asked: string, question: string, answer: string) {
  await recordUnanswered(handle.db, { text: asked, lang: "ru", municipalityId: m1 });
  const [q] = (await listUnanswered(handle.db, { days: 30 })).filter((u) => u.text === asked);
  const result = await draftFromGap(handle.db, {
    questionId: q!.id,
    days: 30,
    lawyerUserId,
    lang: "ru",
    question,
    answer,
    timezone: TZ,
  });
  if (result.kind !== "drafted") throw new Error(`not drafted: ${result.kind}`);
  return result.entryId;
}

const statusOf = async (id: string) =>
  (await handle.db.select().from(faqEntries).where(eq(faqEntries.id, id)))[0]?.status;

const draftButtons = (t: ReturnType<typeof createTestBot>) =>
  t.lastButtons().filter((b) => b.data.startsWith("faq:dr:"));

beforeAll(async () => {
  handle = await createTestDatabase();
  await seedDemoDirectoryIfEmpty(handle.db);
  await seedFaqIfEmpty(handle.db);
  const [m] = await handle.db.select().from(municipalities).orderBy(municipalities.id).limit(1);
  m1 = m!.id;
  const author = await withRole("lawyer");
  coalId = await draft(author.userId, "где взять денег на уголь зимой", COAL_Q, COAL_A);
  beesId = await draft(author.userId, "пчёлы пасека регистрация ульев", BEES_Q, BEES_A);
});

afterAll(() => handle.close());

describe("/drafts", () => {
  it("is refused to citizens and deputies, and so are its buttons", async () => {
    const t = createTestBot(handle.db);
    for (const who of [await withRole(null), await withRole("deputy")]) {
      await t.send(textUpdate(who, "/drafts"));
      expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
      await t.send(pressUpdate(who, `faq:dr:p:${coalId}`));
      expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
      await t.send(pressUpdate(who, `faq:dr:d:${coalId}`));
      expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    }
    expect(await statusOf(coalId)).toBe("draft");
    expect(t.texts().some((x) => x.includes(COAL_Q))).toBe(false);
  });

  it("shows a lawyer each draft, newest first, with Publish and Discard", async () => {
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(lawyer, "/drafts"));
    const texts = t.texts();
    expect(texts.at(-3)).toBe(ru("faq.drafts_title", { total: 2, shown: 2 }));
    expect(texts.at(-2)).toContain(BEES_Q);
    expect(texts.at(-1)).toContain(COAL_Q);
    expect(texts.at(-1)).toContain(COAL_A);
    expect(draftButtons(t).map((b) => [b.text, b.data])).toEqual([
      [ru("faq.drafts_publish"), `faq:dr:p:${coalId}`],
      [ru("faq.drafts_discard"), `faq:dr:d:${coalId}`],
    ]);
  });

  it("shows a Kyrgyz-speaking admin the Russian draft, in Kyrgyz around it", async () => {
    const admin = await withRole("admin", "ky");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(admin, "/drafts"));
    expect(t.texts().at(-1)).toContain(COAL_Q);
    expect(t.texts().at(-1)).toContain(
      ky("faq.drafts_entry", { id: coalId, lang: "RU", question: "", answer: "" }).split("\n")[0]!,
    );
    expect(draftButtons(t).map((b) => b.text)).toEqual([
      ky("faq.drafts_publish"),
      ky("faq.drafts_discard"),
    ]);
  });

  it("publishes a draft: the search finds it at once, the audit log has it; again is stale", async () => {
    const service = faqServiceOf(handle.db);
    const before = await service.search(COAL_Q, { lang: "ru", audience: "everyone" });
    expect(before.ranking).not.toContain(coalId);

    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(lawyer, `faq:dr:p:${coalId}`));
    expect(await statusOf(coalId)).toBe("published");
    expect(t.lastCall("editMessageText")?.payload.text).toBe(
      ru("faq.drafts_published", { id: coalId, question: COAL_Q }),
    );
    const after = await service.search(COAL_Q, { lang: "ru", audience: "everyone" });
    expect(after.ranking[0]).toBe(coalId);
    const audit = await handle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "faq.publish"), eq(auditLog.actorUserId, lawyer.userId)));
    expect(audit.map((a) => [a.actorLabel, a.details])).toEqual([
      ["lawyer", { entryId: coalId, from: "draft" }],
    ]);

    // Someone else presses the same buttons later: nothing changes, they are told it is stale.
    const other = await withRole("admin");
    for (const data of [`faq:dr:p:${coalId}`, `faq:dr:d:${coalId}`]) {
      await t.send(pressUpdate(other, data));
      expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.drafts_stale"));
    }
    expect(await statusOf(coalId)).toBe("published");
    const logged = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.actorUserId, other.userId));
    expect(logged).toEqual([]);
  });

  it("discards a draft: deleted, its questions back in /gaps, audit-logged; again is stale", async () => {
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(lawyer, `faq:dr:d:${beesId}`));
    expect(await statusOf(beesId)).toBeUndefined();
    expect(t.lastCall("editMessageText")?.payload.text).toBe(
      ru("faq.drafts_discarded", { id: beesId, questions: 1 }),
    );
    const back = await handle.db
      .select()
      .from(faqUnanswered)
      .where(eq(faqUnanswered.text, "пчёлы пасека регистрация ульев"));
    expect(back.map((q) => q.draftEntryId)).toEqual([null]);
    expect((await listUnanswered(handle.db, { days: 30 })).map((q) => q.text)).toContain(
      "пчёлы пасека регистрация ульев",
    );
    const audit = await handle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "faq.discard"), eq(auditLog.actorUserId, lawyer.userId)));
    expect(audit.map((a) => a.details)).toEqual([{ entryId: beesId, questions: 1 }]);

    await t.send(pressUpdate(lawyer, `faq:dr:d:${beesId}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.drafts_stale"));
    await t.send(pressUpdate(lawyer, `faq:dr:p:${beesId}`));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("faq.drafts_stale"));
    expect(await statusOf(beesId)).toBeUndefined();
  });

  it("says so when there are no drafts", async () => {
    const lawyer = await withRole("lawyer");
    const t = createTestBot(handle.db);
    await t.send(textUpdate(lawyer, "/drafts"));
    expect(t.texts().at(-1)).toBe(ru("faq.drafts_none"));
  });
});
