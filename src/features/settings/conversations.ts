import { createConversation } from "@grammyjs/conversations";
import { Composer, InlineKeyboard } from "grammy";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import type { Locale } from "../../config";
import { type TFunction, translator } from "../../i18n";
import { displayName, getMunicipality } from "../municipalities/service";
import { localeName } from "../onboarding/keyboards";
import { askLanguage, askMunicipality, askTopics } from "../onboarding/steps";
import { findUserById } from "../users/service";

export const SETTINGS = "settings";

function menuKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("settings.language"), "settings:language")
    .text(t("settings.municipality"), "settings:municipality")
    .row()
    .text(t("settings.topics"), "settings:topics")
    .text(t("settings.close"), "settings:close");
}

/** /settings: a menu of the onboarding steps, back to the menu after each change. */
export function settingsConversation(deps: BotDeps) {
  return async function settings(conversation: AppConversation, ctx: ConvContext) {
    const userId = await conversation.external((outer) => outer.user.id);
    for (;;) {
      const state = await once(conversation, async () => {
        const user = await findUserById(deps.db, userId);
        const m = user?.municipalityId
          ? await getMunicipality(deps.db, user.municipalityId)
          : undefined;
        return {
          locale: (user?.locale ?? ctx.locale) as Locale,
          topics: user?.topics ?? [],
          municipality: m,
        };
      });
      const t = translator(state.locale);
      const summary = t("settings.menu", {
        language: localeName(state.locale),
        municipality: state.municipality
          ? displayName(state.municipality, state.locale)
          : t("settings.not_set"),
        topics:
          state.topics.map((topic) => t(`onboarding.topic_${topic}`)).join(", ") ||
          t("settings.none"),
      });
      await ctx.reply(summary, { reply_markup: menuKeyboard(t) });
      const answer = await ask(conversation, {
        buttons: /^settings:(language|municipality|topics|close)$/,
        onOther: (c) => c.reply(summary, { reply_markup: menuKeyboard(t) }),
      });
      if (answer.kind !== "button") continue;
      await answer.ctx.editMessageReplyMarkup();
      switch (answer.data) {
        case "settings:language":
          await askLanguage(conversation, answer.ctx, deps, userId, { welcome: false });
          break;
        case "settings:municipality":
          await askMunicipality(conversation, state.locale, answer.ctx, deps, userId);
          break;
        case "settings:topics":
          await askTopics(conversation, state.locale, answer.ctx, deps, userId, state.topics);
          break;
        default:
          await answer.ctx.reply(t("settings.closed"));
          return;
      }
    }
  };
}

export function settingsFeature(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(createConversation(settingsConversation(deps), SETTINGS));
  composer.command("settings", async (ctx) => {
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(SETTINGS);
  });
  return composer;
}
