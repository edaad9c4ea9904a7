import { InlineKeyboard } from "grammy";
import type { Locale } from "../../config";
import { SUPPORTED_LOCALES } from "../../config";
import { TOPICS, type Topic } from "../../db/schema";
import { type TFunction, translator } from "../../i18n";

/** Each language is named in itself, so anyone can find theirs. */
export function languageKeyboard(): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const locale of SUPPORTED_LOCALES)
    kb.text(translator(locale)("language.name"), `lang:${locale}`).row();
  return kb;
}

export interface Choice {
  id: number;
  label: string;
}

/** A two-column list of choices with an optional back button underneath. */
export function choiceKeyboard(
  prefix: string,
  choices: Choice[],
  back?: { t: TFunction; data: string },
): InlineKeyboard {
  const kb = new InlineKeyboard();
  choices.forEach((c, i) => {
    kb.text(c.label, `${prefix}:${c.id}`);
    if (i % 2 === 1) kb.row();
  });
  if (choices.length % 2 === 1) kb.row();
  if (back) kb.text(back.t("common.back"), back.data);
  return kb;
}

export function searchResultsKeyboard(t: TFunction, choices: Choice[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of choices) kb.text(c.label, `mun:${c.id}`).row();
  return kb.text(t("onboarding.municipality_browse"), "browse");
}

export function browseKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard().text(t("onboarding.municipality_browse"), "browse");
}

export function topicsKeyboard(t: TFunction, selected: ReadonlySet<Topic>): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const topic of TOPICS) {
    kb.text(
      `${selected.has(topic) ? "✅" : "⬜"} ${t(`onboarding.topic_${topic}`)}`,
      `topic:${topic}`,
    ).row();
  }
  return kb.text(t("common.done"), "topics:done");
}

export function consentKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard().text(t("onboarding.consent_agree"), "consent:yes");
}

export function localeName(locale: Locale): string {
  return translator(locale)("language.name");
}
