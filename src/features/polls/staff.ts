/**
 * The staff side of /polls and every staff button: the list, a poll's card, close early and
 * cancel (each confirmed), results (with the chart once closed) and the CSV of counts. Button
 * data may be forged or old: each press asks the service, which checks the poll and the
 * presser's role and municipality on the server; a refusal is an alert that changes nothing.
 * Nothing here can say who chose what: the service has counts only.
 */
import { Composer, InputFile } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { capabilitiesOf } from "../../channels/capabilities";
import { isAdmin } from "../../core/permissions";
import { escapeHtml } from "../../i18n";
import { chunkMessages } from "../hearings/cards";
import { displayName, getMunicipality } from "../municipalities/service";
import { isPollStaff, refusalOf, refusalText, serviceOf } from "./bot-common";
import { POLL_CB } from "./callbacks";
import { POLL_CREATE } from "./create-flow";
import { chartPath } from "./notices";
import { openResidentList } from "./residents-flow";
import type { PollRow } from "./schema";
import { openLabel, type Reader, resultsText, staffCard, staffListItem } from "./staff-cards";
import { cardKeyboard, confirmKeyboard, staffListKeyboard } from "./staff-keyboards";
import type { PollActor, PollSummary } from "./types";

/** Polls in the staff list. */
const STAFF_LIST = 20;

function actorOf(ctx: AppContext): PollActor {
  // ctx.roles is read from the database for every update.
  return { userId: ctx.user.id, roles: ctx.roles };
}

function readerOf(ctx: AppContext, deps: BotDeps): Reader {
  return { t: ctx.t, locale: ctx.locale, timezone: deps.config.timezone };
}

async function municipalityName(ctx: AppContext, deps: BotDeps, id: number): Promise<string> {
  const m = await getMunicipality(deps.db, id);
  return m ? displayName(m, ctx.locale) : String(id);
}

/** The staff's polls: status, question, turnout, closing; a button per poll and "New poll". */
export async function showStaffPolls(ctx: AppContext, deps: BotDeps): Promise<void> {
  const r = readerOf(ctx, deps);
  let list: PollSummary[];
  try {
    list = await serviceOf(deps).list(actorOf(ctx), { limit: STAFF_LIST });
  } catch (error) {
    const text = refusalOf(ctx.t, error);
    if (text === undefined) throw error;
    await ctx.reply(text);
    return;
  }
  const admin = isAdmin(ctx.roles);
  const parts: string[] = [];
  for (const { poll, tally } of list) {
    const where = admin ? await municipalityName(ctx, deps, poll.municipalityId) : undefined;
    parts.push(staffListItem(r, poll, tally, where));
  }
  const head = ctx.t(list.length ? "polls.staff.list_header" : "polls.staff.list_empty");
  const messages = chunkMessages(head, parts);
  const keyboard = staffListKeyboard(
    ctx.t,
    list.map(({ poll }) => ({ id: poll.id, label: openLabel(poll, ctx.locale) })),
  );
  for (const [i, text] of messages.entries()) {
    const last = i === messages.length - 1;
    await ctx.reply(text, { parse_mode: "HTML", ...(last ? { reply_markup: keyboard } : {}) });
  }
}

export function staffPollsHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const service = serviceOf(deps);

  /** A refusal from the service as an alert on the pressed button; other errors go on up. */
  async function refuse(ctx: AppContext, error: unknown): Promise<void> {
    const text = refusalOf(ctx.t, error);
    if (text === undefined) throw error;
    ctx.log.info({ userId: ctx.user.id, data: ctx.callbackQuery?.data }, "poll press refused");
    await ctx.answerCallbackQuery({ text, show_alert: true });
  }

  async function notStaff(ctx: AppContext): Promise<boolean> {
    if (isPollStaff(ctx.roles)) return false;
    await ctx.answerCallbackQuery({
      text: refusalText(ctx.t, "not_allowed"),
      show_alert: true,
    });
    return true;
  }

  /** The card as a new message, or in place of the pressed one (after an action). */
  async function showCard(ctx: AppContext, summary: PollSummary, inPlace: boolean) {
    const { poll, tally } = summary;
    const name = await municipalityName(ctx, deps, poll.municipalityId);
    const text = staffCard(readerOf(ctx, deps), poll, tally, name);
    const options = { parse_mode: "HTML" as const, reply_markup: cardKeyboard(ctx.t, poll) };
    if (inPlace) {
      const edited = await ctx.editMessageText(text, options).then(
        () => true,
        () => false,
      );
      if (edited) return;
    }
    await ctx.reply(text, options);
  }

  async function sendResults(ctx: AppContext, summary: PollSummary): Promise<void> {
    const { poll, tally } = summary;
    await ctx.reply(resultsText(readerOf(ctx, deps), poll, tally), { parse_mode: "HTML" });
    // The app serves a closed poll's chart; on Telegram the path is uploaded (app-files).
    if (poll.status === "closed") await ctx.replyWithPhoto(chartPath(poll.id, ctx.locale));
  }

  async function sendCsv(ctx: AppContext, poll: PollRow): Promise<void> {
    const csv = await service.exportCsv(actorOf(ctx), poll.id, ctx.locale);
    const caption = ctx.t("polls.staff.export_caption", { id: poll.id });
    // The web chat cannot take an upload: the counts come as text to copy.
    if (!capabilitiesOf(ctx.user.channel).files) {
      const body = escapeHtml(csv.replace(/^\uFEFF/, ""));
      await ctx.reply(`${caption}\n<pre>${body}</pre>`, { parse_mode: "HTML" });
      return;
    }
    await ctx.replyWithDocument(new InputFile(Buffer.from(csv, "utf8"), `poll-${poll.id}.csv`), {
      caption,
    });
  }

  composer.callbackQuery(POLL_CB.list.filter(), async (ctx) => {
    if (await notStaff(ctx)) return;
    await ctx.answerCallbackQuery();
    await showStaffPolls(ctx, deps);
  });

  composer.callbackQuery(POLL_CB.create.filter(), async (ctx) => {
    if (await notStaff(ctx)) return;
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(POLL_CREATE);
  });

  composer.callbackQuery(POLL_CB.residents.filter(), (ctx) => openResidentList(ctx, deps));

  composer.callbackQuery(POLL_CB.open.filter(), async (ctx) => {
    const { pollId } = POLL_CB.open.unpack(ctx.callbackQuery.data);
    let summary: PollSummary;
    try {
      summary = await service.get(actorOf(ctx), pollId);
    } catch (error) {
      return refuse(ctx, error);
    }
    await ctx.answerCallbackQuery();
    await showCard(ctx, summary, false);
  });

  composer.callbackQuery(POLL_CB.action.filter(), async (ctx) => {
    const { pollId, action } = POLL_CB.action.unpack(ctx.callbackQuery.data);
    try {
      // Rights first (the service says not_allowed / not_found), then the poll's state.
      const summary = await service.get(actorOf(ctx), pollId);
      const { poll } = summary;
      switch (action) {
        case "close":
        case "cancel": {
          if (poll.status === "closed" || poll.status === "cancelled") {
            const code = poll.status === "closed" ? "already_closed" : "already_cancelled";
            await ctx.answerCallbackQuery({ text: refusalText(ctx.t, code), show_alert: true });
            return;
          }
          await ctx.answerCallbackQuery();
          await ctx.reply(ctx.t(`polls.staff.confirm_${action}`, { id: poll.id }), {
            parse_mode: "HTML",
            reply_markup: confirmKeyboard(ctx.t, poll.id, action),
          });
          return;
        }
        case "results":
          await ctx.answerCallbackQuery();
          await sendResults(ctx, summary);
          return;
        case "chart":
          if (poll.status !== "closed") {
            await ctx.answerCallbackQuery({
              text: refusalText(ctx.t, "not_closed"),
              show_alert: true,
            });
            return;
          }
          await ctx.answerCallbackQuery();
          await ctx.replyWithPhoto(chartPath(poll.id, ctx.locale));
          return;
        case "export":
          await sendCsv(ctx, poll);
          await ctx.answerCallbackQuery();
          return;
      }
    } catch (error) {
      return refuse(ctx, error);
    }
  });

  composer.callbackQuery(POLL_CB.confirm.filter(), async (ctx) => {
    const { pollId, action } = POLL_CB.confirm.unpack(ctx.callbackQuery.data);
    const actor = actorOf(ctx);
    try {
      if (action === "close") await service.close(actor, pollId);
      else await service.cancel(actor, pollId);
      await ctx.answerCallbackQuery({ text: ctx.t(`polls.staff.done_${action}`) });
      await showCard(ctx, await service.get(actor, pollId), true);
    } catch (error) {
      return refuse(ctx, error);
    }
  });

  return composer;
}
