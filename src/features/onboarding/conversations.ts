import { Composer } from "grammy";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { once } from "../../bot/conversation-kit";
import { flow, isCommandMessage } from "../../bot/flows";
import { findUserById } from "../../core/people";
import { translator } from "../../i18n";
import { answerQuestion, looksLikeQuestion } from "../faq/answering";
import { displayName, getMunicipality } from "../municipalities/service";
import { askConsent, askLanguage, askMunicipality, askTopics } from "./steps";

export const ONBOARDING = "onboarding";
export const LANGUAGE = "language";

/**
 * /start for a new person: language → municipality → topics → consent. Questions typed on the
 * way (on WhatsApp the very first words may be one) are kept and answered at the end.
 */
export function onboardingConversation(deps: BotDeps) {
  return async function onboarding(conversation: AppConversation, ctx: ConvContext) {
    const me = await conversation.external((outer) => ({
      id: outer.user.id,
      topics: outer.user.topics,
      municipalityId: outer.user.municipalityId,
    }));
    const held: string[] = [];
    const first = ctx.message?.text?.trim();
    if (first && !isCommandMessage(ctx.message) && looksLikeQuestion(first)) held.push(first);
    const locale = await askLanguage(conversation, ctx, deps, me.id, { welcome: true, held });
    // An invite code typed at the language step may have given the person their municipality
    // (see redeemInvite): "you are now staff of X" and then "where do you live?" would be odd.
    const invitedTo =
      me.municipalityId === null
        ? await once(conversation, async () => {
            const user = await findUserById(deps.db, me.id);
            const m = user?.municipalityId
              ? await getMunicipality(deps.db, user.municipalityId)
              : undefined;
            return m ? { id: m.id, name: displayName(m, locale) } : null;
          })
        : null;
    const municipality =
      invitedTo ?? (await askMunicipality(conversation, locale, ctx, deps, me.id, { held }));
    await askTopics(conversation, locale, ctx, deps, me.id, me.topics, { held });
    await askConsent(conversation, locale, ctx, deps, me.id, { held });
    await ctx.reply(translator(locale)("onboarding.finished", { name: municipality.name }));
    // Answered as typed questions are, through the update that finished onboarding: by now the
    // person's language, municipality and roles are what the answer depends on.
    for (const text of held) {
      await conversation.external((outer) => answerQuestion(deps, outer, text));
    }
  };
}

/** /language: just the language step. */
export function languageConversation(deps: BotDeps) {
  return async function language(conversation: AppConversation, ctx: ConvContext) {
    const userId = await conversation.external((outer) => outer.user.id);
    // Like /settings: text typed instead of choosing is a question, and goes to the FAQ.
    await askLanguage(conversation, ctx, deps, userId, { welcome: false, textEnds: true });
  };
}

export function onboardingConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(onboardingConversation(deps), ONBOARDING));
  composer.use(flow(languageConversation(deps), LANGUAGE));
  return composer;
}
