/**
 * /hearings and every hearing button. Residents see their municipality's upcoming hearings and
 * answer from notices; staff see their hearings and act from a card. Button data may be forged
 * or old: each press asks the service, which checks the hearing, its state and the presser's
 * role and municipality on the server, and a refusal is an alert that changes nothing.
 */
import { Composer, InputFile } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { capabilitiesOf } from "../../channels/capabilities";
import { isAdmin } from "../../core/permissions";
import { escapeHtml } from "../../i18n";
import { displayName, getMunicipality } from "../municipalities/service";
import { isHearingStaff, refusalOf, refusalText, serviceOf } from "./bot-common";
import { HEARING_CB } from "./callbacks";
import {
  chunkMessages,
  openLabel,
  questionItem,
  type Reader,
  residentItem,
  residentPastItem,
  staffCard,
  staffListItem,
  titleOf,
} from "./cards";
import { HEARING_ASK, HEARING_CREATE, HEARING_MANAGE } from "./conversations";
import { hearingCalendar } from "./ics";
import {
  type CardAction,
  cardActions,
  cardKeyboard,
  residentKeyboard,
  staffListKeyboard,
} from "./keyboards";
import { TYPED_ACTIONS, type TypedAction } from "./manage-flow";
import { calendarUrl } from "./notices";
import type { HearingRow } from "./schema";
import type { HearingActor, HearingErrorCode, HearingSummary } from "./types";

/** Upcoming hearings shown to a resident (each its own message with its buttons). */
const RESIDENT_UPCOMING = 10;
/** Held hearings with minutes shown below them. */
const RESIDENT_PAST = 3;
/** Hearings in the staff list. */
const STAFF_LIST = 20;

function actorOf(ctx: AppContext): HearingActor {
  return { userId: ctx.user.id, roles: ctx.roles };
}

/**
 * Why an action offered on a card can no longer be done to this hearing (it was cancelled, held
 * or has started since the card was shown), before a flow asks for anything. The service checks
 * again when it writes.
 */
function blockedBy(action: CardAction, h: HearingRow, now: Date): HearingErrorCode | undefined {
  if (cardActions(h, now).includes(action)) return undefined;
  if (h.status === "cancelled") return "cancelled";
  if (action === "minutes") return "not_held";
  if (action === "held") return h.status === "held" ? "already_held" : "not_published";
  if (h.status === "held") return "already_held";
  if (action === "publish" && h.status !== "draft") return "already_published";
  return "started";
}

const isTyped = (action: CardAction): action is TypedAction =>
  (TYPED_ACTIONS as readonly string[]).includes(action);

export function hearingsHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const service = serviceOf(deps);
  const reader = (ctx: AppContext): Reader => ({
    t: ctx.t,
    locale: ctx.locale,
    timezone: deps.config.timezone,
  });

  async function municipalityName(ctx: AppContext, id: number): Promise<string> {
    const m = await getMunicipality(deps.db, id);
    return m ? displayName(m, ctx.locale) : String(id);
  }

  /** A refusal from the service as an alert on the pressed button; other errors go on up. */
  async function refuse(ctx: AppContext, error: unknown): Promise<void> {
    const text = refusalOf(ctx.t, error);
    if (text === undefined) throw error;
    ctx.log.info({ userId: ctx.user.id, data: ctx.callbackQuery?.data }, "hearing press refused");
    await ctx.answerCallbackQuery({ text, show_alert: true });
  }

  // ── residents ────────────────────────────────────────────────────────────────────────

  async function residentList(ctx: AppContext): Promise<void> {
    const municipalityId = ctx.user.municipalityId;
    if (municipalityId === null) {
      await ctx.reply(ctx.t("hearings.resident.no_municipality"));
      return;
    }
    const r = reader(ctx);
    const name = escapeHtml(await municipalityName(ctx, municipalityId));
    const { upcoming, past } = await service.forResidents(municipalityId, RESIDENT_PAST);
    const shown = upcoming.slice(0, RESIDENT_UPCOMING);
    await ctx.reply(
      ctx.t(shown.length ? "hearings.resident.list_header" : "hearings.resident.none_upcoming", {
        municipality: name,
      }),
      { parse_mode: "HTML" },
    );
    for (const h of shown) {
      const answer = await service.answerOf(ctx.user.id, h.id);
      await ctx.reply(residentItem(r, h, answer), {
        parse_mode: "HTML",
        link_preview_options: { is_disabled: true },
        reply_markup: residentKeyboard(h.id, ctx.locale),
      });
    }
    if (past.length === 0) return;
    const parts = past.map((h) => residentPastItem(r, h));
    for (const text of chunkMessages(ctx.t("hearings.resident.past_header"), parts)) {
      await ctx.reply(text, { parse_mode: "HTML", link_preview_options: { is_disabled: true } });
    }
  }

  composer.callbackQuery([HEARING_CB.going.filter(), HEARING_CB.notGoing.filter()], async (ctx) => {
    const data = ctx.callbackQuery.data;
    const going = HEARING_CB.going.match(data);
    const { hearingId } = going ?? HEARING_CB.notGoing.unpack(data);
    const answer = going ? "going" : "not_going";
    try {
      await service.answer(ctx.user.id, hearingId, answer);
    } catch (error) {
      return refuse(ctx, error);
    }
    await ctx.answerCallbackQuery({ text: ctx.t(`hearings.resident.answered_${answer}`) });
  });

  composer.callbackQuery(HEARING_CB.ask.filter(), async (ctx) => {
    const { hearingId } = HEARING_CB.ask.unpack(ctx.callbackQuery.data);
    try {
      await service.assertMayAsk(ctx.user.id, hearingId);
    } catch (error) {
      return refuse(ctx, error);
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(HEARING_ASK, hearingId);
  });

  composer.callbackQuery(HEARING_CB.calendar.filter(), async (ctx) => {
    const { hearingId } = HEARING_CB.calendar.unpack(ctx.callbackQuery.data);
    const h = await service.publicHearing(hearingId);
    if (!h) {
      await ctx.answerCallbackQuery({
        text: refusalText(ctx.t, "not_found"),
        show_alert: true,
      });
      return;
    }
    await ctx.answerCallbackQuery();
    const url = calendarUrl(deps.config.publicUrl, h.id);
    // Where files cannot be sent (the web chat) the person gets the file's public address.
    if (!capabilitiesOf(ctx.user.channel).files) {
      const href = escapeHtml(url).replace(/"/g, "&quot;");
      await ctx.reply(
        ctx.t("hearings.resident.calendar_link", {
          link: `<a href="${href}">${escapeHtml(url)}</a>`,
        }),
        { parse_mode: "HTML", link_preview_options: { is_disabled: true } },
      );
      return;
    }
    const ics = hearingCalendar(h, {
      municipalityName: await municipalityName(ctx, h.municipalityId),
      publicUrl: deps.config.publicUrl,
      locale: ctx.locale,
    });
    await ctx.replyWithDocument(new InputFile(Buffer.from(ics, "utf8"), `hearing-${h.id}.ics`), {
      caption: ctx.t("hearings.resident.calendar_caption", { title: titleOf(h, ctx.locale) }),
    });
  });

  // ── staff ────────────────────────────────────────────────────────────────────────────

  async function staffList(ctx: AppContext): Promise<void> {
    const r = reader(ctx);
    const list = await service.list(actorOf(ctx), { limit: STAFF_LIST });
    const admin = isAdmin(ctx.roles);
    const parts: string[] = [];
    for (const { hearing, counts } of list) {
      const where = admin ? await municipalityName(ctx, hearing.municipalityId) : undefined;
      parts.push(staffListItem(r, hearing, counts, where));
    }
    const head = ctx.t(list.length ? "hearings.staff.list_header" : "hearings.staff.list_empty");
    const messages = chunkMessages(head, parts);
    const keyboard = staffListKeyboard(
      ctx.t,
      list.map(({ hearing }) => ({ id: hearing.id, label: openLabel(hearing, ctx.locale) })),
    );
    for (const [i, text] of messages.entries()) {
      const last = i === messages.length - 1;
      await ctx.reply(text, { parse_mode: "HTML", ...(last ? { reply_markup: keyboard } : {}) });
    }
  }

  async function cardOf(ctx: AppContext, summary: HearingSummary) {
    const h = summary.hearing;
    const text = staffCard(
      reader(ctx),
      h,
      summary.counts,
      await municipalityName(ctx, h.municipalityId),
    );
    return { text, keyboard: cardKeyboard(ctx.t, h, new Date()) };
  }

  /** The card as a new message (from the list), or in place of the pressed one (after an action). */
  async function showCard(ctx: AppContext, summary: HearingSummary, inPlace: boolean) {
    const { text, keyboard } = await cardOf(ctx, summary);
    const options = {
      parse_mode: "HTML" as const,
      link_preview_options: { is_disabled: true },
      reply_markup: keyboard,
    };
    if (inPlace) {
      const edited = await ctx.editMessageText(text, options).then(
        () => true,
        () => false,
      );
      if (edited) return;
    }
    await ctx.reply(text, options);
  }

  composer.command("hearings", async (ctx) => {
    if (isHearingStaff(ctx.roles)) await staffList(ctx);
    else await residentList(ctx);
  });

  composer.callbackQuery(HEARING_CB.list.filter(), async (ctx) => {
    if (!isHearingStaff(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    await ctx.answerCallbackQuery();
    await staffList(ctx);
  });

  composer.callbackQuery(HEARING_CB.create.filter(), async (ctx) => {
    if (!isHearingStaff(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    await ctx.answerCallbackQuery();
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(HEARING_CREATE);
  });

  composer.callbackQuery(HEARING_CB.open.filter(), async (ctx) => {
    const { hearingId } = HEARING_CB.open.unpack(ctx.callbackQuery.data);
    let summary: HearingSummary;
    try {
      summary = await service.get(actorOf(ctx), hearingId);
    } catch (error) {
      return refuse(ctx, error);
    }
    await ctx.answerCallbackQuery();
    await showCard(ctx, summary, false);
  });

  composer.callbackQuery(HEARING_CB.action.filter(), async (ctx) => {
    const { hearingId, action } = HEARING_CB.action.unpack(ctx.callbackQuery.data);
    const actor = actorOf(ctx);
    try {
      // Rights first (the service says not_allowed / not_found), then the hearing's state.
      const summary = await service.get(actor, hearingId);
      const blocked = blockedBy(action, summary.hearing, new Date());
      if (blocked && action !== "publish" && action !== "held") {
        await ctx.answerCallbackQuery({ text: refusalText(ctx.t, blocked), show_alert: true });
        return;
      }
      if (isTyped(action)) {
        await ctx.answerCallbackQuery();
        await ctx.conversation.exitAll();
        await ctx.conversation.enter(HEARING_MANAGE, hearingId, action);
        return;
      }
      switch (action) {
        case "publish":
        case "held": {
          // One press, no typing: the service refuses what the state does not allow.
          if (action === "publish") await service.publish(actor, hearingId);
          else await service.markHeld(actor, hearingId);
          await ctx.answerCallbackQuery({ text: ctx.t(`hearings.staff.done_${action}`) });
          await showCard(ctx, await service.get(actor, hearingId), true);
          return;
        }
        case "questions": {
          const questions = await service.questions(actor, hearingId);
          await ctx.answerCallbackQuery();
          const r = reader(ctx);
          const head = ctx.t(
            questions.length ? "hearings.staff.questions_header" : "hearings.staff.questions_empty",
            {
              id: hearingId,
              title: escapeHtml(titleOf(summary.hearing, ctx.locale)),
            },
          );
          const parts = questions.map((q, i) => questionItem(r, q, i + 1));
          for (const text of chunkMessages(head, parts))
            await ctx.reply(text, { parse_mode: "HTML" });
          return;
        }
        case "export": {
          // Documents cannot be uploaded to the web chat: the command line makes the file.
          if (!capabilitiesOf(ctx.user.channel).files) {
            await ctx.answerCallbackQuery();
            await ctx.reply(ctx.t("hearings.staff.export_webchat", { id: hearingId }), {
              parse_mode: "HTML",
            });
            return;
          }
          const csv = await service.exportCsv(actor, hearingId, ctx.locale);
          await ctx.answerCallbackQuery();
          await ctx.replyWithDocument(
            new InputFile(Buffer.from(csv, "utf8"), `hearing-${hearingId}.csv`),
            { caption: ctx.t("hearings.staff.export_caption", { id: hearingId }) },
          );
          return;
        }
      }
    } catch (error) {
      return refuse(ctx, error);
    }
  });

  return composer;
}
