import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { isCommandMessage } from "../../bot/flows";
import { isDeputyOrStaff, isLawyer } from "../../core/permissions";
import { escapeHtml, formatDateTime } from "../../i18n";
import { answerQuestion, audienceOf, render } from "./answering";
import { FAQ_ANSWER, FAQ_PUBLISH } from "./conversations";
import { localizeEntry, visibleTo } from "./entries";
import {
  askerPlaces,
  escalatePending,
  getEscalation,
  listOpen,
  placeHtml,
  take,
} from "./escalation";
import { answerKeyboard, CB, queueKeyboard } from "./keyboards";
import { faqServiceOf } from "./service";

const QUEUE_PAGE = 10;
const QUEUE_PREVIEW = 300;

/** Free text that no conversation and no other handler took: a question. */
export function faqFreeText(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.on("message:text", async (ctx, next) => {
    if (isCommandMessage(ctx.message)) return next();
    const text = ctx.message.text.trim();
    if (!text) return next();
    await answerQuestion(deps, ctx, text);
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
