/**
 * Inline keyboards as the channels keep them: rows of buttons that carry callback data or a
 * URL. Channels other than Telegram read them out of the bot's Bot API calls and give them back
 * on the messages of callback queries.
 */
export interface ChannelButton {
  text: string;
  callbackData?: string;
  url?: string;
}

/** The rows of a Bot API `reply_markup.inline_keyboard` (undefined when it has none). */
export function inlineButtonsOf(replyMarkup: unknown): ChannelButton[][] | undefined {
  const rows = (replyMarkup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard;
  if (!Array.isArray(rows)) return undefined;
  const buttons = rows
    .filter((row): row is Record<string, unknown>[] => Array.isArray(row) && row.length > 0)
    .map((row) =>
      row.map((b) => ({
        text: String(b.text ?? ""),
        ...(typeof b.callback_data === "string" ? { callbackData: b.callback_data } : {}),
        ...(typeof b.url === "string" ? { url: b.url } : {}),
      })),
    );
  return buttons.length > 0 ? buttons : undefined;
}

/** The Bot API's `reply_markup` for stored rows of buttons. */
export function inlineKeyboardOf(buttons: ChannelButton[][]) {
  return {
    inline_keyboard: buttons.map((row) =>
      row.map((b) =>
        b.url
          ? { text: b.text, url: b.url }
          : { text: b.text, callback_data: b.callbackData ?? "" },
      ),
    ),
  };
}
