/**
 * /polls and the residents' vote buttons. A resident sees the open polls of their municipality
 * with how they voted and votes from those cards or from the delivered poll message; staff also
 * get their polls to manage. Button data may be forged or old: every press goes to the service,
 * which checks the poll, its times, the presser's municipality and the choices, and a refusal
 * is an alert that changes nothing.
 */
import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { escapeHtml } from "../../i18n";
import { senderNames } from "../announcements/service";
import { formatMoment } from "../hearings/time";
import { displayName, getMunicipality } from "../municipalities/service";
import { isPollStaff, refusalOf, serviceOf } from "./bot-common";
import { maskChoices, POLL_CB } from "./callbacks";
import {
  type CardContext,
  choiceList,
  inlineKeyboard,
  pollCardText,
  tallyLines,
  voteButtons,
} from "./notices";
import { PressLimit } from "./press-limit";
import type { PollRow } from "./schema";
import { votingRefusal } from "./service";
import { showStaffPolls } from "./staff";
import { POLL_LIMITS, PollError, type ResidentPoll, voterOf } from "./types";
import { validateChoices } from "./validate";
import { askToVerify } from "./verify";

/** Open polls shown to a resident, each its own message with its buttons. */
const RESIDENT_OPEN = 5;

export function pollsHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const service = serviceOf(deps);
  const presses = new PressLimit(POLL_LIMITS.votesPerMinute);
  const cards = new Map<number, CardContext["sender"]>();

  async function cardContext(municipalityId: number): Promise<CardContext> {
    let sender = cards.get(municipalityId);
    if (!sender) {
      sender = await senderNames(deps.db, municipalityId);
      cards.set(municipalityId, sender);
    }
    return { sender, timezone: deps.config.timezone };
  }

  /** A refusal as an alert on the pressed button (verification asked for when it is that). */
  async function refuse(ctx: AppContext, error: unknown): Promise<void> {
    const text = refusalOf(ctx.t, error);
    if (text === undefined) throw error;
    ctx.log.info({ data: ctx.callbackQuery?.data }, "poll press refused");
    await ctx.answerCallbackQuery({ text, show_alert: true });
    if (error instanceof PollError && error.code === "verify_needed") {
      await askToVerify(ctx, "poll", deps.botUsername);
    }
  }

  /** The card text of a poll for this person, with their vote and the live counts if shown. */
  async function residentCard(ctx: AppContext, view: ResidentPoll): Promise<string> {
    const { poll, myChoices, tally } = view;
    const lines = [pollCardText(poll, await cardContext(poll.municipalityId), ctx.locale), ""];
    lines.push(
      myChoices?.length
        ? ctx.t("polls.resident.your_vote", {
            choices: escapeHtml(choiceList(poll, myChoices, ctx.locale)),
          })
        : ctx.t("polls.resident.not_voted"),
    );
    if (tally) lines.push("", ...tallyLines(poll, tally, ctx.locale));
    return lines.join("\n");
  }

  async function residentList(ctx: AppContext): Promise<void> {
    const municipalityId = ctx.user.municipalityId;
    if (municipalityId === null) {
      await ctx.reply(ctx.t("polls.errors.no_municipality"));
      return;
    }
    const m = await getMunicipality(deps.db, municipalityId);
    const name = escapeHtml(m ? displayName(m, ctx.locale) : String(municipalityId));
    const open = await service.openPollsFor(voterOf(ctx.user));
    await ctx.reply(
      ctx.t(open.length ? "polls.resident.list_header" : "polls.resident.none_open", {
        municipality: name,
        count: open.length,
      }),
      { parse_mode: "HTML" },
    );
    for (const view of open.slice(0, RESIDENT_OPEN)) {
      await ctx.reply(await residentCard(ctx, view), {
        parse_mode: "HTML",
        reply_markup: inlineKeyboard(voteButtons(view.poll, view.myChoices), ctx.locale),
      });
    }
  }

  composer.command("polls", async (ctx) => {
    const staff = isPollStaff(ctx.roles);
    if (!staff || ctx.user.municipalityId !== null) await residentList(ctx);
    if (staff) await showStaffPolls(ctx, deps);
  });

  /** Casts the vote of a press and confirms it; the same vote again only says it is counted. */
  async function cast(ctx: AppContext, pollId: number, choices: number[]): Promise<void> {
    if (!presses.take(ctx.user.id)) {
      await ctx.answerCallbackQuery({ text: ctx.t("polls.errors.slow_down"), show_alert: true });
      return;
    }
    let result: Awaited<ReturnType<typeof service.vote>>;
    try {
      result = await service.vote(voterOf(ctx.user), pollId, choices);
    } catch (error) {
      return refuse(ctx, error);
    }
    const { poll, outcome } = result;
    const chosen = choiceList(poll, result.choices, ctx.locale);
    await ctx.answerCallbackQuery({
      text: ctx.t(`polls.resident.answered_${outcome}`, { choices: chosen }),
    });
    if (outcome === "same") return;
    // The pressed poll message itself becomes the confirmation: the vote, until when it can be
    // changed, and the options marked (this chat's copy only). No new message per change.
    const text = [
      await residentCard(ctx, { poll, myChoices: result.choices, tally: result.tally }),
      ctx.t("polls.resident.can_change", {
        when: formatMoment(poll.closesAt, ctx.locale, deps.config.timezone),
      }),
    ].join("\n");
    const options = {
      parse_mode: "HTML" as const,
      reply_markup: inlineKeyboard(voteButtons(poll, result.choices), ctx.locale),
    };
    await ctx.editMessageText(text, options).catch(() => ctx.reply(text, options));
  }

  composer.callbackQuery(POLL_CB.vote.filter(), async (ctx) => {
    const { pollId, option } = POLL_CB.vote.unpack(ctx.callbackQuery.data);
    await cast(ctx, pollId, [option]);
  });

  composer.callbackQuery(POLL_CB.submit.filter(), async (ctx) => {
    const { pollId, mask } = POLL_CB.submit.unpack(ctx.callbackQuery.data);
    await cast(ctx, pollId, maskChoices(mask));
  });

  /**
   * A toggle of a multiple-choice option: only this chat's keyboard changes (the selection
   * rides in its buttons); nothing is written until the vote button. Still refused when the
   * poll takes no votes, the option does not exist, or it would exceed the maximum.
   */
  composer.callbackQuery(POLL_CB.toggle.filter(), async (ctx) => {
    const { pollId, mask, option } = POLL_CB.toggle.unpack(ctx.callbackQuery.data);
    let poll: PollRow;
    try {
      ({ poll } = await service.pollFor(voterOf(ctx.user), pollId));
      const refusal = votingRefusal(poll, new Date());
      if (refusal) throw refusal;
      // Checked before shifting: JavaScript shifts by the count modulo 32.
      if (option >= poll.options.length) throw new PollError("choice_bad");
      const chosen = maskChoices(mask ^ (1 << option));
      if (chosen.length > 0) validateChoices(chosen, poll);
      await ctx.answerCallbackQuery();
      await ctx
        .editMessageReplyMarkup({
          reply_markup: inlineKeyboard(voteButtons(poll, chosen), ctx.locale),
        })
        .catch(() => {});
    } catch (error) {
      return refuse(ctx, error);
    }
  });

  return composer;
}
