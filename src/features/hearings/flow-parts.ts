/**
 * Steps the create and the manage flows share: a text in Kyrgyz and/or Russian, the start time,
 * the duration; and the actor of a write.
 */
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { once } from "../../bot/conversation-kit";
import { escapeHtml } from "../../i18n";
import { actorOf, type Outcome, refusalText } from "./bot-common";
import { HEARING_CB } from "./callbacks";
import { durationKeyboard } from "./keyboards";
import type { HearingText } from "./schema";
import { askText, NO_BUTTONS, next } from "./steps";
import { parseHearingTime } from "./time";
import { HEARING_LIMITS, type HearingActor } from "./types";

export { Aborted } from "./steps";

/** The actor of a write, re-read from the database; a vanished person is not allowed. */
export async function actorOfOrRefuse(
  deps: BotDeps,
  chatId: number,
): Promise<Outcome<HearingActor>> {
  const actor = await actorOf(deps, chatId);
  return actor ? { ok: true, value: actor } : { ok: false, code: "not_allowed", params: {} };
}

type TextField = "title" | "agenda" | "place";

const LIMIT: Record<TextField, number> = {
  title: HEARING_LIMITS.title,
  agenda: HEARING_LIMITS.agenda,
  place: HEARING_LIMITS.place,
};

/**
 * A text in Kyrgyz, then in Russian. New (no `current`): Kyrgyz may be skipped, Russian only when
 * Kyrgyz was given, unless the field is optional (the agenda). Editing: either may be kept as is.
 */
export async function askBilingual(
  conversation: AppConversation,
  ctx: ConvContext,
  field: TextField,
  current?: HearingText,
): Promise<HearingText> {
  const t = ctx.t;
  const max = LIMIT[field];
  const optional = field === "agenda";
  const skip = t(current ? "hearings.staff.btn_keep" : "hearings.staff.btn_skip");
  const shown = (text: string | undefined) =>
    current ? `\n\n${t("hearings.staff.current", { value: escapeHtml(text ?? "—") })}` : "";
  const ky = await askText(
    conversation,
    ctx,
    t(`hearings.staff.ask_${field}_ky`, { max }) + shown(current?.ky),
    max,
    skip,
  );
  const ruSkippable = Boolean(current) || optional || ky !== undefined;
  const ru = await askText(
    conversation,
    ctx,
    t(`hearings.staff.ask_${field}_ru`, { max }) + shown(current?.ru),
    max,
    ruSkippable ? skip : undefined,
  );
  const kyValue = ky ?? current?.ky;
  const ruValue = ru ?? current?.ru;
  return { ...(kyValue ? { ky: kyValue } : {}), ...(ruValue ? { ru: ruValue } : {}) };
}

export const askTitle = (conversation: AppConversation, ctx: ConvContext) =>
  askBilingual(conversation, ctx, "title");
export const askPlace = (conversation: AppConversation, ctx: ConvContext) =>
  askBilingual(conversation, ctx, "place");

/**
 * A start typed in the deployment's time zone; unreadable or past times are refused with a word
 * on which it was, and asked again.
 */
export async function askHearingTime(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
  prompt: string,
): Promise<Date> {
  await ctx.reply(prompt, { parse_mode: "HTML" });
  for (;;) {
    const answer = await next(conversation, NO_BUTTONS);
    const now = new Date(await once(conversation, async () => Date.now()));
    const at =
      answer.kind === "text" ? parseHearingTime(answer.text, deps.config.timezone, now) : undefined;
    if (at && at.getTime() > now.getTime()) return at;
    await answer.ctx.reply(refusalText(ctx.t, at ? "time_past" : "time_bad"));
  }
}

/** 1, 2 or 3 hours by button, or typed minutes within the limits. */
export async function askDuration(
  conversation: AppConversation,
  ctx: ConvContext,
): Promise<number> {
  const t = ctx.t;
  const { minDurationMin: min, maxDurationMin: max } = HEARING_LIMITS;
  await ctx.reply(t("hearings.staff.ask_duration", { min, max }), {
    reply_markup: durationKeyboard(t),
  });
  for (;;) {
    const answer = await next(conversation, HEARING_CB.duration.filter());
    if (answer.kind === "button") return Number(HEARING_CB.duration.unpack(answer.data).minutes);
    const typed =
      answer.kind === "text" && /^\d{1,4}$/.test(answer.text) ? Number(answer.text) : NaN;
    if (typed >= min && typed <= max) return typed;
    await answer.ctx.reply(refusalText(t, "duration_bad", { min, max }), {
      reply_markup: durationKeyboard(t),
    });
  }
}
