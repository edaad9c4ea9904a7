import { InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import type { TFunction } from "../../i18n";

/** Callback data of the /settings menu. */
export const CB = {
  item: callbackData("settings", {
    item: field.oneOf(["language", "municipality", "topics", "close"]),
  }),
} as const;

export function menuKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("settings.language"), CB.item.pack({ item: "language" }))
    .text(t("settings.municipality"), CB.item.pack({ item: "municipality" }))
    .row()
    .text(t("settings.topics"), CB.item.pack({ item: "topics" }))
    .text(t("settings.close"), CB.item.pack({ item: "close" }));
}
