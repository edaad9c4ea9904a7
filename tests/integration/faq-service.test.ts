import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { evaluate, parseQueries } from "../../src/features/faq/cli";
import { type FaqEntry, loadShippedFaq } from "../../src/features/faq/entries";
import { parseFaqFile, serializeFaqFile } from "../../src/features/faq/files";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import { createTestDatabase } from "../helpers/db";

const deputiesOnly: FaqEntry = {
  id: "deputy-salary-secret",
  topic: "kenesh-deputies",
  question: {
    ru: "Какая компенсация положена депутату за участие в сессии кенеша?",
    ky: "Депутатка кеңештин сессиясына катышканы үчүн кандай компенсация берилет?",
  },
  answer: {
    ru: "Компенсацию расходов депутата устанавливает кенеш в регламенте.",
    ky: "Депутаттын чыгымдарынын компенсациясын кеңеш регламентте белгилейт.",
  },
  source: "Регламент кенеша",
  lastChecked: "2026-01-15",
  audience: "deputies_staff",
  status: "published",
  tags: ["компенсация депутату"],
  phrasings: { ru: ["компенсация депутату за сессию"] },
};

describe("FAQ service", () => {
  let handle: DatabaseHandle;
  let service: FaqService;

  beforeAll(async () => {
    handle = await createTestDatabase();
    service = new FaqService(handle.db);
    expect(await seedFaqIfEmpty(handle.db, service)).toBe(65);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("seeds once and keeps ids", async () => {
    expect(await seedFaqIfEmpty(handle.db, service)).toBe(0);
    const e = await service.getEntry("appeal-language");
    expect(e?.question.ky).toContain("орус тилинде");
    expect(e?.lastChecked).toBe("2026-03-31");
    expect(e?.tags.length).toBeGreaterThan(0);
    expect(e?.phrasings.ru?.length).toBeGreaterThan(0);
  });

  it("answers in the asker's language with source and date", async () => {
    const r = await service.search("можно ли писать в айыл окмоту на русском языке", {
      lang: "ky",
      audience: "everyone",
    });
    expect(r.abstain).toBe(false);
    expect(r.best?.id).toBe("appeal-language");
    expect(r.best?.lang).toBe("ky");
    expect(r.best?.source).toContain("№ 67");
    expect(r.best?.lastChecked).toBe("2026-03-31");
    expect(r.related.length).toBeLessThanOrEqual(2);
  });

  it("abstains on off-topic questions that mention the kenesh", async () => {
    for (const q of ["Жогорку Кеңешке шайлоо качан болот", "депутат парламента зарплата сколько"]) {
      const r = await service.search(q, { lang: "ru", audience: "deputies_staff" });
      expect(r.abstain, q).toBe(true);
      expect(r.didYouMean.length).toBeLessThanOrEqual(3);
    }
  });

  it("never returns deputies/staff entries to citizens", async () => {
    await service.importEntries([deputiesOnly]);
    const queries = [
      "компенсация депутату за сессию",
      "депутатка компенсация",
      "kompensaciya deputatu za sessiyu",
    ];
    for (const q of queries) {
      const staff = await service.search(q, { lang: "ru", audience: "deputies_staff" });
      expect(staff.best?.id).toBe(deputiesOnly.id);
      const citizen = await service.search(q, { lang: "ru", audience: "everyone" });
      const shown = [citizen.best, ...citizen.related, ...citizen.didYouMean].map((h) => h?.id);
      expect(shown).not.toContain(deputiesOnly.id);
      expect(citizen.ranking).not.toContain(deputiesOnly.id);
    }
  });

  it("finds a newly published entry and forgets an outdated one", async () => {
    const entry: FaqEntry = {
      ...deputiesOnly,
      id: "snow-removal",
      topic: "lsg-basics",
      audience: "everyone",
      question: {
        ru: "Кто убирает снег на улицах села?",
        ky: "Айылдын көчөлөрүндөгү карды ким тазалайт?",
      },
      answer: {
        ru: "Уборку снега организует айыл окмоту.",
        ky: "Карды тазалоону айыл өкмөтү уюштурат.",
      },
      tags: [],
      phrasings: {},
    };
    await service.publish(entry);
    const r = await service.search("кар тазалоо ким жооптуу", { lang: "ky", audience: "everyone" });
    expect(r.best?.id).toBe("snow-removal");
    await service.setStatus("snow-removal", "outdated");
    const after = await service.search("кар тазалоо ким жооптуу", {
      lang: "ky",
      audience: "everyone",
    });
    expect(after.ranking).not.toContain("snow-removal");
  });

  it("round-trips export → import losslessly in JSON and CSV", async () => {
    const before = await service.exportEntries();
    for (const format of ["json", "csv"] as const) {
      const file = serializeFaqFile(before, format);
      const parsed = parseFaqFile(file, format);
      expect(parsed.errors).toEqual([]);
      expect(parsed.entries).toEqual(before);
      await service.importEntries(parsed.entries);
      expect(await service.exportEntries()).toEqual(before);
    }
  });

  it("reports bad rows by line and imports nothing", async () => {
    const good = serializeFaqFile([deputiesOnly], "csv").trimEnd();
    const csv = `${good}\r\nbad id!,topic,,,,,,,,2026-13-45,everyone,published,[],,,\r\n`;
    const parsed = parseFaqFile(csv, "csv");
    expect(parsed.errors.some((e) => e.startsWith("line 3:"))).toBe(true);
    const json = `[\n  {"id": "ok-one", "topic": "t", "question": {"ru": "в"}, "answer": {"ru": "о"}},\n  {"id": "x", "topic": ""}\n]`;
    const pj = parseFaqFile(json, "json");
    expect(pj.errors.length).toBeGreaterThan(0);
    expect(pj.errors.every((e) => e.startsWith("line 3 (entry 2)"))).toBe(true);
  });

  it("stores one helpful vote per user per entry", async () => {
    const { users } = await import("../../src/db/schema/users");
    const [user] = await handle.db
      .insert(users)
      .values({ channel: "telegram", channelUserId: "42", chatId: 42 })
      .returning();
    await service.recordFeedback("appeal-language", user!.id, true);
    await service.recordFeedback("appeal-language", user!.id, false);
    const { faqFeedback } = await import("../../src/db/schema/faq");
    const votes = await handle.db.select().from(faqFeedback);
    expect(votes).toHaveLength(1);
    expect(votes[0]!.helpful).toBe(false);
  });
});

describe("FAQ retrieval quality on the dev queries (regression floor)", () => {
  it("keeps recall and abstention above the floor", async () => {
    const handle = await createTestDatabase();
    try {
      const service = new FaqService(handle.db);
      await service.importEntries(loadShippedFaq());
      const queries = parseQueries(readFileSync("tests/fixtures/faq-queries-dev.json", "utf8"));
      const { summary } = await evaluate(service, queries);
      // Measured: recall@1 ru 0.975, ky 0.936; accuracy ru 0.914, ky 0.863; 1.6 % answered.
      expect(summary.recall_at_1.ru).toBeGreaterThanOrEqual(0.96);
      expect(summary.recall_at_1.ky).toBeGreaterThanOrEqual(0.92);
      expect(summary.mrr_at_5.all).toBeGreaterThanOrEqual(0.96);
      expect(summary.accuracy.ru).toBeGreaterThanOrEqual(0.9);
      expect(summary.accuracy.ky).toBeGreaterThanOrEqual(0.85);
      expect(summary.answered_unanswerable).toBeLessThanOrEqual(0.05);
    } finally {
      await handle.close();
    }
  });
});
