import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { faqEntries } from "../../src/db/schema/faq";
import type { FaqEntry } from "../../src/features/faq/entries";
import { FaqService, seedFaqIfEmpty } from "../../src/features/faq/service";
import { useTestDatabase } from "../helpers/db";

const entry: FaqEntry = {
  id: "pasture-committee-term",
  topic: "pastures",
  question: {
    ru: "На какой срок избирается жайыт комитет пастбищного комитета?",
    ky: "Жайыт комитети канча мөөнөткө шайланат?",
  },
  answer: {
    ru: "Жайыт комитет избирается собранием пастбищепользователей на срок, установленный уставом.",
    ky: "Жайыт комитетин жайыт пайдалануучулардын жыйыны уставда белгиленген мөөнөткө шайлайт.",
  },
  source: "Закон КР «О пастбищах»",
  lastChecked: "2026-01-15",
  audience: "everyone",
  status: "published",
  tags: ["жайыт комитет"],
  phrasings: {},
};

const ask = (service: FaqService) =>
  service.search("жайыт комитети канча мөөнөткө шайланат", { lang: "ky", audience: "everyone" });

describe("FAQ index across app instances", () => {
  const handle = useTestDatabase(seedFaqIfEmpty);

  it("another instance's index picks up a published entry after its check interval", async () => {
    const writer = new FaqService(handle.db);
    const reader = new FaqService(handle.db, { staleCheckMs: 0 });
    const lazy = new FaqService(handle.db, { staleCheckMs: 60 * 60_000 });
    expect((await ask(reader)).best?.id).not.toBe(entry.id);
    expect((await ask(lazy)).best?.id).not.toBe(entry.id);

    await writer.publish(entry);
    // The search that notices the change still answers from the index it has, then rebuilds.
    await ask(reader);
    await reader.settled();
    expect((await ask(reader)).best?.id).toBe(entry.id);
    // Within its interval an instance does not even look.
    await ask(lazy);
    await lazy.settled();
    expect((await ask(lazy)).best?.id).not.toBe(entry.id);

    // Outdated elsewhere: the reader stops answering with it.
    await handle.db
      .update(faqEntries)
      .set({ status: "outdated", updatedAt: sql`now()` })
      .where(eq(faqEntries.id, entry.id));
    await ask(reader);
    await reader.settled();
    expect((await ask(reader)).best?.id).not.toBe(entry.id);
  });
});
