import { Composer, InputFile } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { capabilitiesOf } from "../../channels/capabilities";
import { escapeHtml } from "../../i18n";
import { CB, CONFIRM_MINUTES, confirmKeyboard, minutesNow } from "./keyboards";
import { collectPersonalData, forgetPerson, type PersonalData } from "./service";

/** Telegram's limit is 4,096; a little room for the channel's own markup. */
const MESSAGE_MAX = 3_900;

/** Lines joined into as few messages as fit, each line whole (a longer line goes alone). */
function chunks(lines: readonly string[], max = MESSAGE_MAX): string[] {
  const out: string[] = [];
  let current: string | undefined;
  for (const line of lines) {
    if (current !== undefined && current.length + 1 + line.length > max) {
      out.push(current);
      current = undefined;
    }
    current = current === undefined ? line : `${current}\n${line}`;
  }
  if (current !== undefined) out.push(current);
  return out;
}

/** The readable summary: a heading per section that has something, its lines under it. */
function summary(ctx: AppContext, data: PersonalData): string[] {
  const lines = [ctx.t("privacy.mydata_title")];
  for (const section of data.sections) {
    if (section.lines.length === 0) continue;
    lines.push("", `<b>${ctx.t(`privacy.section_${section.key}`)}</b>`, ...section.lines);
  }
  lines.push("", ctx.t("privacy.mydata_footer"));
  return lines;
}

/**
 * /privacy (what is kept and for how long), /mydata (all of it: a summary and a JSON file) and
 * /forgetme (all of it deleted, after a confirmation button). Everyone may use them; each acts
 * only on the person pressing, whoever they are, checked on the server against the button.
 */
export function privacyHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  composer.command("privacy", (ctx) =>
    ctx.reply(ctx.t("privacy.text", { days: deps.config.retentionDays }), {
      parse_mode: "HTML",
    }),
  );

  composer.command("mydata", async (ctx) => {
    const data = await collectPersonalData(deps, ctx.user.id, ctx.t, ctx.locale);
    if (!data) return;
    for (const text of chunks(summary(ctx, data))) {
      await ctx.reply(text, { parse_mode: "HTML", link_preview_options: { is_disabled: true } });
    }
    const json = JSON.stringify(data.document, null, 2);
    if (capabilitiesOf(ctx.user.channel).files) {
      await ctx.replyWithDocument(new InputFile(Buffer.from(json, "utf8"), "aimak-my-data.json"), {
        caption: ctx.t("privacy.mydata_file"),
      });
      return;
    }
    // Where files cannot be sent (the web chat) the document comes as text to copy.
    const parts = chunks(json.split("\n"), MESSAGE_MAX - 20);
    for (const part of parts) {
      await ctx.reply(`<pre>${escapeHtml(part)}</pre>`, { parse_mode: "HTML" });
    }
  });

  composer.command("forgetme", async (ctx) => {
    const roles = ctx.roles.map((r) => ctx.t(`roles.${r.role}`));
    const parts = [ctx.t("privacy.forget_ask")];
    if (roles.length > 0) {
      parts.push(ctx.t("privacy.forget_roles", { roles: [...new Set(roles)].join(", ") }));
    }
    await ctx.reply(parts.join("\n\n"), {
      parse_mode: "HTML",
      reply_markup: confirmKeyboard(ctx.t, ctx.user.id),
    });
  });

  composer.callbackQuery(CB.yes.filter(), async (ctx) => {
    const { userId, askedAt } = CB.yes.unpack(ctx.callbackQuery.data);
    // Only the person it was asked of, and only for a while: an old button does nothing.
    if (userId !== ctx.user.id || minutesNow() - askedAt > CONFIRM_MINUTES) {
      await ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button"), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    // Said first: once the person is gone, the web chat and WhatsApp have nobody to say it to.
    await ctx.reply(ctx.t("privacy.forget_done"), { parse_mode: "HTML" });
    let result: Awaited<ReturnType<typeof forgetPerson>>;
    try {
      result = await forgetPerson(deps, ctx.user.id);
    } catch (err) {
      ctx.log.error({ err }, "privacy: forgetting a person failed; nothing was deleted");
      await ctx.reply(ctx.t("privacy.forget_failed"));
      return;
    }
    if (!result) return;
    ctx.log.info({ rows: result.rows }, "privacy: a person's data was deleted");
    // Their Telegram menu goes back to the default (see commandMenuMiddleware).
    ctx.roles = [];
    deps.onForgotten?.(ctx.user.chatId);
  });

  composer.callbackQuery(CB.no.filter(), async (ctx) => {
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t("privacy.forget_cancelled"));
  });

  return composer;
}
