/**
 * What the FAQ could not answer, turned into work for the lawyers. Channel-free: the bot's
 * /gaps, its "draft an entry" flow and `faq gaps` on the command line go through these functions.
 *
 * - Every question the search abstained on is kept in `faq_unanswered` with only its text,
 *   language and the asker's municipality: no link to the person.
 * - The unanswered questions of the last days are grouped by similarity (content-word stems of
 *   the FAQ's own text analysis, see `groupQuestions`), largest groups first.
 * - A lawyer drafts an entry from a group: the entry is stored as a draft (published only after
 *   review) and the group's questions point to it, so they leave the list.
 */
import { and, desc, eq, gte, inArray, isNull, like, sql } from "drizzle-orm";
import { recordAudit } from "../../core/audit";
import type { RoleGrant } from "../../core/roles";
import { type Database, type Executor, rowsOf } from "../../db/client";
import { faqEntries, faqUnanswered } from "../../db/schema/faq";
import { roleGrants } from "../../db/schema/roles";
import { inboxSentBy } from "../../db/schema/whatsapp";
import { storableText } from "../../db/storable";
import { LOCALES, type Locale } from "../../locales";
import { UNANSWERED_KEEP_DAYS } from "../../scheduler/retention";
import { entryToRow, FaqValidationError, parseEntry } from "./entries";
import { analyze } from "./search/analyze";

export const GAPS_DEFAULT_DAYS = 30;
/** Older questions are deleted by the retention job: asking further back shows nothing more. */
export const GAPS_MAX_DAYS = UNANSWERED_KEEP_DAYS;
/**
 * Cosine similarity (IDF-weighted content stems) from which a question joins a group. Tuned on
 * the dev queries (tests/fixtures/faq-queries-dev.json), grouped per language, scored on the
 * answerable ones labelled by their entry (B-cubed): at 0.35 precision is 0.86 (ru) / 0.82 (ky)
 * and recall 0.53 / 0.54, against 0.26 with every question alone; 4 of 60 (ru) and 4 of 56 (ky)
 * unanswerable questions share a group with an answerable one (the rest group with each other:
 * the writers asked about salaries, leave, exchange rates several times). 0.30 gains 0.05
 * recall for 0.06–0.08 precision; 0.40 loses 0.07–0.09 recall. A mixed group is worse than a
 * split one (both halves still show), so precision goes first.
 */
export const GAP_SIMILARITY = 0.35;
/**
 * How many of the newest questions are grouped at most: grouping grows faster than linearly
 * (questions sharing a common word are compared), and 2,000 take about half a second.
 */
const MAX_GROUPED = 2000;
const EXAMPLES = 3;

export interface UnansweredQuestion {
  id: number;
  text: string;
  lang: Locale;
  municipalityId: number | null;
  createdAt: Date;
}

export interface GapGroup {
  /** Every question of the group, the most typical first (closest to the group's centre). */
  questions: UnansweredQuestion[];
  size: number;
  /** The languages its questions were asked in, in LOCALES order. */
  languages: Locale[];
  /** How many different municipalities asked (questions without one not counted). */
  municipalities: number;
  /** 1–3 different texts, the most typical first. */
  examples: string[];
  firstAsked: Date;
  lastAsked: Date;
}

/** The stems of a question's content words (no stop, question or modal words; no numbers). */
export function contentStems(text: string, lang: Locale): string[] {
  const stems = new Set<string>();
  for (const term of analyze(text, lang === "en" ? "any" : lang)) {
    if (term.weak) continue;
    for (const s of term.stems) if (!/^\d+$/.test(s)) stems.add(s);
  }
  return [...stems];
}

/** The municipality a question is counted for: the person's own, else that of their role. */
export function askerMunicipality(
  userMunicipalityId: number | null,
  roles: readonly RoleGrant[],
): number | null {
  return (
    userMunicipalityId ??
    roles.find((r) => r.role !== "admin" && r.municipalityId !== null)?.municipalityId ??
    null
  );
}

/**
 * Keeps a question the FAQ did not answer. A message without a single content word (a greeting,
 * "ok", emoji) asks nothing a lawyer could answer and is not kept. Returns whether it was.
 */
export async function recordUnanswered(
  db: Executor,
  input: { text: string; lang: Locale; municipalityId: number | null },
  now: Date = new Date(),
): Promise<boolean> {
  const text = storableText(input.text.trim());
  if (contentStems(text, input.lang).length === 0) return false;
  await db.insert(faqUnanswered).values({
    text,
    lang: input.lang,
    municipalityId: input.municipalityId,
    createdAt: now,
  });
  return true;
}

type Vector = Map<string, number>;

function dot(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [k, v] of small) {
    const w = large.get(k);
    if (w !== undefined) sum += v * w;
  }
  return sum;
}

function norm(v: Vector): number {
  let sum = 0;
  for (const x of v.values()) sum += x * x;
  return Math.sqrt(sum);
}

const newestFirst = (a: UnansweredQuestion, b: UnansweredQuestion) =>
  b.createdAt.getTime() - a.createdAt.getTime() || a.id - b.id;

/**
 * Groups questions by what they ask, largest groups first (then the most recently asked).
 *
 * Each question becomes a unit vector over its content stems, weighted by IDF within the set
 * (words most questions share, like "кеңеш", count little). Greedy and order-robust: questions
 * are taken in order of how many others are similar to them (cosine ≥ threshold), so the centre
 * of a topic starts its group; each joins the group whose centroid it is most similar to, if
 * that reaches the threshold, or starts a new one. Candidate groups and neighbours come from an
 * inverted index, so only questions sharing a stem are compared. Questions without content stems
 * (none are stored) are left out.
 */
export function groupQuestions(
  questions: readonly UnansweredQuestion[],
  threshold = GAP_SIMILARITY,
): GapGroup[] {
  const items = questions
    .map((q) => ({ q, stems: contentStems(q.text, q.lang) }))
    .filter((i) => i.stems.length > 0);
  const n = items.length;
  const df = new Map<string, number>();
  for (const { stems } of items) for (const s of stems) df.set(s, (df.get(s) ?? 0) + 1);
  const vectors: Vector[] = items.map(({ stems }) => {
    const v: Vector = new Map(stems.map((s) => [s, Math.log(1 + n / df.get(s)!)]));
    const length = norm(v);
    for (const [k, x] of v) v.set(k, x / length);
    return v;
  });
  const postings = new Map<string, number[]>();
  vectors.forEach((v, i) => {
    for (const s of v.keys()) {
      const list = postings.get(s);
      if (list) list.push(i);
      else postings.set(s, [i]);
    }
  });

  const degree = vectors.map((v, i) => {
    const sims = new Map<number, number>();
    for (const [s, x] of v) {
      for (const j of postings.get(s)!) {
        if (j !== i) sims.set(j, (sims.get(j) ?? 0) + x * vectors[j]!.get(s)!);
      }
    }
    let count = 0;
    for (const sim of sims.values()) if (sim >= threshold - 1e-9) count++;
    return count;
  });
  const order = [...items.keys()].sort(
    (a, b) => degree[b]! - degree[a]! || newestFirst(items[a]!.q, items[b]!.q),
  );

  const groups: { members: number[]; centroid: Vector }[] = [];
  const groupsWith = new Map<string, Set<number>>();
  for (const i of order) {
    const v = vectors[i]!;
    const candidates = new Set<number>();
    for (const s of v.keys()) for (const g of groupsWith.get(s) ?? []) candidates.add(g);
    let best = -1;
    let bestSim = threshold - 1e-9;
    for (const g of [...candidates].sort((a, b) => a - b)) {
      const c = groups[g]!.centroid;
      const sim = dot(v, c) / norm(c);
      if (sim > bestSim) {
        best = g;
        bestSim = sim;
      }
    }
    if (best < 0) {
      best = groups.length;
      groups.push({ members: [], centroid: new Map() });
    }
    const group = groups[best]!;
    group.members.push(i);
    for (const [s, x] of v) {
      group.centroid.set(s, (group.centroid.get(s) ?? 0) + x);
      const set = groupsWith.get(s) ?? new Set<number>();
      set.add(best);
      groupsWith.set(s, set);
    }
  }

  return groups
    .map(({ members, centroid }) => {
      const length = norm(centroid);
      const ranked = members
        .map((i) => ({ q: items[i]!.q, sim: dot(vectors[i]!, centroid) / length }))
        // Equal similarities (up to rounding) go newest first, so the order does not wobble.
        .sort((a, b) => (Math.abs(b.sim - a.sim) > 1e-9 ? b.sim - a.sim : newestFirst(a.q, b.q)))
        .map((r) => r.q);
      return describe(ranked);
    })
    .sort(
      (a, b) =>
        b.size - a.size ||
        b.lastAsked.getTime() - a.lastAsked.getTime() ||
        a.questions[0]!.id - b.questions[0]!.id,
    );
}

function describe(ranked: UnansweredQuestion[]): GapGroup {
  const examples: string[] = [];
  const seen = new Set<string>();
  for (const q of ranked) {
    const key = q.text.toLowerCase().replace(/\s+/g, " ");
    if (seen.has(key)) continue;
    seen.add(key);
    examples.push(q.text);
    if (examples.length === EXAMPLES) break;
  }
  const times = ranked.map((q) => q.createdAt.getTime());
  const languages = LOCALES.filter((l) => ranked.some((q) => q.lang === l));
  return {
    questions: ranked,
    size: ranked.length,
    languages,
    municipalities: new Set(ranked.map((q) => q.municipalityId).filter((m) => m !== null)).size,
    examples,
    firstAsked: new Date(Math.min(...times)),
    lastAsked: new Date(Math.max(...times)),
  };
}

/** The most typical question of a group in `lang`, else the most typical one. */
export function typicalQuestion(group: GapGroup, lang: Locale): UnansweredQuestion {
  return group.questions.find((q) => q.lang === lang) ?? group.questions[0]!;
}

export interface GapWindow {
  days: number;
  now?: Date;
}

/** Questions of the last `days` days that no draft was made from yet, newest first. */
export async function listUnanswered(
  db: Executor,
  { days, now = new Date() }: GapWindow,
): Promise<UnansweredQuestion[]> {
  const since = new Date(now.getTime() - days * 86_400_000);
  return db
    .select({
      id: faqUnanswered.id,
      text: faqUnanswered.text,
      lang: faqUnanswered.lang,
      municipalityId: faqUnanswered.municipalityId,
      createdAt: faqUnanswered.createdAt,
    })
    .from(faqUnanswered)
    .where(and(isNull(faqUnanswered.draftEntryId), gte(faqUnanswered.createdAt, since)))
    .orderBy(desc(faqUnanswered.createdAt), desc(faqUnanswered.id))
    .limit(MAX_GROUPED);
}

/** The groups of the last `days` days, largest first. */
export async function findGaps(db: Executor, window: GapWindow): Promise<GapGroup[]> {
  return groupQuestions(await listUnanswered(db, window));
}

/**
 * The group that question `questionId` is in now (the grouping is recomputed: a button names a
 * group by one of its questions). Undefined when the question is drafted already or gone.
 */
export async function gapGroupOf(
  db: Executor,
  questionId: number,
  window: GapWindow,
): Promise<GapGroup | undefined> {
  return (await findGaps(db, window)).find((g) => g.questions.some((q) => q.id === questionId));
}

/** "2026-04-15": the day in the deployment's time zone (en-CA writes dates so). */
function localDay(now: Date, timezone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(now);
}

/** "gap-20260415-": the ids of the drafts made on that day (in the deployment's time zone). */
export function draftIdPrefix(now: Date, timezone: string): string {
  return `gap-${localDay(now, timezone).replaceAll("-", "")}-`;
}

export interface DraftInput {
  /** A question of the group (the one its button named). */
  questionId: number;
  days: number;
  lawyerUserId: number;
  /** The lawyer's language: question and answer are written in it. */
  lang: Locale;
  question: string;
  answer: string;
  timezone: string;
  now?: Date;
}

export type DraftResult =
  | { kind: "drafted"; entryId: string; questions: number }
  | { kind: "not_allowed" }
  /** The group's question was drafted meanwhile (another lawyer) or is gone. */
  | { kind: "gone" }
  | { kind: "invalid"; problems: string[] };

class Gone extends Error {}

/**
 * A draft FAQ entry from a group ("gap-<yyyymmdd>-<n>", topic "gaps", no source yet), and the
 * group's questions marked with it, in one transaction with its audit entry. The lawyer role is
 * checked in the database at that moment. Of two lawyers drafting from the same group at once,
 * one wins: the other's draft is rolled back.
 */
export async function draftFromGap(db: Database, input: DraftInput): Promise<DraftResult> {
  const now = input.now ?? new Date();
  const prefix = draftIdPrefix(now, input.timezone);
  let entry: ReturnType<typeof parseEntry>;
  try {
    entry = parseEntry({
      id: `${prefix}1`,
      topic: "gaps",
      question: { [input.lang]: storableText(input.question) },
      answer: { [input.lang]: storableText(input.answer) },
      source: "",
      lastChecked: localDay(now, input.timezone),
      status: "draft",
    });
  } catch (error) {
    if (error instanceof FaqValidationError) return { kind: "invalid", problems: error.problems };
    throw error;
  }
  try {
    return await db.transaction(async (tx) => {
      const lawyer = await tx
        .select({ userId: roleGrants.userId })
        .from(roleGrants)
        .where(
          and(
            eq(roleGrants.userId, input.lawyerUserId),
            inArray(roleGrants.role, ["lawyer", "admin"]),
          ),
        )
        .limit(1);
      if (lawyer.length === 0) return { kind: "not_allowed" } as const;
      const group = await gapGroupOf(tx, input.questionId, { days: input.days, now });
      if (!group) throw new Gone();
      const entryId = await insertDraft(tx, entry, prefix);
      const ids = group.questions.map((q) => q.id);
      const marked = await tx
        .update(faqUnanswered)
        .set({ draftEntryId: entryId })
        .where(and(inArray(faqUnanswered.id, ids), isNull(faqUnanswered.draftEntryId)))
        .returning({ id: faqUnanswered.id });
      // Another lawyer drafted from this group meanwhile: theirs stands, this one goes.
      if (!marked.some((m) => m.id === input.questionId)) throw new Gone();
      await recordAudit(tx, {
        actorUserId: input.lawyerUserId,
        actorLabel: "lawyer",
        action: "faq.gap.draft",
        details: { entryId, questions: marked.length },
      });
      return { kind: "drafted", entryId, questions: marked.length } as const;
    });
  } catch (error) {
    if (error instanceof Gone) return { kind: "gone" };
    throw error;
  }
}

/** Inserts the draft under the day's next free number; returns its id. */
async function insertDraft(
  tx: Executor,
  entry: ReturnType<typeof parseEntry>,
  prefix: string,
): Promise<string> {
  const taken = await tx
    .select({ id: faqEntries.id })
    .from(faqEntries)
    .where(like(faqEntries.id, `${prefix}%`));
  let n = Math.max(0, ...taken.map((r) => Number(r.id.slice(prefix.length)) || 0));
  for (;;) {
    n++;
    const id = `${prefix}${n}`;
    // A concurrent draft of the same day may take the number first: then the next one.
    const inserted = await tx
      .insert(faqEntries)
      .values(entryToRow({ ...entry, id }))
      .onConflictDoNothing()
      .returning({ id: faqEntries.id });
    if (inserted.length > 0) return id;
  }
}

/**
 * /forgetme: the unanswered questions are not linked to anyone, but those whose text is one of
 * the person's own records still held at this moment (their questions to the lawyers, a question
 * waiting for "send", their web chat transcript, their WhatsApp messages in the webhook inbox)
 * are theirs and go. Runs before those records are deleted.
 */
export async function forgetUnanswered(
  tx: Executor,
  person: {
    id: number;
    channel: string;
    channelUserId: string | null;
    channelAltId: string | null;
  },
  texts: readonly string[],
): Promise<number> {
  const own = new Set(texts.map((t) => storableText(t.trim())));
  const transcript = rowsOf<{ text: string | null }>(
    await tx.execute(sql`select payload->>'text' as text from webchat_messages
      where user_id = ${person.id} and not from_bot`),
  );
  const ids = [person.channelUserId, person.channelAltId].filter((v): v is string => !!v);
  const inbox =
    person.channel === "whatsapp" && ids.length > 0
      ? rowsOf<{ text: string | null }>(
          await tx.execute(sql`select payload->'message'->'text'->>'body' as text
            from whatsapp_inbox where ${inboxSentBy(ids)}`),
        )
      : [];
  for (const r of [...transcript, ...inbox]) if (r.text) own.add(storableText(r.text.trim()));
  own.delete("");
  if (own.size === 0) return 0;
  const gone = await tx
    .delete(faqUnanswered)
    .where(inArray(faqUnanswered.text, [...own]))
    .returning({ id: faqUnanswered.id });
  return gone.length;
}
