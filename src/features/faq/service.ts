/**
 * The legal FAQ, independent of any channel: entries in the database, an in-memory search index
 * over the published ones (rebuilt whenever entries change through this service), feedback.
 */
import { and, count, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type FaqAudience, type FaqStatus, faqEntries, faqFeedback } from "../../db/schema/faq";
import { LOCALES, type Locale } from "../../locales";
import {
  entryToRow,
  type FaqEntry,
  loadShippedFaq,
  localizeEntry,
  rowToEntry,
  visibleTo,
} from "./entries";
import { ABSTAIN_THRESHOLD } from "./search/confidence";
import { FaqSearchEngine, type SearchDoc } from "./search/engine";

export interface FaqSearchOptions {
  /** The asker's language: answers come in it when the entry has it. */
  lang: Locale;
  /** Who is asking: "everyone" (citizens) never sees deputies/staff entries. */
  audience: FaqAudience;
}

export interface FaqHit {
  id: string;
  topic: string;
  /** Language of question and answer below (the asker's, or a fallback). */
  lang: Locale;
  question: string;
  answer: string;
  source: string;
  /** The citation as the official Kyrgyz texts write it; empty when the entry has none. */
  sourceKy: string;
  /** Neighbouring entries people confuse with this one ("see also"), by id. */
  seeAlso: string[];
  lastChecked: string;
  score: number;
}

export interface FaqSearchResult {
  /**
   * The top candidate. Shown to the asker only when `abstain` is false; kept when abstaining
   * so that evaluation and the lawyers' escalation snapshot can see what was nearly answered.
   */
  best: FaqHit | null;
  /** Estimated probability that `best` answers the question. */
  confidence: number;
  /** True when the confidence is below the threshold: say so plainly, offer didYouMean. */
  abstain: boolean;
  /** Up to 2 further entries worth offering next to a confident answer. */
  related: FaqHit[];
  /** Up to 3 candidates to offer as buttons when abstaining. */
  didYouMean: FaqHit[];
  /** Top 5 entry ids in rank order (for evaluation and snapshots). */
  ranking: string[];
}

/** Field weights of the ranking: the question counts most, the answer body least. */
const WEIGHT = { question: 3, phrasing: 2, tags: 2, answer: 0.5, source: 0.3 } as const;
const RELATED_MIN_COVERAGE = 0.5;
const DID_YOU_MEAN_MIN_COVERAGE = 0.25;
/**
 * "Did you mean" is offered only for questions more than half made of words the FAQ's questions
 * use (see EngineResult.domainShare), and only entries sharing such a word with the question:
 * weather, football or recipes get no unrelated guesses. On the dev queries every abstained
 * answerable question keeps its guesses (the least in-domain of them has 3 words of 5); weather,
 * currency and passport questions (none or 1 word of 3) lose theirs. At exactly half, two-word
 * questions with one FAQ word got guesses mostly unrelated («тамак кантип жасаса» → deputies'
 * rights, «билет в Ош»), so half is not enough.
 */
const DID_YOU_MEAN_MIN_DOMAIN_SHARE = 0.5;

export function entryToSearchDoc(e: FaqEntry): SearchDoc {
  const fields: SearchDoc["fields"] = [];
  for (const lang of LOCALES) {
    const stem = lang === "en" ? "any" : lang;
    const q = e.question[lang];
    if (q) fields.push({ text: q, lang: stem, weight: WEIGHT.question });
    for (const p of e.phrasings[lang] ?? [])
      fields.push({ text: p, lang: stem, weight: WEIGHT.phrasing });
  }
  if (e.tags.length > 0)
    fields.push({ text: e.tags.join(" ; "), lang: "any", weight: WEIGHT.tags });
  for (const lang of LOCALES) {
    const a = e.answer[lang];
    if (a) fields.push({ text: a, lang: lang === "en" ? "any" : lang, weight: WEIGHT.answer });
  }
  if (e.source) fields.push({ text: e.source, lang: "ru", weight: WEIGHT.source });
  const notCovered = LOCALES.flatMap((lang) => e.notCovered?.[lang] ?? []);
  return { id: e.id, audience: e.audience, fields, notCovered };
}

export interface FaqServiceOptions {
  /**
   * How often a search checks, in the background, whether the FAQ changed in the database
   * without this instance knowing (another app instance or the CLI published or imported).
   */
  staleCheckMs?: number;
}

const STALE_CHECK_MS = 10_000;

/**
 * NOTIFY channel of FAQ changes: every write through a FaqService (on any app instance, or the
 * command line) announces itself here, and each app's index rebuilds at once (app.ts listens).
 */
export const FAQ_CHANGED_CHANNEL = "aimak_faq_changed";

export class FaqService {
  private engine: FaqSearchEngine | undefined;
  private entries = new Map<string, FaqEntry>();
  private loading: Promise<void> | undefined;
  /** The database's FAQ fingerprint when the index was built. */
  private stamp: string | undefined;
  private checkedAt = 0;
  private checking: Promise<void> | undefined;
  private readonly staleCheckMs: number;
  /** A rebuild after a change announced by NOTIFY; searches wait for it. */
  private rebuilding: Promise<void> | undefined;
  private rebuildAgain = false;

  constructor(
    private readonly db: Database,
    options: FaqServiceOptions = {},
  ) {
    this.staleCheckMs = options.staleCheckMs ?? STALE_CHECK_MS;
  }

  /** Reloads the published entries from the database and rebuilds the index. */
  async refresh(): Promise<void> {
    // Fingerprint first: a change landing while the rows load shows up at the next check.
    const stamp = await this.fingerprint();
    const rows = await this.db.select().from(faqEntries).where(eq(faqEntries.status, "published"));
    const entries = rows.map(rowToEntry).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.entries = new Map(entries.map((e) => [e.id, e]));
    this.engine = new FaqSearchEngine(entries.map(entryToSearchDoc));
    this.stamp = stamp;
    this.checkedAt = Date.now();
  }

  /**
   * Changes whenever an entry is added, removed or updated (every write sets updated_at). The
   * sum, not just the latest time, also catches a slow transaction committing an older
   * timestamp after a newer one.
   */
  private async fingerprint(): Promise<string> {
    const [row] = await this.db
      .select({
        n: count(),
        sum: sql<string | null>`sum(extract(epoch from ${faqEntries.updatedAt}))::text`,
      })
      .from(faqEntries);
    return `${row?.n ?? 0}:${row?.sum ?? ""}`;
  }

  /**
   * Another instance (or this one, or the command line) changed the FAQ: rebuilds the index now
   * when the database's fingerprint differs, and makes searches wait for it. Changes arriving
   * during a rebuild are folded into one more.
   */
  changed(): void {
    if (!this.engine) return; // not built yet: the first search loads everything anyway
    if (this.rebuilding) {
      this.rebuildAgain = true;
      return;
    }
    this.rebuilding = (async () => {
      do {
        this.rebuildAgain = false;
        if ((await this.fingerprint()) !== this.stamp) await this.refresh();
      } while (this.rebuildAgain);
    })()
      // Database briefly away: the periodic check (revalidate) catches up at the next search.
      .catch(() => {
        this.checkedAt = 0;
      })
      .finally(() => {
        this.rebuilding = undefined;
      });
  }

  /** Whether the index at hand holds a published entry (no database query). */
  hasIndexed(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * Tells every instance (this one included) that the FAQ changed. Given a transaction, the
   * NOTIFY goes out when it commits: for a change written outside this service (/drafts).
   */
  async notifyChanged(executor: Pick<Database, "execute"> = this.db): Promise<void> {
    await executor.execute(sql`select pg_notify(${FAQ_CHANGED_CHANNEL}, '')`);
  }

  private async ready(): Promise<FaqSearchEngine> {
    if (this.rebuilding) await this.rebuilding;
    if (!this.engine) {
      this.loading ??= this.refresh().finally(() => {
        this.loading = undefined;
      });
      await this.loading;
    } else {
      this.revalidate();
    }
    return this.engine!;
  }

  /**
   * Rebuilds the index when the database changed behind this instance's back. Searches never
   * wait for it: they use the index at hand, and the next one after the rebuild sees the change.
   */
  private revalidate(): void {
    if (this.checking || Date.now() - this.checkedAt < this.staleCheckMs) return;
    this.checkedAt = Date.now();
    this.checking = (async () => {
      if ((await this.fingerprint()) !== this.stamp) await this.refresh();
    })()
      // A failed check (database briefly away) is simply tried again after the interval.
      .catch(() => {})
      .finally(() => {
        this.checking = undefined;
      });
  }

  /** Resolves when a background check started by a search has finished (tests). */
  async settled(): Promise<void> {
    await this.checking;
  }

  /**
   * Inserts or updates entries by id in one transaction (all or nothing), then refreshes the
   * index. Returns how many were new and how many replaced existing entries.
   */
  async importEntries(
    entries: readonly FaqEntry[],
  ): Promise<{ inserted: number; updated: number }> {
    if (entries.length === 0) return { inserted: 0, updated: 0 };
    const result = await this.db.transaction(async (tx) => {
      const existing = new Set(
        (await tx.select({ id: faqEntries.id }).from(faqEntries)).map((r) => r.id),
      );
      const rows = entries.map(entryToRow);
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insert(faqEntries)
          .values(rows.slice(i, i + 500))
          .onConflictDoUpdate({
            target: faqEntries.id,
            set: {
              topic: sql`excluded.topic`,
              questionKy: sql`excluded.question_ky`,
              questionRu: sql`excluded.question_ru`,
              questionEn: sql`excluded.question_en`,
              answerKy: sql`excluded.answer_ky`,
              answerRu: sql`excluded.answer_ru`,
              answerEn: sql`excluded.answer_en`,
              source: sql`excluded.source`,
              sourceKy: sql`excluded.source_ky`,
              notCovered: sql`excluded.not_covered`,
              seeAlso: sql`excluded.see_also`,
              lastCheckedAt: sql`excluded.last_checked_at`,
              audience: sql`excluded.audience`,
              tags: sql`excluded.tags`,
              status: sql`excluded.status`,
              phrasings: sql`excluded.phrasings`,
              updatedAt: sql`now()`,
            },
          });
      }
      const inserted = entries.filter((e) => !existing.has(e.id)).length;
      // Sent when the transaction commits: other instances rebuild their index from it.
      await this.notifyChanged(tx);
      return { inserted, updated: entries.length - inserted };
    });
    await this.refresh();
    return result;
  }

  /** Every entry (any status), ordered by id. */
  async exportEntries(): Promise<FaqEntry[]> {
    const rows = await this.db.select().from(faqEntries).orderBy(faqEntries.id);
    return rows.map(rowToEntry);
  }

  async getEntry(id: string): Promise<FaqEntry | undefined> {
    const [row] = await this.db.select().from(faqEntries).where(eq(faqEntries.id, id));
    return row ? rowToEntry(row) : undefined;
  }

  /** Publishes a new or edited entry; the next search finds it. */
  async publish(entry: FaqEntry): Promise<void> {
    await this.importEntries([{ ...entry, status: "published" }]);
  }

  async setStatus(id: string, status: FaqStatus): Promise<boolean> {
    const updated = await this.db
      .update(faqEntries)
      .set({ status, updatedAt: sql`now()` })
      .where(eq(faqEntries.id, id))
      .returning({ id: faqEntries.id });
    if (updated.length > 0) await this.notifyChanged();
    await this.refresh();
    return updated.length > 0;
  }

  /** Stores a helpful / not helpful vote; a later vote by the same user replaces it. */
  /**
   * One vote per person per entry (UNIQUE (entry_id, user_id)): a second press replaces the
   * first. Returns what the person had said before, undefined when this is their first vote.
   */
  async recordFeedback(
    entryId: string,
    userId: number,
    helpful: boolean,
  ): Promise<{ previous: boolean | undefined }> {
    const [before] = await this.db
      .select({ helpful: faqFeedback.helpful })
      .from(faqFeedback)
      .where(and(eq(faqFeedback.entryId, entryId), eq(faqFeedback.userId, userId)));
    await this.db
      .insert(faqFeedback)
      .values({ entryId, userId, helpful })
      .onConflictDoUpdate({
        target: [faqFeedback.entryId, faqFeedback.userId],
        set: { helpful, updatedAt: sql`now()` },
      });
    return { previous: before?.helpful };
  }

  async search(query: string, options: FaqSearchOptions): Promise<FaqSearchResult> {
    const engine = await this.ready();
    const result = engine.search(query, {
      viewer: options.audience,
      lang: options.lang,
      limit: 6,
    });
    const hit = (id: string, score: number): FaqHit => this.localize(id, score, options.lang);
    const [top, ...rest] = result.hits;
    const abstain = !top || result.confidence < ABSTAIN_THRESHOLD;
    return {
      best: top ? hit(top.id, top.score) : null,
      confidence: result.confidence,
      abstain,
      related: abstain
        ? []
        : rest
            .filter((h) => h.coverage >= RELATED_MIN_COVERAGE)
            .slice(0, 2)
            .map((h) => hit(h.id, h.score)),
      didYouMean:
        abstain && result.domainShare > DID_YOU_MEAN_MIN_DOMAIN_SHARE
          ? result.hits
              .filter((h) => h.topical && h.coverage >= DID_YOU_MEAN_MIN_COVERAGE)
              .slice(0, 3)
              .map((h) => hit(h.id, h.score))
          : [],
      ranking: result.hits.slice(0, 5).map((h) => h.id),
    };
  }

  /** Number of published entries in the index. */
  async indexedCount(): Promise<number> {
    return (await this.ready()).size;
  }

  private localize(id: string, score: number, lang: Locale): FaqHit {
    const e = this.entries.get(id)!;
    return { ...localizeEntry(e, lang), topic: e.topic, seeAlso: e.seeAlso ?? [], score };
  }

  /**
   * The entries an entry names as its neighbours (its seeAlso ids), in the asker's language,
   * from the index (no query): only published ones the asker may see.
   */
  seeAlsoOf(ids: readonly string[], lang: Locale, audience: FaqAudience): FaqHit[] {
    return ids
      .filter((id) => {
        const e = this.entries.get(id);
        return e !== undefined && visibleTo(e, audience);
      })
      .map((id) => this.localize(id, 0, lang));
  }
}

/** Loads the shipped demo corpus when the FAQ table is empty. Returns how many were added. */
const services = new WeakMap<Database, FaqService>();

/**
 * The FAQ service (and its search index) of a database: one per app, shared by the bot's
 * handlers, conversations and start-up seeding.
 */
export function faqServiceOf(db: Database): FaqService {
  let service = services.get(db);
  if (!service) {
    service = new FaqService(db);
    services.set(db, service);
  }
  return service;
}

export async function seedFaqIfEmpty(db: Database, service = new FaqService(db)): Promise<number> {
  const [row] = await db.select({ n: count() }).from(faqEntries);
  if ((row?.n ?? 0) > 0) return 0;
  const { inserted } = await service.importEntries(loadShippedFaq());
  return inserted;
}
