import { Composer, InlineKeyboard } from "grammy";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask } from "../../bot/conversation-kit";
import { flow } from "../../bot/flows";
import { recordAudit } from "../../core/audit";
import type { FaqAudience } from "../../db/schema/faq";
import { escapeHtml } from "../../i18n";
import { FaqValidationError, parseEntry } from "./entries";
import { answer, getEscalation, mayActAsLawyer } from "./escalation";
import { CB } from "./keyboards";
import { faqServiceOf } from "./service";

export const FAQ_ANSWER = "faqAnswer";
export const FAQ_PUBLISH = "faqPublish";

/** Longest lawyer's answer accepted in one message (Telegram's own limit is 4096). */
export const MAX_ANSWER_LENGTH = 3500;

/**
 * A lawyer who took question `questionId` types the answer and sees it once more with "Send",
 * "Edit" and "Cancel"; only "Send" stores it (audit-logged) and hands it to the delivery engine
 * for the asker. Typing again replaces the draft; an older draft's buttons are stale. Any
 * command or another button ends the flow and is handled as usual; the question stays taken by
 * this lawyer, whose reminder (or the "cancel" message) has a button to take it up again.
 */
export function faqAnswerConversation(deps: BotDeps) {
  return async function faqAnswer(
    conversation: AppConversation,
    ctx: ConvContext,
    questionId: number,
  ) {
    const lawyerId = await conversation.external((outer) => outer.user.id);
    await ctx.reply(ctx.t("faq.type_answer", { id: questionId }));
    let draft: string | undefined;
    let drafts = 0;
    for (;;) {
      const next = await conversation.wait();
      const data = next.callbackQuery?.data;
      const pressed = data === undefined ? undefined : CB.draft.match(data);
      if (pressed) {
        if (draft === undefined || pressed.draft !== drafts) {
          await next.answerCallbackQuery({ text: next.t("errors.stale_button") });
          continue;
        }
        await next.answerCallbackQuery();
        await next.editMessageReplyMarkup().catch(() => {});
        if (pressed.action === "edit") {
          draft = undefined;
          await next.reply(next.t("faq.answer_retype"));
          continue;
        }
        if (pressed.action === "cancel") {
          await next.reply(next.t("faq.answer_cancelled", { id: questionId }), {
            reply_markup: new InlineKeyboard().text(
              next.t("faq.resume_button", { id: questionId }),
              CB.take.pack({ questionId }),
            ),
          });
          return;
        }
        // Stored, audit-logged and enqueued for the asker on the delivery engine in one
        // transaction, with the lawyer role checked in the database at this moment; the engine
        // sends it (rate-limited, retried) whatever happens to this process.
        const text = draft;
        const result = await conversation.external(async () => {
          const r = await answer(deps.db, questionId, lawyerId, text);
          return r ? { queued: r.queued } : undefined;
        });
        if (!result) {
          await next.reply(next.t("faq.answer_failed"));
          return;
        }
        await next.reply(
          next.t(result.queued ? "faq.answer_sent" : "faq.answer_undelivered", { id: questionId }),
          {
            reply_markup: new InlineKeyboard().text(
              next.t("faq.publish_button"),
              CB.publish.pack({ questionId }),
            ),
          },
        );
        return;
      }
      if (data !== undefined) await conversation.halt({ next: true });
      const text = next.message?.text?.trim();
      if (!text) {
        await next.reply(next.t("faq.text_only"));
        continue;
      }
      if (text.length > MAX_ANSWER_LENGTH) {
        await next.reply(
          next.t("errors.too_long", { length: text.length, max: MAX_ANSWER_LENGTH }),
        );
        continue;
      }
      // Shown back as typed (the asker reads it so too); a newer text replaces the draft.
      draft = text;
      drafts += 1;
      await next.reply(next.t("faq.answer_preview", { id: questionId, answer: escapeHtml(text) }), {
        parse_mode: "HTML",
        reply_markup: new InlineKeyboard()
          .text(next.t("faq.answer_send"), CB.draft.pack({ action: "send", draft: drafts }))
          .text(next.t("faq.answer_edit"), CB.draft.pack({ action: "edit", draft: drafts }))
          .row()
          .text(next.t("common.cancel"), CB.draft.pack({ action: "cancel", draft: drafts })),
      });
    }
  };
}

type Step = { kind: "text"; text: string } | { kind: "button"; data: string };

/** Waits for text or one of `buttons`; commands and other buttons end the flow. */
async function step(conversation: AppConversation, buttons: RegExp): Promise<Step> {
  const answer = await ask(conversation, {
    buttons,
    otherButtons: "end",
    acceptText: true,
    maxLength: MAX_ANSWER_LENGTH,
    onOther: (ctx) => ctx.reply(ctx.t("faq.text_only")),
  });
  if (answer.kind === "button") return { kind: "button", data: answer.data };
  if (answer.kind === "text") return { kind: "text", text: answer.text };
  throw new Error(`unexpected answer ${answer.kind}`);
}

/**
 * "Publish as FAQ": the lawyer edits question and answer in ky and ru (keeping the asked
 * question and the given answer with one press), the source and the audience, then publishes;
 * the next search finds the entry. Audit-logged.
 */
export function faqPublishConversation(deps: BotDeps) {
  return async function faqPublish(
    conversation: AppConversation,
    ctx: ConvContext,
    questionId: number,
  ) {
    const lawyerId = await conversation.external((outer) => outer.user.id);
    const q = await conversation.external(async () => {
      const row = await getEscalation(deps.db, questionId);
      return row?.status === "answered"
        ? { text: row.text, answer: row.answerText ?? "", lang: row.lang, m: row.municipalityId }
        : undefined;
    });
    if (!q) {
      await ctx.reply(ctx.t("errors.stale_button"));
      return;
    }
    const t = ctx.t;
    async function field(prompt: string, keep: string | undefined): Promise<string | undefined> {
      const kb = new InlineKeyboard();
      if (keep) kb.text(t("faq.publish_keep"), CB.publishStep.pack({ choice: "keep" }));
      kb.text(t("faq.publish_skip"), CB.publishStep.pack({ choice: "skip" }));
      const shown = keep ? `${prompt}\n\n<i>${escapeHtml(keep)}</i>` : prompt;
      await ctx.reply(shown, { parse_mode: "HTML", reply_markup: kb });
      const got = await step(conversation, CB.publishStep.filter({ choice: ["keep", "skip"] }));
      if (got.kind === "text") return got.text;
      return CB.publishStep.unpack(got.data).choice === "keep" ? keep : undefined;
    }
    const ruQ = await field(
      t("faq.publish_question", { lang: "RU" }),
      q.lang === "ru" ? q.text : undefined,
    );
    const ruA = await field(
      t("faq.publish_answer", { lang: "RU" }),
      q.lang === "ru" ? q.answer : undefined,
    );
    const kyQ = await field(
      t("faq.publish_question", { lang: "KY" }),
      q.lang === "ky" ? q.text : undefined,
    );
    const kyA = await field(
      t("faq.publish_answer", { lang: "KY" }),
      q.lang === "ky" ? q.answer : undefined,
    );
    await ctx.reply(t("faq.publish_source"));
    let source = "";
    for (;;) {
      const got = await step(conversation, /^$/);
      if (got.kind === "text") {
        source = got.text;
        break;
      }
    }
    await ctx.reply(t("faq.publish_audience"), {
      reply_markup: new InlineKeyboard()
        .text(t("faq.audience_everyone"), CB.publishAudience.pack({ audience: "everyone" }))
        .text(t("faq.audience_deputies"), CB.publishAudience.pack({ audience: "deputies_staff" })),
    });
    const aud = await step(conversation, CB.publishAudience.filter());
    const audience: FaqAudience =
      aud.kind === "button" ? CB.publishAudience.unpack(aud.data).audience : "everyone";
    const today = await conversation.now();
    const raw = {
      id: `lawyer-q${questionId}`,
      topic: "lawyers",
      question: { ...(ruQ ? { ru: ruQ } : {}), ...(kyQ ? { ky: kyQ } : {}) },
      answer: { ...(ruA ? { ru: ruA } : {}), ...(kyA ? { ky: kyA } : {}) },
      source,
      // en-CA formats as YYYY-MM-DD; the day is the deployment's, not UTC's.
      lastChecked: new Intl.DateTimeFormat("en-CA", { timeZone: deps.config.timezone }).format(
        new Date(today),
      ),
      audience,
      status: "published",
    };
    let entry: ReturnType<typeof parseEntry>;
    try {
      entry = parseEntry(raw);
    } catch (error) {
      if (!(error instanceof FaqValidationError)) throw error;
      await ctx.reply(t("faq.publish_invalid"));
      return;
    }
    await ctx.reply(t("faq.publish_confirm"), {
      reply_markup: new InlineKeyboard()
        .text(t("faq.publish_button"), CB.publishStep.pack({ choice: "ok" }))
        .text(t("common.cancel"), CB.publishStep.pack({ choice: "no" })),
    });
    const confirm = await step(conversation, CB.publishStep.filter({ choice: ["ok", "no"] }));
    if (confirm.kind !== "button" || CB.publishStep.unpack(confirm.data).choice !== "ok") {
      await ctx.reply(t("faq.publish_cancelled"));
      return;
    }
    const published = await conversation.external(async () => {
      // Checked again on the server at the moment of publishing: the role may have been revoked.
      if (!(await mayActAsLawyer(deps.db, lawyerId))) return false;
      await faqServiceOf(deps.db).publish(entry);
      await recordAudit(deps.db, {
        actorUserId: lawyerId,
        actorLabel: "lawyer",
        action: "faq.publish",
        municipalityId: q.m,
        details: { entryId: entry.id, questionId },
      });
      return true;
    });
    await ctx.reply(published ? t("faq.published", { id: entry.id }) : t("errors.not_allowed"));
  };
}

export function faqConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(faqAnswerConversation(deps), FAQ_ANSWER));
  composer.use(flow(faqPublishConversation(deps), FAQ_PUBLISH));
  return composer;
}
