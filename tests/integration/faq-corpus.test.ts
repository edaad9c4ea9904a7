import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { municipalities, roleGrants, users } from "../../src/db/schema";
import { type FaqEntry, loadShippedFaq } from "../../src/features/faq/entries";
import { parseFaqFile, serializeFaqFile } from "../../src/features/faq/files";
import { FaqService, faqServiceOf, seedFaqIfEmpty } from "../../src/features/faq/service";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { escapeHtml, translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";

const ky = translator("ky");
const ru = translator("ru");

const NEW_ENTRIES = [
  "kenesh-deputies-number",
  "kenesh-term-of-office",
  "kenesh-chair-election",
  "deputy-early-termination",
  "kenesh-sessions-quorum",
];

/** The neighbours people confuse, each linked to the other. */
const NEIGHBOURS: [string, string][] = [
  ["local-kenesh-powers", "issues-of-local-significance"],
  ["local-budget-approval", "budget-hearings-what"],
  ["citizens-budget", "budget-hearings-online"],
  ["kurultai", "village-gathering-shod"],
  ["info-request-how", "appeal-how-to-submit"],
  ["aiyl-okmotu-vs-aiyl-kenesh", "local-kenesh-powers"],
];

describe("the shipped FAQ corpus", () => {
  const corpus = loadShippedFaq();
  const byId = new Map(corpus.map((e) => [e.id, e]));

  it("parses, with unique ids, the new entries, and a Kyrgyz citation on every entry", () => {
    expect(byId.size).toBe(corpus.length);
    expect(corpus.length).toBe(65);
    for (const id of NEW_ENTRIES) {
      const e = byId.get(id);
      expect(e, id).toBeDefined();
      expect(e!.question.ky && e!.question.ru && e!.answer.ky && e!.answer.ru, id).toBeTruthy();
      expect(e!.phrasings.ky?.length, id).toBeGreaterThan(0);
      expect(e!.phrasings.ru?.length, id).toBeGreaterThan(0);
    }
    for (const e of corpus) {
      expect(e.sourceKy, e.id).toBeTruthy();
      // Kyrgyz titles, not Russian ones: no «О …» titles, no Russian words for law or code.
      for (const text of [e.sourceKy!, e.answer.ky ?? ""]) {
        expect(text, e.id).not.toMatch(/«О |Закон|Кодекс[ау]? |статья|ст\. /);
      }
    }
    // The code in force is the Code on Offences (2021), not the "Code on Violations".
    const fine = byId.get("appeal-no-response")!;
    expect(fine.source).toContain("Кодекс КР о правонарушениях");
    expect(fine.answer.ru).toContain("Кодекса КР о правонарушениях");
    expect(fine.sourceKy).toContain("Укук бузуулар жөнүндө кодекси");
  });

  it("links every see-also to an existing entry, both ways", () => {
    for (const e of corpus) {
      for (const other of e.seeAlso ?? []) {
        expect(byId.has(other), `${e.id} → ${other}`).toBe(true);
        expect(byId.get(other)!.seeAlso, `${other} → ${e.id}`).toContain(e.id);
      }
    }
    for (const [a, b] of NEIGHBOURS) expect(byId.get(a)!.seeAlso).toContain(b);
  });
});

describe("Kyrgyz citations and see-also in the chat", () => {
  let handle: DatabaseHandle;
  let faq: FaqService;
  let m1: number;

  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
    // The bot's own service: its index (which names see-also entries) sees what is published.
    faq = faqServiceOf(handle.db);
    await seedFaqIfEmpty(handle.db, faq);
    const [m] = await handle.db.select().from(municipalities).orderBy(municipalities.id).limit(1);
    m1 = m!.id;
  });
  afterAll(() => handle.close());

  const lastText = (t: ReturnType<typeof createTestBot>) =>
    String(t.lastCall("sendMessage")!.payload.text);
  const showButtons = (t: ReturnType<typeof createTestBot>) =>
    t
      .lastButtons()
      .map((b) => b.data)
      .filter((d) => d.startsWith("faq:show:"));

  it("cites the law in Kyrgyz to a Kyrgyz reader and in Russian to a Russian one", async () => {
    const entry = (await faq.getEntry("kenesh-deputies-number"))!;
    expect(entry.sourceKy).toBeTruthy();
    const kyLine = ky("faq.source", { source: escapeHtml(entry.sourceKy!) });
    const ruLine = ru("faq.source", { source: escapeHtml(entry.source) });
    const t = createTestBot(handle.db);

    // A question typed in the chat, answered by the search.
    const kyReader = person(8101, "ky");
    await t.send(textUpdate(kyReader, entry.question.ky!));
    expect(lastText(t)).toContain(entry.answer.ky!);
    expect(lastText(t)).toContain(kyLine);
    expect(lastText(t)).not.toContain(entry.source);
    const ruReader = person(8102, "ru");
    await t.send(textUpdate(ruReader, entry.question.ru!));
    expect(lastText(t)).toContain(entry.answer.ru!);
    expect(lastText(t)).toContain(ruLine);
    expect(lastText(t)).not.toContain(entry.sourceKy!);

    // An entry opened with its button.
    await t.send(pressUpdate(kyReader, "faq:show:kenesh-deputies-number"));
    expect(lastText(t)).toContain(kyLine);
    await t.send(pressUpdate(ruReader, "faq:show:kenesh-deputies-number"));
    expect(lastText(t)).toContain(ruLine);
  });

  it("falls back to the Russian citation when the entry has no Kyrgyz one", async () => {
    await faq.publish(entry("no-ky-citation", { sourceKy: "" }));
    const t = createTestBot(handle.db);
    await t.send(pressUpdate(person(8201, "ky"), "faq:show:no-ky-citation"));
    expect(lastText(t)).toContain(ky("faq.source", { source: "Регламент кенеша (тест)" }));
  });

  it("offers the see-also neighbour first, under an answer and under an opened entry", async () => {
    const t = createTestBot(handle.db);
    const reader = person(8301, "ru");
    const kurultai = (await faq.getEntry("kurultai"))!;
    await t.send(textUpdate(reader, kurultai.question.ru!));
    expect(lastText(t)).toContain(kurultai.answer.ru!);
    const buttons = showButtons(t);
    expect(buttons[0]).toBe("faq:show:village-gathering-shod");
    expect(new Set(buttons).size).toBe(buttons.length);
    expect(buttons.length).toBeLessThanOrEqual(3);
    const label = t.lastButtons().find((b) => b.data === buttons[0])!.text;
    expect(label).toBe((await faq.getEntry("village-gathering-shod"))!.question.ru);

    await t.send(pressUpdate(reader, "faq:show:village-gathering-shod"));
    expect(showButtons(t)).toEqual(["faq:show:kurultai"]);

    // Two neighbours, each once, in the order the entry names them.
    await t.send(pressUpdate(reader, "faq:show:local-kenesh-powers"));
    expect(showButtons(t)).toEqual([
      "faq:show:issues-of-local-significance",
      "faq:show:aiyl-okmotu-vs-aiyl-kenesh",
    ]);
  });

  it("never offers a citizen a see-also entry meant for deputies and staff", async () => {
    await faq.publish(entry("see-also-open", { seeAlso: ["see-also-staff", "see-also-draft"] }));
    await faq.publish(entry("see-also-staff", { audience: "deputies_staff" }));
    await faq.importEntries([entry("see-also-draft", { status: "draft" })]);
    const t = createTestBot(handle.db);

    await t.send(pressUpdate(person(8401, "ru"), "faq:show:see-also-open"));
    expect(showButtons(t)).toEqual([]);

    const deputy = person(8402, "ru");
    await t.send(textUpdate(deputy, "/help"));
    const [row] = await handle.db.select().from(users).where(eq(users.chatId, deputy.id));
    await handle.db
      .insert(roleGrants)
      .values({ userId: row!.id, role: "deputy", municipalityId: m1 });
    await t.send(pressUpdate(deputy, "faq:show:see-also-open"));
    expect(showButtons(t)).toEqual(["faq:show:see-also-staff"]);
  });

  it("keeps the Kyrgyz citation, not-covered points and see-also through export and import", async () => {
    await faq.publish(
      entry("round-trip", {
        sourceKy: "Жергиликтүү кеңештин регламенти (тест)",
        notCovered: { ru: ["зарплата депутата"], ky: ["депутаттын айлыгы"] },
        seeAlso: ["kurultai", "village-gathering-shod"],
      }),
    );
    const before = await faq.exportEntries();
    const other = await createTestDatabase();
    try {
      for (const format of ["json", "csv"] as const) {
        const parsed = parseFaqFile(serializeFaqFile(before, format), format);
        expect(parsed.errors).toEqual([]);
        const target = new FaqService(other.db);
        await target.importEntries(parsed.entries);
        const after = await target.exportEntries();
        expect(after, format).toEqual(before);
        const e = after.find((x) => x.id === "round-trip")!;
        expect(e.sourceKy).toBe("Жергиликтүү кеңештин регламенти (тест)");
        expect(e.notCovered).toEqual({ ru: ["зарплата депутата"], ky: ["депутаттын айлыгы"] });
        expect(e.seeAlso).toEqual(["kurultai", "village-gathering-shod"]);
        expect(after.find((x) => x.id === "kenesh-deputies-number")!.sourceKy).toContain("№ 98");
      }
    } finally {
      await other.close();
    }
  });

  it("still imports a CSV written before the new columns existed", () => {
    const csv = serializeFaqFile([entry("old-file", {})], "csv");
    const [header, row] = csv.trimEnd().split("\r\n");
    const cells = header!.split(",");
    const added = ["source_ky", "not_covered_ky", "not_covered_ru", "not_covered_en", "see_also"];
    const keep = cells.flatMap((c, i) => (added.includes(c) ? [] : [i]));
    const values = row!.split(",");
    const old = [keep.map((i) => cells[i]), keep.map((i) => values[i])].map((r) => r.join(","));
    const parsed = parseFaqFile(`${old.join("\r\n")}\r\n`, "csv");
    expect(parsed.errors).toEqual([]);
    expect(parsed.entries[0]).toMatchObject({ id: "old-file", sourceKy: "", seeAlso: [] });
  });
});

function entry(id: string, patch: Partial<FaqEntry>): FaqEntry {
  return {
    id,
    topic: "kenesh-deputies",
    question: { ru: `Тестовый вопрос ${id}?`, ky: `Сынак суроо ${id}?` },
    answer: { ru: "Тестовый ответ.", ky: "Сынак жооп." },
    source: "Регламент кенеша (тест)",
    lastChecked: "2026-03-31",
    audience: "everyone",
    status: "published",
    tags: [],
    phrasings: {},
    ...patch,
  };
}
