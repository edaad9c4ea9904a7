import { anyOf } from "../../bot/callback-data";
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import { updateUserSettings } from "../../core/people";
import { TOPICS, type Topic } from "../../db/schema";
import { type TFunction, translator } from "../../i18n";
import type { Locale } from "../../locales";
import { looksLikeQuestion } from "../faq/answering";
import {
  displayName,
  getDistrict,
  getMunicipality,
  listDistricts,
  listMunicipalities,
  listRegions,
  searchMunicipalities,
} from "../municipalities/service";
import { redeemTypedInvite } from "../roles/invite-redemption";
import {
  browseKeyboard,
  CB,
  choiceKeyboard,
  consentKeyboard,
  languageKeyboard,
  searchResultsKeyboard,
  topicsKeyboard,
} from "./keyboards";

/**
 * The steps of onboarding, each a small conversation of its own. /start runs them in a row;
 * /settings and /language run single ones. Every write happens inside `once` (conversation
 * external), so replays never write twice. At any step an invite code is redeemed (see
 * redeemTypedInvite) and the step's question asked again.
 */

/** How a step treats typed text that is not its answer. */
export interface StepOptions {
  /** End the flow and let the FAQ take the text as a question (/settings); else ask again. */
  textEnds?: boolean;
  /**
   * Questions typed during onboarding, kept to be answered once it is done (the FAQ needs the
   * person's language and municipality): a step that gets one says so and asks again.
   */
  held?: string[];
}

/** How many questions onboarding keeps; a person typing more is asked to wait with the rest. */
export const MAX_HELD_QUESTIONS = 3;

/**
 * Keeps `text` in `held` when it reads as a question, and says so; false when it does not.
 * Runs inside the conversation: `held` is rebuilt the same way on every replay.
 */
export async function holdQuestion(
  ctx: ConvContext,
  held: string[] | undefined,
  text: string,
  t: TFunction = ctx.t,
): Promise<boolean> {
  if (!held || !looksLikeQuestion(text)) return false;
  if (held.length >= MAX_HELD_QUESTIONS) {
    await ctx.reply(t("onboarding.questions_full"));
    return true;
  }
  held.push(text);
  await ctx.reply(t("onboarding.question_held"));
  return true;
}

/** `aside` for ask(): invite codes, redeemed wherever they are typed, and questions held. */
function asides(conversation: AppConversation, deps: BotDeps, options: StepOptions = {}) {
  return async (ctx: ConvContext) =>
    (await redeemTypedInvite(conversation, ctx, deps)) !== undefined ||
    (await holdQuestion(ctx, options.held, ctx.message?.text?.trim() ?? ""));
}

export async function askLanguage(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
  userId: number,
  options: { welcome: boolean } & StepOptions,
): Promise<Locale> {
  const text = options.welcome ? ctx.t("onboarding.welcome") : ctx.t("language.choose");
  await ctx.reply(text, { parse_mode: "HTML", reply_markup: languageKeyboard() });
  // The words that started onboarding were a question (on WhatsApp): say it is kept.
  if (options.held?.length) await ctx.reply(ctx.t("onboarding.question_held"));
  // `c.t` speaks the person's language as far as it is known: before they choose, the one their
  // app or browser reports.
  const again = (c: ConvContext) =>
    c.reply(c.t("language.choose"), { reply_markup: languageKeyboard() });
  const answer = await (async () => {
    for (;;) {
      const a = await ask(conversation, {
        buttons: CB.language.filter(),
        textEnds: options.textEnds,
        onOther: again,
        aside: asides(conversation, deps, options),
      });
      if (a.kind === "button") return a;
      await again(a.ctx);
    }
  })();
  const { locale } = CB.language.unpack(answer.data);
  await once(conversation, async () => {
    await updateUserSettings(deps.db, userId, { locale });
    const chatId = answer.ctx.chatId ?? 0;
    deps.locales.set(chatId, locale);
    deps.onLocaleChanged?.(chatId, locale);
  });
  await answer.ctx.editMessageText(translator(locale)("language.saved"));
  return locale;
}

export interface ChosenMunicipality {
  id: number;
  name: string;
}

export async function askMunicipality(
  conversation: AppConversation,
  locale: Locale,
  ctx: ConvContext,
  deps: BotDeps,
  userId: number,
  options: StepOptions = {},
): Promise<ChosenMunicipality> {
  const t = translator(locale);
  const { db } = deps;
  await ctx.reply(t("onboarding.municipality_ask"), { reply_markup: browseKeyboard(t) });
  for (;;) {
    // An invite to a municipality's staff or deputies answers this step too: the person had
    // none, so the invite's is now theirs (and the reply said so).
    let invitedTo: ChosenMunicipality | undefined;
    const answer = await ask(conversation, {
      buttons: anyOf(CB.municipality, CB.browse, CB.region, CB.district),
      acceptText: true,
      onOther: (c) =>
        c.reply(t("onboarding.municipality_type_please"), { reply_markup: browseKeyboard(t) }),
      aside: async (c) => {
        const r = await redeemTypedInvite(conversation, c, deps);
        if (r?.ok && r.municipalitySet && r.municipality) {
          invitedTo = { id: r.municipality.id, name: displayName(r.municipality, locale) };
        }
        return r !== undefined;
      },
    });
    if (answer.kind === "aside") {
      if (invitedTo) return invitedTo;
      await answer.ctx.reply(t("onboarding.municipality_ask"), { reply_markup: browseKeyboard(t) });
      continue;
    }
    if (answer.kind === "text") {
      const found = await once(conversation, async () =>
        (await searchMunicipalities(db, answer.text, 6)).map(({ municipality: m }) => ({
          id: m.id,
          // Same-named aimaks exist in different districts: say where each one is.
          label: `${displayName(m, locale)} · ${displayName(m.district ?? m.region, locale)}`,
        })),
      );
      // A question typed instead of a place («сколько депутатов в кенеше?») is kept for later,
      // not searched as a place name: only when no place answers to it.
      if (found.length === 0 && (await holdQuestion(answer.ctx, options.held, answer.text, t))) {
        await answer.ctx.reply(t("onboarding.municipality_ask"), {
          reply_markup: browseKeyboard(t),
        });
      } else if (found.length === 0) {
        await answer.ctx.reply(t("onboarding.municipality_not_found", { query: answer.text }), {
          reply_markup: browseKeyboard(t),
        });
      } else {
        await answer.ctx.reply(t("onboarding.municipality_found"), {
          reply_markup: searchResultsKeyboard(t, found),
        });
      }
      continue;
    }
    const pressedRegion = CB.region.match(answer.data);
    const pressedDistrict = CB.district.match(answer.data);
    if (CB.browse.filter().test(answer.data)) {
      const regions = await once(conversation, async () =>
        (await listRegions(db)).map((r) => ({ id: r.id, label: displayName(r, locale) })),
      );
      await answer.ctx.editMessageText(t("onboarding.region_choose"), {
        reply_markup: choiceKeyboard(CB.region, regions),
      });
    } else if (pressedRegion) {
      const { id } = pressedRegion;
      const { districts, direct } = await once(conversation, async () => ({
        districts: (await listDistricts(db, id)).map((d) => ({
          id: d.id,
          label: displayName(d, locale),
        })),
        direct: (await listMunicipalities(db, { regionId: id, districtId: null })).map((m) => ({
          id: m.id,
          label: displayName(m, locale),
        })),
      }));
      const back = { t, data: CB.browse.pack() };
      if (districts.length === 0) {
        await answer.ctx.editMessageText(t("onboarding.municipality_choose"), {
          reply_markup: choiceKeyboard(CB.municipality, direct, back),
        });
      } else {
        // Cities outside any district are listed with the districts, as people look for them there.
        const kb = choiceKeyboard(CB.district, districts);
        for (const m of direct) kb.text(m.label, CB.municipality.pack({ id: m.id })).row();
        kb.text(t("common.back"), CB.browse.pack());
        await answer.ctx.editMessageText(t("onboarding.district_choose"), { reply_markup: kb });
      }
    } else if (pressedDistrict) {
      const { id } = pressedDistrict;
      const result = await once(conversation, async () => {
        const district = await getDistrict(db, id);
        if (!district) return undefined;
        const list = await listMunicipalities(db, { regionId: district.regionId, districtId: id });
        return {
          regionId: district.regionId,
          list: list.map((m) => ({ id: m.id, label: displayName(m, locale) })),
        };
      });
      if (!result) {
        await answer.ctx.answerCallbackQuery({ text: t("errors.stale_button") }).catch(() => {});
        continue;
      }
      await answer.ctx.editMessageText(t("onboarding.municipality_choose"), {
        reply_markup: choiceKeyboard(CB.municipality, result.list, {
          t,
          data: CB.region.pack({ id: result.regionId }),
        }),
      });
    } else {
      // A municipality id straight from a button: check it exists before saving anything.
      const { id } = CB.municipality.unpack(answer.data);
      const chosen = await once(conversation, async () => {
        const m = await getMunicipality(db, id);
        if (!m) return undefined;
        await updateUserSettings(db, userId, { municipalityId: m.id });
        return { id: m.id, name: displayName(m, locale) };
      });
      if (!chosen) {
        await answer.ctx.reply(t("errors.stale_button"));
        continue;
      }
      await answer.ctx.editMessageText(t("onboarding.municipality_saved", { name: chosen.name }), {
        parse_mode: "HTML",
      });
      return chosen;
    }
  }
}

export async function askTopics(
  conversation: AppConversation,
  locale: Locale,
  ctx: ConvContext,
  deps: BotDeps,
  userId: number,
  current: readonly Topic[],
  options: StepOptions = {},
): Promise<Topic[]> {
  const t = translator(locale);
  const selected = new Set<Topic>(current);
  await ctx.reply(t("onboarding.topics_ask"), { reply_markup: topicsKeyboard(t, selected) });
  const again = (c: ConvContext) =>
    c.reply(t("onboarding.topics_ask"), { reply_markup: topicsKeyboard(t, selected) });
  for (;;) {
    const answer = await ask(conversation, {
      buttons: anyOf(CB.topic, CB.topicsDone),
      textEnds: options.textEnds,
      onOther: again,
      aside: asides(conversation, deps, options),
    });
    if (answer.kind !== "button") {
      await again(answer.ctx);
      continue;
    }
    if (CB.topicsDone.filter().test(answer.data)) {
      const topics = TOPICS.filter((topic) => selected.has(topic));
      await once(conversation, () => updateUserSettings(deps.db, userId, { topics }));
      const summary =
        topics.map((topic) => t(`onboarding.topic_${topic}`)).join(", ") || t("settings.none");
      await answer.ctx.editMessageText(`${t("settings.topics")}: ${summary}`);
      return topics;
    }
    const { topic } = CB.topic.unpack(answer.data);
    if (selected.has(topic)) selected.delete(topic);
    else selected.add(topic);
    await answer.ctx.editMessageReplyMarkup({ reply_markup: topicsKeyboard(t, selected) });
  }
}

export async function askConsent(
  conversation: AppConversation,
  locale: Locale,
  ctx: ConvContext,
  deps: BotDeps,
  userId: number,
  options: StepOptions = {},
): Promise<void> {
  const t = translator(locale);
  await ctx.reply(t("onboarding.consent_text"), { reply_markup: consentKeyboard(t) });
  for (;;) {
    const answer = await ask(conversation, {
      buttons: CB.consent.filter(),
      onOther: (c) =>
        c.reply(t("onboarding.consent_required"), { reply_markup: consentKeyboard(t) }),
      aside: asides(conversation, deps, options),
    });
    if (answer.kind !== "button") {
      await answer.ctx.reply(t("onboarding.consent_text"), { reply_markup: consentKeyboard(t) });
      continue;
    }
    await once(conversation, () => updateUserSettings(deps.db, userId, { consentAt: new Date() }));
    await answer.ctx.editMessageReplyMarkup();
    return;
  }
}
