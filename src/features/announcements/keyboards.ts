import { InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import type { TFunction } from "../../i18n";

/** Callback data of this feature. Anything pressed is re-checked on the server. */
export const CB = {
  skip: callbackData("ann:skip"),
  audience: callbackData("ann:aud", {
    audience: field.oneOf(["sub", "all", "deputy", "staff"]),
  }),
  now: callbackData("ann:now"),
  later: callbackData("ann:later"),
  confirm: callbackData("ann:confirm"),
  abort: callbackData("ann:abort"),
  /** Cancel broadcast `messageId` (scheduled or sending). */
  cancel: callbackData("ann:cancel", { messageId: field.int() }),
  municipality: callbackData("ann:mun", { municipalityId: field.int() }),
} as const;

export function skipKeyboard(t: TFunction, label: string): InlineKeyboard {
  return new InlineKeyboard()
    .text(label, CB.skip.pack())
    .row()
    .text(t("common.cancel"), CB.abort.pack());
}

export function audienceKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("announcements.audience_subscribers"), CB.audience.pack({ audience: "sub" }))
    .row()
    .text(t("announcements.audience_all"), CB.audience.pack({ audience: "all" }))
    .row()
    .text(t("announcements.audience_deputies"), CB.audience.pack({ audience: "deputy" }))
    .text(t("announcements.audience_staff"), CB.audience.pack({ audience: "staff" }))
    .row()
    .text(t("common.cancel"), CB.abort.pack());
}

export function whenKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("announcements.send_now"), CB.now.pack())
    .text(t("announcements.send_later"), CB.later.pack())
    .row()
    .text(t("common.cancel"), CB.abort.pack());
}

export function confirmKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("announcements.confirm"), CB.confirm.pack())
    .row()
    .text(t("common.cancel"), CB.abort.pack());
}

export function cancelBroadcastKeyboard(t: TFunction, messageId: number): InlineKeyboard {
  return new InlineKeyboard().text(
    t("announcements.cancel_broadcast"),
    CB.cancel.pack({ messageId }),
  );
}
