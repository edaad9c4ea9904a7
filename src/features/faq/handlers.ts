import { eq } from "drizzle-orm";
import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import type { Database } from "../../db/client";
import { roleGrants, users } from "../../db/schema";
import type { FaqAudience, FaqLang } from "../../db/schema/faq";
import { escapeHtml, formatDate, formatDateTime, translator } from "../../i18n";
import { isDeputyOrStaff, isLawyer } from "../roles/permissions";
import { FAQ_ANSWER, FAQ_PUBLISH, faqServiceOf } from "./conversations";
import type { FaqEntry } from "./entries";
import { escalate, getEscalation, listOpen, take } from "./escalation";
import { abstainKeyboard, answerKeyboard, CB_PATTERN, queueKeyboard } from "./keyboards";

/** Longer messages are not questions (and would only slow the search down). */
export const MAX_QUESTION_LENGTH = 1000;
/** Questions per user per window, kept in memory (per process). */
export const QUESTION_RATE = { max: 10, windowMs: 60_000 } as const;
/** How long the "send to the lawyers" button stays valid after the question. */
const PENDING_TTL_MS = 60 * 60_000;
const QUEUE_PAGE = 10;
const QUEUE_PREVIEW = 300;

/** Sliding-window limit per key. */
export class RateLimiter {
  private readonly hits = new Map<number, number[]>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt; false when the key is over its limit. */
  allow(key: number): boolean {
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.max) {
      this.hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) {
      for (const [k, ts] of this.hits)
        if (ts.every((t) => now - t >= this.windowMs)) this.hits.delete(k);
    }
    return true;
  }
}

interface Pending {
  text: string;
  lang: FaqLang;
  snapshot: Record<string, unknown>;
  expiresAt: number;
}

interface Shown {
  id: string;
  question: string;
  answer: string;
  source: string;
  lastChecked: string;
}

const FALLBACK: Record<FaqLang, FaqLang[]> = {
  ky: ["ky", "ru", "en"],
  ru: ["ru", "ky", "en"],
  en: ["en", "ru", "ky"],
};

function localizeEntry(e: FaqEntry, lang: FaqLang): Shown {
  const shown = FALLBACK[lang].find((l) => e.question[l] && e.answer[l]) ?? lang;
  return {
    id: e.id,
    question: e.question[shown] ?? "",
    answer: e.answer[shown] ?? "",
    source: e.source,
    lastChecked: e.lastChecked,
  };
}

function audienceOf(ctx: AppContext): FaqAudience {
  return isDeputyOrStaff(ctx.roles) || isLawyer(ctx.roles) ? "deputies_staff" : "everyone";
}

function isCommandMessage(ctx: AppContext): boolean {
  return ctx.message?.entities?.some((e) => e.type === "bot_command" && e.offset === 0) ?? false;
}

/** Chats of everyone holding the lawyer role, with their language. */
async function lawyerChats(db: Database): Promise<{ chatId: number; locale: string | null }[]> {
  const rows = await db
    .selectDistinct({ chatId: users.chatId, locale: users.locale })
    .from(roleGrants)
    .innerJoin(users, eq(users.id, roleGrants.userId))
    .where(eq(roleGrants.role, "lawyer"));
  return rows;
}

/**
 * The legal FAQ in the chat: free text is a question; answers carry source, date, feedback and
 * related entries; below the threshold the bot says so and deputies/staff may escalate to the
 * lawyers; lawyers work the queue with /queue.
 */
export function faqFeature(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const faq = faqServiceOf(deps);
  const limiter = new RateLimiter(QUESTION_RATE.max, QUESTION_RATE.windowMs);
  const pending = new Map<number, Pending>();

  function render(ctx: AppContext, e: Shown): string {
    const date = formatDate(
      new Date(`${e.lastChecked}T12:00:00Z`),
      ctx.locale,
      deps.config.timezone,
    );
    const lines = [`<b>${escapeHtml(e.question)}</b>`, "", escapeHtml(e.answer), ""];
    if (e.source) lines.push(ctx.t("faq.source", { source: escapeHtml(e.source) }));
    lines.push(ctx.t("faq.checked", { date }));
    return lines.join("\n");
  }

  async function notifyLawyers(ctx: AppContext, id: number, text: string): Promise<void> {
    for (const lawyer of await lawyerChats(deps.db)) {
      const tr = translator(
        lawyer.locale === "ky" || lawyer.locale === "en" ? lawyer.locale : "ru",
      );
      await ctx.api
        .sendMessage(lawyer.chatId, tr("faq.new_question", { id, text: escapeHtml(text) }), {
          parse_mode: "HTML",
        })
        .catch((err: unknown) =>
          deps.logger.warn({ err, chatId: lawyer.chatId }, "lawyer not notified"),
        );
    }
  }

  composer.on("message:text", async (ctx, next) => {
    if (isCommandMessage(ctx)) return next();
    const text = ctx.message.text.trim();
    if (!text) return next();
    if (text.length > MAX_QUESTION_LENGTH) {
      await ctx.reply(ctx.t("errors.too_long", { length: text.length, max: MAX_QUESTION_LENGTH }));
      return;
    }
    if (!limiter.allow(ctx.user.id)) {
      await ctx.reply(ctx.t("faq.rate_limited"));
      return;
    }
    const lang: FaqLang = ctx.locale;
    const result = await faq.search(text, { lang, audience: audienceOf(ctx) });
    if (!result.abstain && result.best) {
      pending.delete(ctx.user.id);
      await ctx.reply(render(ctx, result.best), {
        parse_mode: "HTML",
        reply_markup: answerKeyboard(ctx.t, result.best.id, result.related),
      });
      return;
    }
    const canEscalate = isDeputyOrStaff(ctx.roles);
    if (canEscalate) {
      pending.set(ctx.user.id, {
        text,
        lang,
        snapshot: {
          confidence: result.confidence,
          best: result.best?.id ?? null,
          ranking: result.ranking,
        },
        expiresAt: Date.now() + PENDING_TTL_MS,
      });
    }
    const parts = [ctx.t("faq.no_answer")];
    if (result.didYouMean.length > 0) parts.push(ctx.t("faq.did_you_mean"));
    if (canEscalate) parts.push(ctx.t("faq.escalate_offer"));
    const kb = abstainKeyboard(ctx.t, result.didYouMean, canEscalate);
    await ctx.reply(parts.join("\n\n"), kb ? { reply_markup: kb } : {});
  });

  // Related and "did you mean" entries. The audience is checked again: data can be forged.
  composer.callbackQuery(CB_PATTERN.show, async (ctx) => {
    const entry = await faq.getEntry(ctx.match[1]!);
    const visible =
      entry?.status === "published" &&
      (entry.audience === "everyone" || audienceOf(ctx) === "deputies_staff");
    if (!entry || !visible) return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    await ctx.answerCallbackQuery();
    const shown = localizeEntry(entry, ctx.locale);
    await ctx.reply(render(ctx, shown), {
      parse_mode: "HTML",
      reply_markup: answerKeyboard(ctx.t, entry.id, []),
    });
  });

  composer.callbackQuery(CB_PATTERN.feedback, async (ctx) => {
    const entry = await faq.getEntry(ctx.match[1]!);
    const visible =
      entry && (entry.audience === "everyone" || audienceOf(ctx) === "deputies_staff");
    if (!visible) return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    await faq.recordFeedback(entry.id, ctx.user.id, ctx.match[2] === "1");
    await ctx.answerCallbackQuery({ text: ctx.t("faq.thanks") });
  });

  composer.callbackQuery(CB_PATTERN.escalate, async (ctx) => {
    // Only deputies and staff may escalate, whatever buttons a client claims to have seen.
    if (!isDeputyOrStaff(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const question = pending.get(ctx.user.id);
    pending.delete(ctx.user.id);
    if (!question || question.expiresAt < Date.now()) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    }
    const municipalityId =
      ctx.user.municipalityId ??
      ctx.roles.find((r) => r.role !== "admin" && r.municipalityId !== null)?.municipalityId ??
      null;
    const row = await escalate(deps.db, {
      askerUserId: ctx.user.id,
      municipalityId,
      text: question.text,
      lang: question.lang,
      searchSnapshot: question.snapshot,
    });
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t("faq.escalated", { id: row.id }));
    deps.logger.info({ questionId: row.id, userId: ctx.user.id }, "faq question escalated");
    // Sent directly: the durable delivery engine is not used for these notifications yet.
    await notifyLawyers(ctx, row.id, row.text);
  });

  composer.command("queue", async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      await ctx.reply(ctx.t("errors.not_allowed"));
      return;
    }
    const open = await listOpen(deps.db, QUEUE_PAGE);
    if (open.length === 0) {
      await ctx.reply(ctx.t("faq.queue_empty"));
      return;
    }
    const items = open.map((q) => {
      const preview =
        q.text.length > QUEUE_PREVIEW ? `${q.text.slice(0, QUEUE_PREVIEW - 1)}…` : q.text;
      return ctx.t("faq.queue_item", {
        id: q.id,
        date: formatDateTime(q.createdAt, ctx.locale, deps.config.timezone),
        text: escapeHtml(preview),
      });
    });
    await ctx.reply([ctx.t("faq.queue_title"), ...items].join("\n\n"), {
      parse_mode: "HTML",
      reply_markup: queueKeyboard(
        ctx.t,
        open.map((q) => q.id),
      ),
    });
  });

  composer.callbackQuery(CB_PATTERN.take, async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const questionId = Number(ctx.match[1]);
    const row = await take(deps.db, questionId, ctx.user.id);
    if (!row) {
      return ctx.answerCallbackQuery({ text: ctx.t("faq.taken_by_other"), show_alert: true });
    }
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t("faq.taken", { id: row.id, text: escapeHtml(row.text) }), {
      parse_mode: "HTML",
    });
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(FAQ_ANSWER, row.id);
  });

  // "Publish as FAQ" after an answer: any lawyer, for an answered question only.
  composer.callbackQuery(CB_PATTERN.publish, async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const row = await getEscalation(deps.db, Number(ctx.match[1]));
    if (row?.status !== "answered") {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(FAQ_PUBLISH, row.id);
  });

  return composer;
}
