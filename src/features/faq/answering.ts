/**
 * Answering one question in the chat: the FAQ's answer with its source, date, feedback and
 * related entries, or, below the threshold, "I don't know" with whom to ask (residents) or the
 * lawyers (deputies and staff). Free text that nothing else took comes here (./handlers), and so
 * does a question typed in the middle of onboarding, once the person is set up.
 */
import type { AppContext, BotDeps } from "../../bot/context";
import { MAX_MESSAGE_LENGTH } from "../../channels/types";
import { isDeputyOrStaff, isLawyer } from "../../core/permissions";
import type { FaqAudience } from "../../db/schema/faq";
import { escapeHtml, formatDate } from "../../i18n";
import type { Locale } from "../../locales";
import { CONTACT_FIELDS } from "../municipalities/directory-file";
import { displayName, getMunicipality } from "../municipalities/service";
import type { Shown } from "./entries";
import { askerMunicipality, recordUnanswered } from "./gaps";
import { allowQuestion, savePending } from "./intake";
import { abstainKeyboard, answerKeyboard } from "./keyboards";
import { faqServiceOf } from "./service";

/** One limit for every message (the web chat's box counts down to it): Telegram's. */
export const MAX_QUESTION_LENGTH = MAX_MESSAGE_LENGTH;

/**
 * A Kyrgyz answer cites the law as the Kyrgyz texts name it; any other language (and an entry
 * without a Kyrgyz citation) keeps the Russian one, as the official Russian texts name it.
 */
function citation(e: Shown): string {
  return e.lang === "ky" && e.sourceKy ? e.sourceKy : e.source;
}

export function audienceOf(ctx: AppContext): FaqAudience {
  return isDeputyOrStaff(ctx.roles) || isLawyer(ctx.roles) ? "deputies_staff" : "everyone";
}

export function render(ctx: AppContext, e: Shown, timezone: string): string {
  const date = formatDate(new Date(`${e.lastChecked}T12:00:00Z`), ctx.locale, timezone);
  const lines = [`<b>${escapeHtml(e.question)}</b>`, "", escapeHtml(e.answer), ""];
  const source = citation(e);
  if (source) lines.push(ctx.t("faq.source", { source: escapeHtml(source) }));
  lines.push(ctx.t("faq.checked", { date }));
  return lines.join("\n");
}

/** The person's own aiyl okmotu or mayor's office, with its contacts when the directory has them. */
async function whomToAsk(deps: BotDeps, ctx: AppContext): Promise<string> {
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

/** Answers `text` as a question from the person behind `ctx` (see the module comment). */
export async function answerQuestion(deps: BotDeps, ctx: AppContext, text: string): Promise<void> {
  if (text.length > MAX_QUESTION_LENGTH) {
    await ctx.reply(ctx.t("errors.too_long", { length: text.length, max: MAX_QUESTION_LENGTH }));
    return;
  }
  if (!(await allowQuestion(deps.db, ctx.user.id))) {
    await ctx.reply(ctx.t("faq.rate_limited"));
    return;
  }
  const faq = faqServiceOf(deps.db);
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
  if (audience === "everyone") parts.push(await whomToAsk(deps, ctx));
  if (result.didYouMean.length > 0) parts.push(ctx.t("faq.did_you_mean"));
  if (pendingId !== undefined) parts.push(ctx.t("faq.escalate_offer"));
  const kb = abstainKeyboard(ctx.t, result.didYouMean, pendingId);
  await ctx.reply(parts.join("\n\n"), kb ? { reply_markup: kb } : {});
}

/** Whether a text typed where a step expected something else reads as a question. */
export { isQuestion as looksLikeQuestion } from "./search/framing";
