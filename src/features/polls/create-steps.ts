/**
 * The steps of the "New poll" flow: each asks, refuses a bad answer with its reason in the
 * person's language and asks again, keeping what was given. Cancel ends the flow (Aborted).
 */
import { anyOf } from "../../bot/callback-data";
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import { escapeHtml } from "../../i18n";
import { parseHearingTime } from "../hearings/time";
import { refusalText } from "./bot-common";
import { POLL_CB } from "./callbacks";
import type { PollText } from "./schema";
import { optionLine } from "./staff-cards";
import {
  cancelKeyboard,
  closesKeyboard,
  maxChoicesKeyboard,
  modeKeyboard,
  opensKeyboard,
  optionsKeyboard,
  skipKeyboard,
} from "./staff-keyboards";
import { POLL_LIMITS, PollError } from "./types";
import { validateOptions, validateQuestion, validateTimes } from "./validate";

const DAY_MS = 86_400_000;
/** Matches nothing: a step without buttons of its own (Cancel still works). */
const NO_BUTTONS = /^(?!)/;

/** Thrown inside the flow when the person presses "Cancel": ends it quietly. */
export class Aborted extends Error {}

type Input =
  | { kind: "text"; text: string; ctx: ConvContext }
  | { kind: "button"; data: string; ctx: ConvContext };

/** The next answer; buttons outside `buttons` are stale, Cancel always works. */
export async function next(conversation: AppConversation, buttons: RegExp): Promise<Input> {
  const answer = await ask(conversation, {
    buttons: anyOf(POLL_CB.abort, buttons),
    // The step is answered: its buttons go, so they cannot be pressed twice.
    clearKeyboard: true,
    acceptText: true,
    maxLength: Number.POSITIVE_INFINITY,
    onOther: (ctx) => ctx.reply(ctx.t("polls.create.unexpected")),
  });
  if (answer.kind === "button" && POLL_CB.abort.filter().test(answer.data)) {
    await answer.ctx.reply(answer.ctx.t("polls.create.aborted"));
    throw new Aborted();
  }
  if (answer.kind === "aside") throw new Error("no aside in this flow");
  return answer;
}

/** A PollError's text in the person's language; anything else goes on up. */
function refusal(ctx: ConvContext, error: unknown): string {
  if (error instanceof PollError) return refusalText(ctx.t, error.code, error.params);
  throw error;
}

/** Waits for one of `buttons` (typed text asks again) and returns its data. */
export async function askButton(
  conversation: AppConversation,
  ctx: ConvContext,
  prompt: string,
  markup: () => ReturnType<typeof modeKeyboard>,
  buttons: RegExp,
): Promise<string> {
  await ctx.reply(prompt, { parse_mode: "HTML", reply_markup: markup() });
  for (;;) {
    const answer = await next(conversation, buttons);
    if (answer.kind === "button") return answer.data;
    await answer.ctx.reply(prompt, { parse_mode: "HTML", reply_markup: markup() });
  }
}

/** A text of at most `max` characters; with `skippable`, Skip returns undefined. */
async function askText(
  conversation: AppConversation,
  ctx: ConvContext,
  prompt: string,
  max: number,
  skippable: boolean,
): Promise<string | undefined> {
  const markup = () => (skippable ? skipKeyboard(ctx.t) : cancelKeyboard(ctx.t));
  await ctx.reply(prompt, { parse_mode: "HTML", reply_markup: markup() });
  for (;;) {
    // Only a step that offers Skip takes it: an old Skip must not skip a required text.
    const answer = await next(conversation, skippable ? POLL_CB.skip.filter() : NO_BUTTONS);
    if (answer.kind === "button") return undefined;
    if (answer.text.length <= max) return answer.text;
    await answer.ctx.reply(ctx.t("polls.create.too_long", { length: answer.text.length, max }), {
      reply_markup: markup(),
    });
  }
}

/** The question in Kyrgyz, then Russian: either may be skipped, not both. */
export async function askQuestion(
  conversation: AppConversation,
  ctx: ConvContext,
): Promise<PollText> {
  const max = POLL_LIMITS.question;
  const ky = await askText(
    conversation,
    ctx,
    ctx.t("polls.create.ask_question_ky", { max }),
    max,
    true,
  );
  const ru = await askText(
    conversation,
    ctx,
    ctx.t("polls.create.ask_question_ru", { max }),
    max,
    ky !== undefined,
  );
  return validateQuestion({ ...(ky ? { ky } : {}), ...(ru ? { ru } : {}) });
}

/** One option a line: "ky text | ru text", or one text for both languages. */
function parseOptions(text: string): PollText[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const bar = line.indexOf("|");
      if (bar < 0) return { ky: line, ru: line };
      const ky = line.slice(0, bar).trim();
      const ru = line.slice(bar + 1).trim();
      // One side empty: the other one is for both.
      return { ky: ky || ru, ru: ru || ky };
    });
}

/**
 * The options so far plus new ones, checked by the same rules as the write. validateOptions
 * counts first, so a lone first option is checked beside a placeholder nobody can type.
 */
function checkOptions(options: readonly PollText[], question: PollText): PollText[] {
  if (options.length >= POLL_LIMITS.minOptions) return validateOptions(options, question);
  const placeholder: PollText = { ky: "\u0000", ru: "\u0000" };
  return validateOptions([...options, placeholder], question).slice(0, options.length);
}

/** Options by message (several lines each) until Done (from 2) or the maximum. */
export async function askOptions(
  conversation: AppConversation,
  ctx: ConvContext,
  question: PollText,
): Promise<PollText[]> {
  const t = ctx.t;
  const { maxOptions, option: max } = POLL_LIMITS;
  let options: PollText[] = [];
  const listed = () => options.map((o, i) => `${i + 1}. ${escapeHtml(optionLine(o))}`).join("\n");
  await ctx.reply(t("polls.create.ask_options", { max, count: maxOptions }), {
    parse_mode: "HTML",
    reply_markup: optionsKeyboard(t, 0),
  });
  while (options.length < maxOptions) {
    const enough = options.length >= POLL_LIMITS.minOptions;
    const answer = await next(conversation, enough ? POLL_CB.done.filter() : NO_BUTTONS);
    if (answer.kind === "button") return validateOptions(options, question);
    try {
      options = checkOptions([...options, ...parseOptions(answer.text)], question);
    } catch (error) {
      const why = refusal(answer.ctx, error);
      const so = options.length
        ? `\n\n${t("polls.create.options_so_far", { list: listed() })}`
        : "";
      await answer.ctx.reply(`${escapeHtml(why)}${so}\n\n${t("polls.create.options_again")}`, {
        parse_mode: "HTML",
        reply_markup: optionsKeyboard(t, options.length),
      });
      continue;
    }
    const more =
      options.length >= maxOptions
        ? t("polls.create.options_full", { count: maxOptions })
        : t(
            options.length >= POLL_LIMITS.minOptions
              ? "polls.create.options_more"
              : "polls.create.options_one_more",
          );
    await answer.ctx.reply(`${t("polls.create.options_so_far", { list: listed() })}\n\n${more}`, {
      parse_mode: "HTML",
      ...(options.length < maxOptions ? { reply_markup: optionsKeyboard(t, options.length) } : {}),
    });
  }
  return options;
}

/** 1 (single choice) or the maximum a person may choose. */
export async function askMaxChoices(
  conversation: AppConversation,
  ctx: ConvContext,
  options: number,
): Promise<number> {
  const t = ctx.t;
  const mode = POLL_CB.mode.unpack(
    await askButton(
      conversation,
      ctx,
      t("polls.create.ask_mode"),
      () => modeKeyboard(t),
      POLL_CB.mode.filter(),
    ),
  ).mode;
  if (mode === "single") return 1;
  const data = await askButton(
    conversation,
    ctx,
    t("polls.create.ask_max", { count: options }),
    () => maxChoicesKeyboard(t, options),
    POLL_CB.maxChoices.filter(),
  );
  // An old or forged button's number is checked again by the service.
  return Math.min(Math.max(POLL_CB.maxChoices.unpack(data).max, 2), options);
}

/** The moment `now` as the flow saw it the first time (replays see the same). */
export async function nowOf(conversation: AppConversation): Promise<number> {
  return once(conversation, async () => Date.now());
}

/** The opening: now (null) or a typed later time, in ms. */
export async function askOpening(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
): Promise<number | null> {
  const t = ctx.t;
  await ctx.reply(t("polls.create.ask_opens"), {
    parse_mode: "HTML",
    reply_markup: opensKeyboard(t),
  });
  for (;;) {
    const answer = await next(conversation, POLL_CB.opensNow.filter());
    if (answer.kind === "button") return null;
    const now = await nowOf(conversation);
    const at = parseHearingTime(answer.text, deps.config.timezone, new Date(now));
    if (at && at.getTime() > now) return at.getTime();
    const why = at ? t("polls.create.opens_past") : refusalText(t, "time_bad");
    await answer.ctx.reply(why, { reply_markup: opensKeyboard(t) });
  }
}

/** The closing: typed, or a few days after the opening; checked against it and now. */
export async function askClosing(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
  opensAt: number | null,
): Promise<number> {
  const t = ctx.t;
  await ctx.reply(t("polls.create.ask_closes", { days: POLL_LIMITS.maxOpenDays }), {
    parse_mode: "HTML",
    reply_markup: closesKeyboard(t),
  });
  for (;;) {
    const answer = await next(conversation, POLL_CB.closesIn.filter());
    const now = await nowOf(conversation);
    const closesAt =
      answer.kind === "button"
        ? (opensAt ?? now) + POLL_CB.closesIn.unpack(answer.data).days * DAY_MS
        : parseHearingTime(answer.text, deps.config.timezone, new Date(now))?.getTime();
    try {
      if (closesAt === undefined) throw new PollError("time_bad");
      validateTimes(opensAt === null ? null : new Date(opensAt), new Date(closesAt), new Date(now));
      return closesAt;
    } catch (error) {
      await answer.ctx.reply(refusal(answer.ctx, error), { reply_markup: closesKeyboard(t) });
    }
  }
}
