/**
 * /gaps in the chat: lawyers and admins see what the FAQ could not answer, grouped, and draft a
 * new entry from a group in a short conversation. Roles are checked on the server at every step
 * (the command, the button, and in the database when the draft is saved).
 */
import { Composer, InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask } from "../../bot/conversation-kit";
import { flow } from "../../bot/flows";
import { MAX_MESSAGE_LENGTH } from "../../channels/types";
import { isLawyer } from "../../core/permissions";
import { escapeHtml, formatDate, type TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { MAX_ANSWER_LENGTH } from "./conversations";
import { previewHtml } from "./escalation";
import {
  draftFromGap,
  findGaps,
  GAPS_DEFAULT_DAYS,
  GAPS_MAX_DAYS,
  type GapGroup,
  gapGroupOf,
  typicalQuestion,
} from "./gaps";

export const FAQ_GAP_DRAFT = "faqGapDraft";

/** Groups listed by /gaps (one button each). */
export const GAPS_SHOWN = 10;
/** An example question is cut to this many characters in the list, so ten groups fit. */
const EXAMPLE_PREVIEW = 90;
/** A FAQ question wording is one sentence or two, not an answer. */
const MAX_WORDING_LENGTH = 500;

export const GAP_CB = {
  /** Draft an entry from the group that question `questionId` is in (of the last `days` days). */
  draft: callbackData("faq:gap", { questionId: field.int(), days: field.int({ maxDigits: 3 }) }),
  step: callbackData("faq:gap:s", { choice: field.oneOf(["keep", "save", "cancel"]) }),
} as const;

const codes = (langs: readonly Locale[]) => langs.map((l) => l.toUpperCase()).join(", ");

/** A question on one line, cut and escaped. */
function preview(text: string, max: number): string {
  return previewHtml(text.replace(/\s+/g, " ").trim(), max);
}

/** "/gaps" or "/gaps 90": the days, or undefined when the argument is not a day count. */
export function parseDays(arg: string): number | undefined {
  const text = arg.trim();
  if (text === "") return GAPS_DEFAULT_DAYS;
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const days = Number(text);
  return days >= 1 && days <= GAPS_MAX_DAYS ? days : undefined;
}

/** The /gaps message: the top groups with up to three examples each, fitting one message. */
export function gapsMessage(
  t: TFunction,
  locale: Locale,
  timezone: string,
  groups: readonly GapGroup[],
  days: number,
  since: Date,
): string {
  const shown = groups.slice(0, GAPS_SHOWN);
  const total = groups.reduce((n, g) => n + g.size, 0);
  const date = (d: Date) => formatDate(d, locale, timezone);
  const head = t("faq.gaps_title", { days, date: date(since), total });
  // Ten groups with three long examples each may not fit one message: fewer examples then.
  for (let examples = 3; ; examples--) {
    const blocks = shown.map((g, i) => {
      const first = date(g.firstAsked);
      const last = date(g.lastAsked);
      const line = t("faq.gaps_group", {
        n: i + 1,
        size: g.size,
        languages: codes(g.languages),
        places: g.municipalities,
        dates: first === last ? first : `${first} – ${last}`,
      });
      const quoted = g.examples.slice(0, examples).map((e) => `«${preview(e, EXAMPLE_PREVIEW)}»`);
      return [line, ...quoted].join("\n");
    });
    const more =
      groups.length > shown.length
        ? [t("faq.gaps_more", { groups: groups.length - shown.length })]
        : [];
    const text = [head, ...blocks, ...more, t("faq.gaps_hint")].join("\n\n");
    if (text.length <= MAX_MESSAGE_LENGTH || examples === 1) return text;
  }
}

export function gapsKeyboard(
  t: TFunction,
  groups: readonly GapGroup[],
  days: number,
): InlineKeyboard {
  const kb = new InlineKeyboard();
  groups.slice(0, GAPS_SHOWN).forEach((g, i) => {
    kb.text(
      t("faq.gaps_draft_button", { n: i + 1 }),
      GAP_CB.draft.pack({ questionId: g.questions[0]!.id, days }),
    ).row();
  });
  return kb;
}

/** /gaps [days] and its buttons: lawyers and admins only. */
export function faqGapsHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  composer.command("gaps", async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      await ctx.reply(ctx.t("errors.not_allowed"));
      return;
    }
    const days = parseDays(ctx.match);
    if (days === undefined) {
      await ctx.reply(ctx.t("faq.gaps_usage", { max: GAPS_MAX_DAYS, days: GAPS_DEFAULT_DAYS }));
      return;
    }
    const now = new Date();
    const since = new Date(now.getTime() - days * 86_400_000);
    const groups = await findGaps(deps.db, { days, now });
    const tz = deps.config.timezone;
    if (groups.length === 0) {
      await ctx.reply(ctx.t("faq.gaps_none", { days, date: formatDate(since, ctx.locale, tz) }));
      return;
    }
    await ctx.reply(gapsMessage(ctx.t, ctx.locale, tz, groups, days, since), {
      parse_mode: "HTML",
      reply_markup: gapsKeyboard(ctx.t, groups, days),
    });
  });

  // The button only names a group: the role is checked again, the group looked up afresh.
  composer.callbackQuery(GAP_CB.draft.filter(), async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const { questionId, days } = GAP_CB.draft.unpack(ctx.callbackQuery.data);
    if (days < 1 || days > GAPS_MAX_DAYS) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(FAQ_GAP_DRAFT, questionId, days);
  });

  return composer;
}

type Choice = "keep" | "save" | "cancel";
type Step = { kind: "text"; text: string } | { kind: Choice };

/** Waits for text (when `acceptText`) or one of the step buttons; commands end the flow. */
async function step(
  conversation: AppConversation,
  choices: readonly Choice[],
  acceptText: false | number,
): Promise<Step> {
  const answer = await ask(conversation, {
    buttons: GAP_CB.step.filter({ choice: choices }),
    otherButtons: "end",
    clearKeyboard: true,
    acceptText: acceptText !== false,
    maxLength: acceptText === false ? undefined : acceptText,
    onOther: (ctx) =>
      ctx.reply(ctx.t(acceptText === false ? "faq.gaps_press_button" : "faq.gaps_text_only")),
  });
  if (answer.kind === "text") return { kind: "text", text: answer.text };
  if (answer.kind === "button") return { kind: GAP_CB.step.unpack(answer.data).choice };
  throw new Error(`unexpected answer ${answer.kind}`);
}

function stepButtons(t: TFunction, first: "keep" | "save" | undefined): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (first === "keep") kb.text(t("faq.gaps_keep"), GAP_CB.step.pack({ choice: "keep" }));
  if (first === "save") kb.text(t("faq.gaps_save"), GAP_CB.step.pack({ choice: "save" }));
  return kb.text(t("common.cancel"), GAP_CB.step.pack({ choice: "cancel" }));
}

/**
 * "Draft an entry" from the group of question `questionId`: the question's wording (the group's
 * most typical question in the lawyer's language is offered, kept with one press), the answer,
 * a last look, then a draft entry saved and the group's questions marked with it. Everything in
 * the lawyer's language. Side effects only inside `conversation.external` (flows replay).
 */
export function faqGapDraftConversation(deps: BotDeps) {
  return async function faqGapDraft(
    conversation: AppConversation,
    ctx: ConvContext,
    questionId: number,
    days: number,
  ) {
    const lawyerId = await conversation.external((outer) => outer.user.id);
    const lang = ctx.locale;
    const startedAt = await conversation.now();
    const group = await conversation.external(async () => {
      const g = await gapGroupOf(deps.db, questionId, { days, now: new Date(startedAt) });
      return g ? { size: g.size, suggestion: typicalQuestion(g, lang).text } : undefined;
    });
    const t = ctx.t;
    if (!group) {
      await ctx.reply(t("faq.gaps_gone"));
      return;
    }
    await ctx.reply(
      t("faq.gaps_draft_question", {
        size: group.size,
        suggestion: escapeHtml(group.suggestion.slice(0, MAX_WORDING_LENGTH)),
      }),
      { parse_mode: "HTML", reply_markup: stepButtons(t, "keep") },
    );
    const wording = await step(conversation, ["keep", "cancel"], MAX_WORDING_LENGTH);
    if (wording.kind === "cancel") {
      await ctx.reply(t("faq.gaps_cancelled"));
      return;
    }
    const question =
      wording.kind === "text" ? wording.text : group.suggestion.slice(0, MAX_WORDING_LENGTH);

    await ctx.reply(t("faq.gaps_draft_answer"), { reply_markup: stepButtons(t, undefined) });
    const written = await step(conversation, ["cancel"], MAX_ANSWER_LENGTH);
    if (written.kind !== "text") {
      await ctx.reply(t("faq.gaps_cancelled"));
      return;
    }
    const answer = written.text;

    await ctx.reply(
      t("faq.gaps_draft_preview", { question: escapeHtml(question), answer: escapeHtml(answer) }),
      { parse_mode: "HTML", reply_markup: stepButtons(t, "save") },
    );
    const confirm = await step(conversation, ["save", "cancel"], false);
    if (confirm.kind !== "save") {
      await ctx.reply(t("faq.gaps_cancelled"));
      return;
    }
    const savedAt = await conversation.now();
    const result = await conversation.external(() =>
      draftFromGap(deps.db, {
        questionId,
        days,
        lawyerUserId: lawyerId,
        lang,
        question,
        answer,
        timezone: deps.config.timezone,
        now: new Date(savedAt),
      }),
    );
    if (result.kind === "drafted") {
      await ctx.reply(t("faq.gaps_saved", { id: result.entryId, size: result.questions }));
      ctx.log.info({ entryId: result.entryId, questions: result.questions }, "faq gap drafted");
    } else if (result.kind === "not_allowed") await ctx.reply(t("errors.not_allowed"));
    else if (result.kind === "gone") await ctx.reply(t("faq.gaps_gone"));
    else await ctx.reply(t("faq.publish_invalid"));
  };
}

export function faqGapsConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(faqGapDraftConversation(deps), FAQ_GAP_DRAFT));
  return composer;
}
