/**
 * The staff card's actions that need typing: edit a field, reschedule, set the reminders,
 * cancel with a reason, publish the minutes. Each ends in one service call made with the
 * person's roles as the database has them at that moment; a refusal is said and nothing changes.
 */
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { once } from "../../bot/conversation-kit";
import { parseReminderOffsets } from "../../config";
import { escapeHtml } from "../../i18n";
import { attempt, type Outcome, refusalText, serviceOf } from "./bot-common";
import { HEARING_CB } from "./callbacks";
import { typedOffsets } from "./cards";
import { actorOfOrRefuse, askBilingual, askDuration, askHearingTime } from "./flow-parts";
import { type EditField, fieldKeyboard, openKeyboard, skipKeyboard } from "./keyboards";
import type { HearingText } from "./schema";
import { Aborted, askText, isHttpsUrl, NO_BUTTONS, next } from "./steps";
import { formatHearingWhen } from "./time";
import { HEARING_LIMITS, type HearingActor, type HearingPatch, type HearingRow } from "./types";

export const HEARING_MANAGE = "hearingManage";

/** The card actions handled here (the others are one press: see handlers). */
export const TYPED_ACTIONS = ["edit", "reschedule", "reminders", "cancel", "minutes"] as const;
export type TypedAction = (typeof TYPED_ACTIONS)[number];

/** What a flow remembers of the hearing: JSON (a conversation replays stored results). */
interface Snapshot {
  title: HearingText;
  agenda: HearingText;
  place: HearingText;
  onlineUrl: string | null;
  durationMin: number;
  startsAtMs: number;
  reminderOffsets: number[];
}

function snapshotOf(h: HearingRow): Snapshot {
  return {
    title: h.title,
    agenda: h.agenda,
    place: h.place,
    onlineUrl: h.onlineUrl,
    durationMin: h.durationMin,
    startsAtMs: h.startsAt.getTime(),
    reminderOffsets: h.reminderOffsets,
  };
}

/** Asks which field to edit and its new value. */
async function askPatch(
  conversation: AppConversation,
  ctx: ConvContext,
  current: Snapshot,
): Promise<HearingPatch> {
  const t = ctx.t;
  await ctx.reply(t("hearings.staff.ask_field"), { reply_markup: fieldKeyboard(t) });
  let answer = await next(conversation, HEARING_CB.field.filter());
  while (answer.kind !== "button") {
    await answer.ctx.reply(t("hearings.staff.ask_field"), { reply_markup: fieldKeyboard(t) });
    answer = await next(conversation, HEARING_CB.field.filter());
  }
  const field: EditField = HEARING_CB.field.unpack(answer.data).field;
  switch (field) {
    case "title":
    case "agenda":
    case "place":
      return { [field]: await askBilingual(conversation, ctx, field, current[field]) };
    case "duration":
      return { durationMin: await askDuration(conversation, ctx) };
    case "link": {
      const prompt = `${t("hearings.staff.ask_link")}\n\n${t("hearings.staff.current", {
        value: escapeHtml(current.onlineUrl ?? "—"),
      })}`;
      const markup = skipKeyboard(t, t("hearings.staff.btn_remove_link"));
      await ctx.reply(prompt, { parse_mode: "HTML", reply_markup: markup });
      for (;;) {
        const link = await next(conversation, HEARING_CB.skip.filter());
        if (link.kind === "button") return { onlineUrl: null };
        if (link.kind === "text" && isHttpsUrl(link.text)) return { onlineUrl: link.text };
        await link.ctx.reply(refusalText(t, "link_not_https"), { reply_markup: markup });
      }
    }
  }
}

/** Reminder offsets typed as "7d,1d,2h"; refused and asked again when unreadable. */
async function askOffsets(
  conversation: AppConversation,
  ctx: ConvContext,
  current: Snapshot,
): Promise<number[]> {
  const t = ctx.t;
  await ctx.reply(
    t("hearings.staff.ask_reminders", { current: typedOffsets(current.reminderOffsets) || "—" }),
    { parse_mode: "HTML" },
  );
  for (;;) {
    const answer = await next(conversation, NO_BUTTONS);
    const offsets = answer.kind === "text" ? parseReminderOffsets(answer.text) : undefined;
    if (offsets) return offsets;
    await answer.ctx.reply(refusalText(t, "reminders_bad", { max: 10 }));
  }
}

type Minutes = { text?: string; document?: { fileId: string; name?: string } | { url: string } };

/** The minutes: a text and/or a document (a file, or an https link); at least one. */
async function askMinutes(conversation: AppConversation, ctx: ConvContext): Promise<Minutes> {
  const t = ctx.t;
  const max = HEARING_LIMITS.minutes;
  const onlyDocument = skipKeyboard(t, t("hearings.staff.btn_only_document"));
  await ctx.reply(t("hearings.staff.ask_minutes_text", { max }), { reply_markup: onlyDocument });
  let text: string | undefined;
  for (;;) {
    const answer = await next(conversation, HEARING_CB.skip.filter());
    if (answer.kind === "button") break;
    if (answer.kind === "document") {
      // A file sent right away is the document; its caption, if any, the text.
      return {
        ...(answer.caption ? { text: answer.caption.slice(0, max) } : {}),
        document: { fileId: answer.fileId, ...(answer.name ? { name: answer.name } : {}) },
      };
    }
    if (answer.text.length <= max) {
      text = answer.text;
      break;
    }
    await answer.ctx.reply(t("hearings.staff.too_long", { length: answer.text.length, max }), {
      reply_markup: onlyDocument,
    });
  }
  const noDocument = skipKeyboard(t, t("hearings.staff.btn_no_document"));
  const prompt = t("hearings.staff.ask_minutes_document");
  await ctx.reply(prompt, { reply_markup: text ? noDocument : undefined });
  for (;;) {
    const answer = await next(conversation, text ? HEARING_CB.skip.filter() : NO_BUTTONS);
    if (answer.kind === "button") return { ...(text ? { text } : {}) };
    if (answer.kind === "document") {
      return {
        ...(text ? { text } : {}),
        document: { fileId: answer.fileId, ...(answer.name ? { name: answer.name } : {}) },
      };
    }
    if (isHttpsUrl(answer.text))
      return { ...(text ? { text } : {}), document: { url: answer.text } };
    await answer.ctx.reply(refusalText(t, text ? "link_not_https" : "minutes_empty"), {
      reply_markup: text ? noDocument : undefined,
    });
  }
}

/** One service call as the person now is; a refusal comes back as words. */
type Write = (actor: HearingActor) => Promise<HearingRow>;

async function write(
  conversation: AppConversation,
  deps: BotDeps,
  chatId: number,
  task: Write,
): Promise<Outcome<{ startsAtMs: number; durationMin: number }>> {
  return once(conversation, async () => {
    const actor = await actorOfOrRefuse(deps, chatId);
    if (!actor.ok) return actor;
    return attempt(async () => {
      const row = await task(actor.value);
      return { startsAtMs: row.startsAt.getTime(), durationMin: row.durationMin };
    });
  });
}

async function manage(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
  hearingId: number,
  action: TypedAction,
): Promise<void> {
  const t = ctx.t;
  const chatId = ctx.chatId ?? 0;
  const service = serviceOf(deps);
  const loaded = await once(conversation, async () => {
    const actor = await actorOfOrRefuse(deps, chatId);
    if (!actor.ok) return actor;
    return attempt(async () => snapshotOf((await service.get(actor.value, hearingId)).hearing));
  });
  if (!loaded.ok) {
    await ctx.reply(refusalText(t, loaded.code, loaded.params));
    return;
  }
  const current = loaded.value;
  const when = (startsAtMs: number, durationMin: number) =>
    escapeHtml(
      formatHearingWhen(new Date(startsAtMs), durationMin, ctx.locale, deps.config.timezone),
    );

  let done: Outcome<{ startsAtMs: number; durationMin: number }>;
  let said: (value: { startsAtMs: number; durationMin: number }) => string;
  switch (action) {
    case "edit": {
      const patch = await askPatch(conversation, ctx, current);
      done = await write(conversation, deps, chatId, (a) => service.edit(a, hearingId, patch));
      said = () => t("hearings.staff.edited", { id: hearingId });
      break;
    }
    case "reschedule": {
      const prompt = `${t("hearings.staff.ask_reschedule")}\n\n${t("hearings.staff.current", {
        value: when(current.startsAtMs, current.durationMin),
      })}`;
      const at = await askHearingTime(conversation, ctx, deps, prompt);
      done = await write(conversation, deps, chatId, (a) => service.reschedule(a, hearingId, at));
      said = (v) =>
        t("hearings.staff.rescheduled", { id: hearingId, when: when(v.startsAtMs, v.durationMin) });
      break;
    }
    case "reminders": {
      const offsets = await askOffsets(conversation, ctx, current);
      done = await write(conversation, deps, chatId, (a) =>
        service.setReminders(a, hearingId, offsets),
      );
      said = () =>
        t("hearings.staff.reminders_set", { id: hearingId, offsets: typedOffsets(offsets) });
      break;
    }
    case "cancel": {
      const max = HEARING_LIMITS.cancelReason;
      const reason = await askText(
        conversation,
        ctx,
        t("hearings.staff.ask_cancel_reason", { max }),
        max,
      );
      // askText without a Skip button always returns a text.
      const typed = reason ?? "";
      done = await write(conversation, deps, chatId, (a) => service.cancel(a, hearingId, typed));
      said = () => t("hearings.staff.cancelled", { id: hearingId });
      break;
    }
    case "minutes": {
      const minutes = await askMinutes(conversation, ctx);
      done = await write(conversation, deps, chatId, (a) =>
        service.publishMinutes(a, hearingId, minutes),
      );
      said = () => t("hearings.staff.minutes_published", { id: hearingId });
      break;
    }
  }
  if (!done.ok) {
    await ctx.reply(refusalText(t, done.code, done.params), {
      reply_markup: openKeyboard(t, hearingId),
    });
    return;
  }
  await ctx.reply(said(done.value), {
    parse_mode: "HTML",
    reply_markup: openKeyboard(t, hearingId),
  });
}

/** The manage flow, entered from a card button with the hearing and the action. */
export function hearingManageConversation(deps: BotDeps) {
  return async function hearingManage(
    conversation: AppConversation,
    ctx: ConvContext,
    hearingId: number,
    action: TypedAction,
  ) {
    try {
      await manage(conversation, ctx, deps, hearingId, action);
    } catch (error) {
      if (error instanceof Aborted) return;
      throw error;
    }
  };
}
