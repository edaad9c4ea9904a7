import { InlineKeyboard } from "grammy";
import type { TFunction } from "../../i18n";

/** Callback data of this feature. Anything pressed is re-checked on the server. */
export const CB = {
  skip: "ann:skip",
  audience: /^ann:aud:(sub|all|deputy|staff)$/,
  now: "ann:now",
  later: "ann:later",
  confirm: "ann:confirm",
  abort: "ann:abort",
  cancel: /^ann:cancel:(\d+)$/,
  municipality: /^ann:mun:(\d+)$/,
} as const;

export function skipKeyboard(t: TFunction, label: string): InlineKeyboard {
  return new InlineKeyboard().text(label, CB.skip).row().text(t("common.cancel"), CB.abort);
}

export function audienceKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("announcements.audience_subscribers"), "ann:aud:sub")
    .row()
    .text(t("announcements.audience_all"), "ann:aud:all")
    .row()
    .text(t("announcements.audience_deputies"), "ann:aud:deputy")
    .text(t("announcements.audience_staff"), "ann:aud:staff")
    .row()
    .text(t("common.cancel"), CB.abort);
}

export function whenKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("announcements.send_now"), CB.now)
    .text(t("announcements.send_later"), CB.later)
    .row()
    .text(t("common.cancel"), CB.abort);
}

export function confirmKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("announcements.confirm"), CB.confirm)
    .row()
    .text(t("common.cancel"), CB.abort);
}

export function cancelBroadcastKeyboard(t: TFunction, messageId: number): InlineKeyboard {
  return new InlineKeyboard().text(t("announcements.cancel_broadcast"), `ann:cancel:${messageId}`);
}

export function municipalityKeyboard(
  choices: { id: number; label: string }[],
  t: TFunction,
): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of choices) kb.text(c.label, `ann:mun:${c.id}`).row();
  return kb.text(t("common.cancel"), CB.abort);
}
