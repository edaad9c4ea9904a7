import { InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import type { TFunction } from "../../i18n";

/**
 * /forgetme's buttons. "Yes" carries whose data it deletes and when it was asked (minutes since
 * 1970): a button from before (another person on this chat since, or an hour passed) is stale.
 */
export const CB = {
  yes: callbackData("forget:yes", {
    userId: field.int(),
    askedAt: field.int({ maxDigits: 9 }),
  }),
  no: callbackData("forget:no"),
} as const;

/** How long the confirmation button works. */
export const CONFIRM_MINUTES = 60;

export const minutesNow = () => Math.floor(Date.now() / 60_000);

export function confirmKeyboard(t: TFunction, userId: number): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("privacy.forget_yes"), CB.yes.pack({ userId, askedAt: minutesNow() }))
    .row()
    .text(t("privacy.forget_no"), CB.no.pack());
}
