import { Composer } from "grammy";
import type { AppContext } from "./context";

/** What nothing else handled: unknown commands, stale buttons, stickers and the like. */
export function fallbackHandlers(): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.on("message::bot_command", (ctx) => ctx.reply(ctx.t("errors.unknown_command")));
  composer.on("callback_query", (ctx) =>
    ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") }),
  );
  composer.on("message", (ctx) => ctx.reply(ctx.t("errors.unsupported")));
  return composer;
}
