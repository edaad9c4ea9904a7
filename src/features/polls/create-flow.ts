/**
 * "New poll" (staff): municipality → question (Kyrgyz and/or Russian) → options → single or
 * multiple choice → audience → opening → closing → live results → the preview residents will
 * get → open now or schedule. Every bad answer is said in the person's language and asked
 * again, keeping what was given (create-steps); nothing is stored before the last step, whose
 * write re-reads the person and their roles from the database.
 */
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { once } from "../../bot/conversation-kit";
import { sendAsDelivered } from "../../bot/preview";
import { renderForRecipient } from "../../delivery";
import { escapeHtml } from "../../i18n";
import { senderNames } from "../announcements/service";
import { formatMoment } from "../hearings/time";
import { chooseMunicipality } from "../municipalities/chooser";
import { actorOf, attempt, type Outcome, refusalText, serviceOf } from "./bot-common";
import { POLL_CB } from "./callbacks";
import {
  Aborted,
  askButton,
  askClosing,
  askMaxChoices,
  askOpening,
  askOptions,
  askQuestion,
  next,
  nowOf,
} from "./create-steps";
import { openingContent } from "./notices";
import type { PollAudience, PollText } from "./schema";
import { draftRow } from "./staff-cards";
import { audienceKeyboard, liveKeyboard, openKeyboard, saveKeyboard } from "./staff-keyboards";

export const POLL_CREATE = "pollCreate";

/** Refusals of the write that a new opening or closing time fixes. */
const TIME_CODES = new Set(["time_bad", "closes_past", "closes_before_opens", "too_long_open"]);

interface Draft {
  municipalityId: number;
  question: PollText;
  options: PollText[];
  maxChoices: number;
  audience: PollAudience;
}

interface Times {
  opensAt: number | null;
  closesAt: number;
  liveResults: boolean;
}

/** Sends the opening exactly as residents will get it, then what staff should check. */
async function preview(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
  draft: Draft,
  times: Times,
): Promise<void> {
  const t = ctx.t;
  const tz = deps.config.timezone;
  const sender = await once(conversation, () => senderNames(deps.db, draft.municipalityId));
  const now = await nowOf(conversation);
  const row = draftRow({
    ...draft,
    opensAt: new Date(times.opensAt ?? now),
    closesAt: new Date(times.closesAt),
    liveResults: times.liveResults,
  });
  await ctx.reply(t("polls.create.preview_header"));
  const content = openingContent(row, { sender, timezone: tz });
  await sendAsDelivered(ctx.api, ctx.chatId ?? 0, renderForRecipient(content, ctx.locale));
  const opens =
    times.opensAt === null
      ? t("polls.create.summary_opens_now")
      : t("polls.create.summary_opens", {
          when: escapeHtml(formatMoment(new Date(times.opensAt), ctx.locale, tz)),
        });
  await ctx.reply(
    [t(`polls.staff.audience_${draft.audience}`), opens, "", t("polls.create.ask_save")].join("\n"),
    { parse_mode: "HTML", reply_markup: saveKeyboard(t, times.opensAt !== null) },
  );
}

type Saved = { id: number; status: string; opensAt: number };

async function create(conversation: AppConversation, ctx: ConvContext, deps: BotDeps) {
  const t = ctx.t;
  const chatId = ctx.chatId ?? 0;
  const municipality = await chooseMunicipality(conversation, ctx, deps, {
    button: POLL_CB.municipality,
    abortData: POLL_CB.abort.pack(),
    wait: next,
    text: {
      choose: t("polls.create.choose_municipality"),
      type: t("polls.create.type_municipality"),
      notFound: t("polls.create.municipality_not_found"),
    },
  });
  if (!municipality) {
    await ctx.reply(refusalText(t, "not_allowed"));
    return;
  }
  await ctx.reply(t("polls.create.start", { municipality: escapeHtml(municipality.name) }), {
    parse_mode: "HTML",
  });
  const question = await askQuestion(conversation, ctx);
  const options = await askOptions(conversation, ctx, question);
  const maxChoices = await askMaxChoices(conversation, ctx, options.length);
  const audienceData = await askButton(
    conversation,
    ctx,
    t("polls.create.ask_audience"),
    () => audienceKeyboard(t),
    POLL_CB.audience.filter(),
  );
  const draft: Draft = {
    municipalityId: municipality.id,
    question,
    options,
    maxChoices,
    audience: POLL_CB.audience.unpack(audienceData).audience,
  };

  // The times, asked again when the write finds them passed (a long pause before saving).
  for (;;) {
    const opensAt = await askOpening(conversation, ctx, deps);
    const closesAt = await askClosing(conversation, ctx, deps, opensAt);
    const live = await askButton(
      conversation,
      ctx,
      t("polls.create.ask_live"),
      () => liveKeyboard(t),
      POLL_CB.live.filter(),
    );
    const times: Times = { opensAt, closesAt, liveResults: POLL_CB.live.unpack(live).live };
    await preview(conversation, ctx, deps, draft, times);
    let save = await next(conversation, POLL_CB.save.filter());
    while (save.kind !== "button") {
      // Typed text at the last step: the choice again (nothing is lost).
      await save.ctx.reply(t("polls.create.ask_save"), {
        reply_markup: saveKeyboard(t, times.opensAt !== null),
      });
      save = await next(conversation, POLL_CB.save.filter());
    }
    const mode = POLL_CB.save.unpack(save.data).mode;
    const saved = await once(conversation, async (): Promise<Outcome<Saved>> => {
      const actor = await actorOf(deps, chatId);
      if (!actor) return { ok: false, code: "not_allowed", params: {} };
      return attempt(async () => {
        const poll = await serviceOf(deps).create(actor, {
          ...draft,
          opensAt: mode === "open" || times.opensAt === null ? null : new Date(times.opensAt),
          closesAt: new Date(times.closesAt),
          liveResults: times.liveResults,
        });
        return { id: poll.id, status: poll.status, opensAt: poll.opensAt.getTime() };
      });
    });
    if (!saved.ok) {
      await ctx.reply(refusalText(t, saved.code, saved.params));
      if (TIME_CODES.has(saved.code)) continue;
      return;
    }
    const { id, status } = saved.value;
    const when = escapeHtml(
      formatMoment(new Date(saved.value.opensAt), ctx.locale, deps.config.timezone),
    );
    await ctx.reply(
      t(status === "open" ? "polls.create.opened" : "polls.create.scheduled", { id, when }),
      {
        parse_mode: "HTML",
        reply_markup: openKeyboard(t, id),
      },
    );
    return;
  }
}

/** The create flow, ended quietly by Cancel. */
export function pollCreateConversation(deps: BotDeps) {
  return async function pollCreate(conversation: AppConversation, ctx: ConvContext) {
    try {
      await create(conversation, ctx, deps);
    } catch (error) {
      if (error instanceof Aborted) return;
      throw error;
    }
  };
}
