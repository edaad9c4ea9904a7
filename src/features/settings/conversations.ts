import { Composer } from "grammy";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import { flow } from "../../bot/flows";
import { translator } from "../../i18n";
import type { Locale } from "../../locales";
import { displayName, getMunicipality } from "../municipalities/service";
import { localeName } from "../onboarding/keyboards";
import { askLanguage, askMunicipality, askTopics } from "../onboarding/steps";
import { redeemTypedInvite } from "../roles/invite-redemption";
import { CB, menuKeyboard } from "./keyboards";

export const SETTINGS = "settings";

/**
 * /settings: a menu of the onboarding steps, back to the menu after each change. Typed text
 * that is no answer (a question) ends the menu and goes to the FAQ; see ask().
 */
export function settingsConversation(deps: BotDeps) {
  return async function settings(conversation: AppConversation, ctx: ConvContext) {
    // The person as the /settings update found them; each step below returns what it changed,
    // so the menu is redrawn without reading the person back.
    const me = await conversation.external((outer) => ({
      id: outer.user.id,
      locale: outer.locale,
      topics: outer.user.topics,
      municipalityId: outer.user.municipalityId,
    }));
    let locale: Locale = me.locale;
    let topics = me.topics;
    let municipalityId = me.municipalityId;
    for (;;) {
      const municipality = await once(conversation, async () => {
        const m = municipalityId ? await getMunicipality(deps.db, municipalityId) : undefined;
        return m ? { nameKy: m.nameKy, nameRu: m.nameRu } : null;
      });
      const t = translator(locale);
      const summary = t("settings.menu", {
        language: localeName(locale),
        municipality: municipality ? displayName(municipality, locale) : t("settings.not_set"),
        topics:
          topics.map((topic) => t(`onboarding.topic_${topic}`)).join(", ") || t("settings.none"),
      });
      await ctx.reply(summary, { reply_markup: menuKeyboard(t) });
      const answer = await ask(conversation, {
        buttons: CB.item.filter(),
        // A question typed into the open menu closes it and is answered (by the FAQ).
        textEnds: true,
        onOther: (c) => c.reply(summary, { reply_markup: menuKeyboard(t) }),
        // An invite code: redeemed, then the menu is drawn again (with the invite's
        // municipality if it became the person's).
        aside: async (c) => {
          const r = await redeemTypedInvite(conversation, c, deps);
          if (r?.ok && r.municipalitySet && r.municipality) municipalityId = r.municipality.id;
          return r !== undefined;
        },
      });
      if (answer.kind !== "button") continue;
      await answer.ctx.editMessageReplyMarkup();
      switch (CB.item.unpack(answer.data).item) {
        case "language":
          locale = await askLanguage(conversation, answer.ctx, deps, me.id, {
            welcome: false,
            textEnds: true,
          });
          break;
        case "municipality":
          municipalityId = (await askMunicipality(conversation, locale, answer.ctx, deps, me.id))
            .id;
          break;
        case "topics":
          topics = await askTopics(conversation, locale, answer.ctx, deps, me.id, topics, {
            textEnds: true,
          });
          break;
        default:
          await answer.ctx.reply(t("settings.closed"));
          return;
      }
    }
  };
}

export function settingsConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(settingsConversation(deps), SETTINGS));
  return composer;
}

export function settingsHandlers(): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.command("settings", async (ctx) => {
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(SETTINGS);
  });
  return composer;
}
