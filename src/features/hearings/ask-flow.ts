/**
 * A resident's question or proposal to a hearing: one message, up to the limit, stored with the
 * hearing and confirmed to the sender. A button pressed meanwhile ends the flow and is handled
 * as usual (so "going" still works); commands end it too (bot/flows).
 */
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import { findPersonByChatId } from "../../core/people";
import { escapeHtml } from "../../i18n";
import { senderNames } from "../announcements/service";
import { attempt, type Outcome, refusalText, serviceOf } from "./bot-common";
import { HEARING_LIMITS } from "./types";

export const HEARING_ASK = "hearingAsk";

export function hearingAskConversation(deps: BotDeps) {
  return async function hearingAsk(
    conversation: AppConversation,
    ctx: ConvContext,
    hearingId: number,
  ) {
    const t = ctx.t;
    const chatId = ctx.chatId ?? 0;
    const max = HEARING_LIMITS.question;
    await ctx.reply(t("hearings.resident.ask_prompt", { max }));
    for (;;) {
      // Another button (a notice's "going") or a command ends the question and is handled.
      const answer = await ask(conversation, {
        buttons: /^(?!)/,
        otherButtons: "end",
        acceptText: true,
        maxLength: max,
        onTooLong: (c, length) => c.reply(t("hearings.resident.ask_too_long", { length, max })),
        onOther: (c) => c.reply(t("hearings.resident.ask_text_only", { max })),
      });
      if (answer.kind !== "text") continue;
      const { text, ctx: next } = answer;
      const saved: Outcome<{ body: string }> = await once(conversation, async () => {
        const person = await findPersonByChatId(deps.db, chatId);
        if (!person) return { ok: false, code: "not_allowed", params: {} };
        return attempt(async () => {
          await serviceOf(deps).ask(person.user.id, hearingId, text);
          return { body: await whoReads(deps, person.user.municipalityId, ctx.locale) };
        });
      });
      if (!saved.ok) {
        await next.reply(refusalText(t, saved.code, saved.params));
        // Too long by the service's count: the person may shorten it; anything else ends here.
        if (saved.code === "question_too_long" || saved.code === "question_empty") continue;
        return;
      }
      await next.reply(t("hearings.resident.asked", { body: escapeHtml(saved.value.body) }), {
        parse_mode: "HTML",
      });
      return;
    }
  };
}

/** "Sokuluk aiyl okmotu": who receives the question, in the sender's language. */
async function whoReads(
  deps: BotDeps,
  municipalityId: number | null,
  locale: ConvContext["locale"],
): Promise<string> {
  return (await senderNames(deps.db, municipalityId))[locale];
}
