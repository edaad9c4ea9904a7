import { InlineKeyboard } from "grammy";
import { type CallbackData, callbackData, field } from "../../bot/callback-data";
import { TOPICS, type Topic } from "../../db/schema";
import { type TFunction, translator } from "../../i18n";
import { LOCALES, type Locale } from "../../locales";

const id = field.int();

/** Callback data of the onboarding steps (also run from /settings and /language). */
export const CB = {
  language: callbackData("lang", { locale: field.oneOf(LOCALES) }),
  /** Browsing the directory: regions, then districts, then municipalities; "browse" starts it. */
  browse: callbackData("browse"),
  region: callbackData("region", { id }),
  district: callbackData("district", { id }),
  municipality: callbackData("mun", { id }),
  topic: callbackData("topic", { topic: field.oneOf(TOPICS) }),
  topicsDone: callbackData("topics:done"),
  consent: callbackData("consent:yes"),
} as const;

/** Each language is named in itself, so anyone can find theirs. */
export function languageKeyboard(): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const locale of LOCALES)
    kb.text(translator(locale)("language.name"), CB.language.pack({ locale })).row();
  return kb;
}

export interface Choice {
  id: number;
  label: string;
}

/** A two-column list of choices with an optional back button underneath. */
export function choiceKeyboard(
  button: CallbackData<{ id: typeof id }>,
  choices: Choice[],
  back?: { t: TFunction; data: string },
): InlineKeyboard {
  const kb = new InlineKeyboard();
  choices.forEach((c, i) => {
    kb.text(c.label, button.pack({ id: c.id }));
    if (i % 2 === 1) kb.row();
  });
  if (choices.length % 2 === 1) kb.row();
  if (back) kb.text(back.t("common.back"), back.data);
  return kb;
}

export function searchResultsKeyboard(t: TFunction, choices: Choice[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of choices) kb.text(c.label, CB.municipality.pack({ id: c.id })).row();
  return kb.text(t("onboarding.municipality_browse"), CB.browse.pack());
}

export function browseKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard().text(t("onboarding.municipality_browse"), CB.browse.pack());
}

export function topicsKeyboard(t: TFunction, selected: ReadonlySet<Topic>): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const topic of TOPICS) {
    kb.text(
      `${selected.has(topic) ? "✅" : "⬜"} ${t(`onboarding.topic_${topic}`)}`,
      CB.topic.pack({ topic }),
    ).row();
  }
  return kb.text(t("common.done"), CB.topicsDone.pack());
}

export function consentKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard().text(t("onboarding.consent_agree"), CB.consent.pack());
}

export function localeName(locale: Locale): string {
  return translator(locale)("language.name");
}
