/**
 * The FAQ entry as it travels in and out of the app (import/export files, the shipped corpus),
 * its validation, and its mapping to and from database rows.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  FAQ_AUDIENCES,
  FAQ_STATUSES,
  type FaqAudience,
  type FaqEntryRow,
  type FaqPhrasings,
  type FaqStatus,
} from "../../db/schema/faq";
import { LOCALES, type Locale } from "../../locales";

export type LangText = Partial<Record<Locale, string>>;

export interface FaqEntry {
  id: string;
  topic: string;
  question: LangText;
  answer: LangText;
  source: string;
  /** The citation as the official Kyrgyz texts write it; empty: shown as `source`. */
  sourceKy?: string;
  /** YYYY-MM-DD: when a lawyer last checked the answer against the law. */
  lastChecked: string;
  audience: FaqAudience;
  status: FaqStatus;
  tags: string[];
  phrasings: FaqPhrasings;
  /** Points next to this entry that it does not answer (words per language). */
  notCovered?: FaqPhrasings;
  /** Neighbouring entries people confuse with this one. */
  seeAlso?: string[];
}

/**
 * SOURCES.md of the shipped demo corpus gives no check date. The newest fact it cites is the
 * bill of March 2026 (appeal-response-deadline), so the corpus as a whole is dated to the end
 * of that month. A deployment's lawyers re-check the entries and set their own dates.
 */
export const SHIPPED_CORPUS_CHECKED = "2026-03-31";

const SHIPPED_FAQ = new URL("./data/faq.json", import.meta.url);
const SHIPPED_PHRASINGS = new URL("./data/phrasings.json", import.meta.url);

const text = z.string().trim().min(1);
const langText = z
  .object({ ky: text.optional(), ru: text.optional(), en: text.optional() })
  .strict();
const langList = z
  .object({
    ky: z.array(text).optional(),
    ru: z.array(text).optional(),
    en: z.array(text).optional(),
  })
  .strict();

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), "is not a real date");

/** Accepts the export format and the shipped corpus format (keywords per language). */
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, "must be a slug like appeal-language");

const entrySchema = z
  .object({
    id: slug,
    topic: text,
    question: langText,
    answer: langText,
    source: z.string().trim().default(""),
    sourceKy: z.string().trim().default(""),
    lastChecked: isoDate.optional(),
    audience: z.enum(FAQ_AUDIENCES).default("everyone"),
    status: z.enum(FAQ_STATUSES).default("published"),
    tags: z.array(text).default([]),
    keywords: langList.optional(),
    phrasings: langList.default({}),
    notCovered: langList.default({}),
    seeAlso: z.array(slug).default([]),
  })
  .strict()
  .superRefine((e, ctx) => {
    const complete = LOCALES.some((l) => e.question[l] && e.answer[l]);
    if (!complete) {
      ctx.addIssue({
        code: "custom",
        path: ["question"],
        message: "needs a question and an answer in at least one language",
      });
    }
  });

export class FaqValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Validates one raw entry; throws a list of readable problems. */
export function parseEntry(raw: unknown, defaultChecked = SHIPPED_CORPUS_CHECKED): FaqEntry {
  const result = entrySchema.safeParse(raw);
  if (!result.success) {
    throw new FaqValidationError(
      result.error.issues.map((i) => `${i.path.join(".") || "entry"}: ${i.message}`),
    );
  }
  const e = result.data;
  const tags = [...e.tags];
  for (const l of LOCALES) {
    for (const k of e.keywords?.[l] ?? []) if (!tags.includes(k)) tags.push(k);
  }
  return {
    id: e.id,
    topic: e.topic,
    question: e.question,
    answer: e.answer,
    source: e.source,
    sourceKy: e.sourceKy,
    lastChecked: e.lastChecked ?? defaultChecked,
    audience: e.audience,
    status: e.status,
    tags,
    phrasings: e.phrasings,
    notCovered: e.notCovered,
    seeAlso: e.seeAlso.filter((id) => id !== e.id),
  };
}

/** The demo corpus shipped with the app, with its alternative phrasings merged in. */
export function loadShippedFaq(): FaqEntry[] {
  const raw = JSON.parse(readFileSync(SHIPPED_FAQ, "utf8")) as Record<string, unknown>[];
  const phrasings = JSON.parse(readFileSync(SHIPPED_PHRASINGS, "utf8")) as Record<
    string,
    FaqPhrasings
  >;
  return raw.map((r) => parseEntry({ ...r, phrasings: phrasings[String(r.id)] ?? {} }));
}

export function entryToRow(e: FaqEntry): Omit<FaqEntryRow, "createdAt" | "updatedAt"> {
  return {
    id: e.id,
    topic: e.topic,
    questionKy: e.question.ky ?? null,
    questionRu: e.question.ru ?? null,
    questionEn: e.question.en ?? null,
    answerKy: e.answer.ky ?? null,
    answerRu: e.answer.ru ?? null,
    answerEn: e.answer.en ?? null,
    source: e.source,
    sourceKy: e.sourceKy ?? "",
    lastCheckedAt: e.lastChecked,
    audience: e.audience,
    tags: e.tags,
    status: e.status,
    phrasings: e.phrasings,
    notCovered: e.notCovered ?? {},
    seeAlso: e.seeAlso ?? [],
  };
}

export function rowToEntry(r: FaqEntryRow): FaqEntry {
  const pick = (ky: string | null, ru: string | null, en: string | null): LangText => {
    const out: LangText = {};
    if (ky !== null) out.ky = ky;
    if (ru !== null) out.ru = ru;
    if (en !== null) out.en = en;
    return out;
  };
  return {
    id: r.id,
    topic: r.topic,
    question: pick(r.questionKy, r.questionRu, r.questionEn),
    answer: pick(r.answerKy, r.answerRu, r.answerEn),
    source: r.source,
    sourceKy: r.sourceKy,
    lastChecked: r.lastCheckedAt,
    audience: r.audience,
    status: r.status,
    tags: r.tags,
    phrasings: r.phrasings,
    notCovered: r.notCovered,
    seeAlso: r.seeAlso,
  };
}

const LANGUAGE_FALLBACK: Record<Locale, readonly Locale[]> = {
  ky: ["ky", "ru", "en"],
  ru: ["ru", "ky", "en"],
  en: ["en", "ru", "ky"],
};

/**
 * The language to show an entry in: the asker's when the entry has both question and answer in
 * it, else the nearest one it has (Kyrgyz and Russian stand in for each other, English last).
 */
export function shownLanguage(e: FaqEntry, lang: Locale): Locale {
  return LANGUAGE_FALLBACK[lang].find((l) => e.question[l] && e.answer[l]) ?? lang;
}

/** An entry as shown to one asker: question, answer and citations in one language. */
export interface Shown {
  id: string;
  /** The language question and answer are in (the asker's, or a fallback). */
  lang: Locale;
  question: string;
  answer: string;
  source: string;
  /** The citation as the official Kyrgyz texts write it; empty when the entry has none. */
  sourceKy: string;
  lastChecked: string;
}

export function localizeEntry(e: FaqEntry, lang: Locale): Shown {
  const shown = shownLanguage(e, lang);
  return {
    id: e.id,
    lang: shown,
    question: e.question[shown] ?? "",
    answer: e.answer[shown] ?? "",
    source: e.source,
    sourceKy: e.sourceKy ?? "",
    lastChecked: e.lastChecked,
  };
}

/** Whether an asker of `audience` may see the entry (published, and meant for them). */
export function visibleTo(e: FaqEntry, audience: FaqAudience): boolean {
  return e.status === "published" && (e.audience === "everyone" || audience === "deputies_staff");
}
