import { createConversation } from "@grammyjs/conversations";
import { Composer } from "grammy";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { translator } from "../../i18n";
import { askConsent, askLanguage, askMunicipality, askTopics } from "./steps";

export const ONBOARDING = "onboarding";
export const LANGUAGE = "language";

/** /start for a new person: language → municipality → topics → consent. */
export function onboardingConversation(deps: BotDeps) {
  return async function onboarding(conversation: AppConversation, ctx: ConvContext) {
    const me = await conversation.external((outer) => ({
      id: outer.user.id,
      topics: outer.user.topics,
    }));
    const locale = await askLanguage(conversation, ctx, deps, me.id, { welcome: true });
    const municipality = await askMunicipality(conversation, locale, ctx, deps, me.id);
    await askTopics(conversation, locale, ctx, deps, me.id, me.topics);
    await askConsent(conversation, locale, ctx, deps, me.id);
    await ctx.reply(translator(locale)("onboarding.finished", { name: municipality.name }));
  };
}

/** /language: just the language step. */
export function languageConversation(deps: BotDeps) {
  return async function language(conversation: AppConversation, ctx: ConvContext) {
    const userId = await conversation.external((outer) => outer.user.id);
    await askLanguage(conversation, ctx, deps, userId, { welcome: false });
  };
}

export function onboardingConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(createConversation(onboardingConversation(deps), ONBOARDING));
  composer.use(createConversation(languageConversation(deps), LANGUAGE));
  return composer;
}
