import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { isCommandMessage } from "../../bot/flows";
import { MAX_MESSAGE_LENGTH } from "../../channels/types";
import { isDeputyOrStaff, isLawyer } from "../../core/permissions";
import type { FaqAudience } from "../../db/schema/faq";
import { escapeHtml, formatDate, formatDateTime } from "../../i18n";
import type { Locale } from "../../locales";
import { CONTACT_FIELDS } from "../municipalities/directory-file";
import { displayName, getMunicipality } from "../municipalities/service";
import { FAQ_ANSWER, FAQ_PUBLISH } from "./conversations";
import { type FaqEntry, shownLanguage } from "./entries";
import {
  askerPlaces,
  escalatePending,
  getEscalation,
  listOpen,
  placeHtml,
  take,
} from "./escalation";
import { askerMunicipality, recordUnanswered } from "./gaps";
import { allowQuestion, savePending } from "./intake";
import { abstainKeyboard, answerKeyboard, CB, queueKeyboard } from "./keyboards";
import { faqServiceOf } from "./service";

/** One limit for every message (the web chat's box counts down to it): Telegram's. */
export const MAX_QUESTION_LENGTH = MAX_MESSAGE_LENGTH;
const QUEUE_PAGE = 10;
const QUEUE_PREVIEW = 300;

interface Shown {
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

function localizeEntry(e: FaqEntry, lang: Locale): Shown {
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

/**
 * A Kyrgyz answer cites the law as the Kyrgyz texts name it; any other language (and an entry
 * without a Kyrgyz citation) keeps the Russian one, as the official Russian texts name it.
 */
function citation(e: Shown): string {
  return e.lang === "ky" && e.sourceKy ? e.sourceKy : e.source;
}

function audienceOf(ctx: AppContext): FaqAudience {
  return isDeputyOrStaff(ctx.roles) || isLawyer(ctx.roles) ? "deputies_staff" : "everyone";
}

function visibleTo(e: FaqEntry, audience: FaqAudience): boolean {
  return e.status === "published" && (e.audience === "everyone" || audience === "deputies_staff");
}

/**
 * The legal FAQ in the chat: free text is a question; answers carry source, date, feedback and
 * related entries; below the threshold the bot says so and deputies/staff may escalate to the
 * lawyers; lawyers work the queue with /queue.
 */
function render(ctx: AppContext, e: Shown, timezone: string): string {
  const date = formatDate(new Date(`${e.lastChecked}T12:00:00Z`), ctx.locale, timezone);
  const lines = [`<b>${escapeHtml(e.question)}</b>`, "", escapeHtml(e.answer), ""];
  const source = citation(e);
  if (source) lines.push(ctx.t("faq.source", { source: escapeHtml(source) }));
  lines.push(ctx.t("faq.checked", { date }));
  return lines.join("\n");
}

/** Free text that no conversation and no other handler took: a question. */
export function faqFreeText(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const faq = faqServiceOf(deps.db);

  /** The person's own aiyl okmotu or mayor's office, with its contacts when the directory has them. */
  async function whomToAsk(ctx: AppContext): Promise<string> {
    const id = ctx.user.municipalityId;
    const m = id === null ? undefined : await getMunicipality(deps.db, id);
    if (!m) return ctx.t("faq.ask_anywhere");
    const name = displayName(m, ctx.locale);
    const lines = [ctx.t(m.kind === "city" ? "faq.ask_city" : "faq.ask_aiyl_aimak", { name })];
    for (const field of CONTACT_FIELDS) {
      const value = m[field];
      if (value) lines.push(ctx.t(`faq.contact_${field}`, { value }));
    }
    return lines.join("\n");
  }

  composer.on("message:text", async (ctx, next) => {
    if (isCommandMessage(ctx.message)) return next();
    const text = ctx.message.text.trim();
    if (!text) return next();
    if (text.length > MAX_QUESTION_LENGTH) {
      await ctx.reply(ctx.t("errors.too_long", { length: text.length, max: MAX_QUESTION_LENGTH }));
      return;
    }
    if (!(await allowQuestion(deps.db, ctx.user.id))) {
      await ctx.reply(ctx.t("faq.rate_limited"));
      return;
    }
    const lang: Locale = ctx.locale;
    const audience = audienceOf(ctx);
    const result = await faq.search(text, { lang, audience });
    if (!result.abstain && result.best) {
      const best = result.best;
      const seeAlso = faq.seeAlsoOf(best.seeAlso, lang, audience);
      await ctx.reply(render(ctx, best, deps.config.timezone), {
        parse_mode: "HTML",
        reply_markup: answerKeyboard(ctx.t, best.id, result.related, seeAlso),
      });
      return;
    }
    // Kept for the lawyers' /gaps with its language and municipality only, not who asked.
    await recordUnanswered(deps.db, {
      text,
      lang,
      municipalityId: askerMunicipality(ctx.user.municipalityId, ctx.roles),
    });
    // Deputies and staff may send it to the lawyers: the question waits in the database (so any
    // instance, after any restart, can escalate it) and the button carries its id.
    const pendingId = isDeputyOrStaff(ctx.roles)
      ? await savePending(deps.db, {
          userId: ctx.user.id,
          text,
          lang,
          searchSnapshot: {
            confidence: result.confidence,
            best: result.best?.id ?? null,
            ranking: result.ranking,
          },
        })
      : undefined;
    const parts = [ctx.t("faq.no_answer")];
    // Residents are told whom to ask instead (deputies and staff are offered the lawyers,
    // lawyers need neither).
    if (audience === "everyone") parts.push(await whomToAsk(ctx));
    if (result.didYouMean.length > 0) parts.push(ctx.t("faq.did_you_mean"));
    if (pendingId !== undefined) parts.push(ctx.t("faq.escalate_offer"));
    const kb = abstainKeyboard(ctx.t, result.didYouMean, pendingId);
    await ctx.reply(parts.join("\n\n"), kb ? { reply_markup: kb } : {});
  });
  return composer;
}

/** The FAQ's buttons (related entries, feedback, escalation) and the lawyers' /queue. */
export function faqHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const faq = faqServiceOf(deps.db);

  // Related and "did you mean" entries. The audience is checked again: data can be forged.
  composer.callbackQuery(CB.show.filter(), async (ctx) => {
    const { entryId } = CB.show.unpack(ctx.callbackQuery.data);
    const entry = await faq.getEntry(entryId);
    const audience = audienceOf(ctx);
    if (!entry || !visibleTo(entry, audience))
      return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    await ctx.answerCallbackQuery();
    const shown = localizeEntry(entry, ctx.locale);
    const seeAlso = faq.seeAlsoOf(entry.seeAlso ?? [], ctx.locale, audience);
    await ctx.reply(render(ctx, shown, deps.config.timezone), {
      parse_mode: "HTML",
      reply_markup: answerKeyboard(ctx.t, entry.id, [], seeAlso),
    });
  });

  composer.callbackQuery(CB.feedback.filter(), async (ctx) => {
    const { entryId, helpful } = CB.feedback.unpack(ctx.callbackQuery.data);
    const entry = await faq.getEntry(entryId);
    const visible =
      entry && (entry.audience === "everyone" || audienceOf(ctx) === "deputies_staff");
    if (!visible) return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    // One vote per person and entry: a second press replaces the first, and the answer says so.
    const { previous } = await faq.recordFeedback(entry.id, ctx.user.id, helpful);
    const changed = previous !== undefined && previous !== helpful;
    await ctx.answerCallbackQuery({
      text: ctx.t(`faq.feedback_${changed ? "changed" : "saved"}_${helpful ? 1 : 0}`),
    });
  });

  composer.callbackQuery([CB.escalate.filter(), CB.escalateWithoutId.filter()], async (ctx) => {
    // Only deputies and staff may escalate, whatever buttons a client claims to have seen.
    if (!isDeputyOrStaff(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const pendingId = CB.escalate.match(ctx.callbackQuery.data)?.pendingId;
    const municipalityId =
      ctx.user.municipalityId ??
      ctx.roles.find((r) => r.role !== "admin" && r.municipalityId !== null)?.municipalityId ??
      null;
    // Consumed once, only by its own asker, only before it expires; the lawyers are notified
    // through the delivery engine in the same transaction.
    const row =
      pendingId === undefined
        ? undefined
        : await escalatePending(deps.db, { pendingId, askerUserId: ctx.user.id, municipalityId });
    if (!row) return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t("faq.escalated", { id: row.id }));
    ctx.log.info({ questionId: row.id, userId: ctx.user.id }, "faq question escalated");
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
    const places = await askerPlaces(
      deps.db,
      open.map((q) => q.municipalityId),
    );
    const items = open.map((q) => {
      const preview =
        q.text.length > QUEUE_PREVIEW ? `${q.text.slice(0, QUEUE_PREVIEW - 1)}…` : q.text;
      return ctx.t("faq.queue_item", {
        id: q.id,
        date: formatDateTime(q.createdAt, ctx.locale, deps.config.timezone),
        municipality: placeHtml(places, q.municipalityId, ctx.locale),
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

  composer.callbackQuery(CB.take.filter(), async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const { questionId } = CB.take.unpack(ctx.callbackQuery.data);
    const row = await take(deps.db, questionId, ctx.user.id);
    if (!row) {
      return ctx.answerCallbackQuery({ text: ctx.t("faq.taken_by_other"), show_alert: true });
    }
    await ctx.answerCallbackQuery();
    const places = await askerPlaces(deps.db, [row.municipalityId]);
    const municipality = placeHtml(places, row.municipalityId, ctx.locale);
    await ctx.reply(ctx.t("faq.taken", { id: row.id, municipality, text: escapeHtml(row.text) }), {
      parse_mode: "HTML",
    });
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(FAQ_ANSWER, row.id);
  });

  // "Publish as FAQ" after an answer: any lawyer, for an answered question only.
  composer.callbackQuery(CB.publish.filter(), async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const { questionId } = CB.publish.unpack(ctx.callbackQuery.data);
    const row = await getEscalation(deps.db, questionId);
    if (row?.status !== "answered") {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(FAQ_PUBLISH, row.id);
  });

  return composer;
}
