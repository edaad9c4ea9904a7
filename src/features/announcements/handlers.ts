import { Composer, InlineKeyboard } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { escapeHtml, formatDateTime } from "../../i18n";
import { ANNOUNCE } from "./conversations";
import { CB } from "./keyboards";
import { progressText } from "./progress";
import {
  type Actor,
  AnnouncementNotAllowedError,
  cancelAnnouncement,
  getAnnouncement,
  listAnnouncements,
  mayAnnounce,
  typedText,
} from "./service";

function actorOf(ctx: AppContext): Actor {
  return { userId: ctx.user.id, roles: ctx.roles };
}

/** /broadcast, /broadcasts and the cancel button. Roles are checked again on every action. */
export function announcementsHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  composer.command(["broadcast", "announce"], async (ctx) => {
    if (!mayAnnounce(ctx.roles)) {
      await ctx.reply(ctx.t("errors.not_allowed"));
      return;
    }
    await ctx.conversation.exitAll();
    await ctx.conversation.enter(ANNOUNCE);
  });

  composer.command("broadcasts", async (ctx) => {
    if (!mayAnnounce(ctx.roles)) {
      await ctx.reply(ctx.t("errors.not_allowed"));
      return;
    }
    const list = await listAnnouncements(deps.db, actorOf(ctx), 10);
    if (list.length === 0) {
      await ctx.reply(ctx.t("announcements.list_empty"));
      return;
    }
    const lines = [ctx.t("announcements.list_header")];
    const kb = new InlineKeyboard();
    for (const { message, progress } of list) {
      const when = message.scheduledAt ?? message.startedAt ?? message.createdAt;
      const snippet = typedText(message.content, ctx.locale).replace(/\s+/g, " ");
      lines.push(
        ctx.t("announcements.list_item", {
          id: message.id,
          status: ctx.t(`announcements.status_${message.status}`),
          time: formatDateTime(when, ctx.locale, deps.config.timezone),
          text: escapeHtml(snippet.length > 60 ? `${snippet.slice(0, 59)}…` : snippet),
          total: progress.total,
          sent: progress.sent,
          failed: progress.failed,
          blocked: progress.blocked,
          left: progress.pending + progress.sending,
        }),
      );
      if (message.status === "scheduled" || message.status === "sending") {
        kb.text(
          ctx.t("announcements.cancel_numbered", { id: message.id }),
          CB.cancel.pack({ messageId: message.id }),
        ).row();
      }
    }
    await ctx.reply(lines.join("\n\n"), { parse_mode: "HTML", reply_markup: kb });
  });

  composer.callbackQuery(CB.cancel.filter(), async (ctx) => {
    const id = CB.cancel.unpack(ctx.callbackQuery.data).messageId;
    // The id comes from the button and may be forged: the service checks the municipality.
    try {
      const cancelled = await cancelAnnouncement(deps.db, actorOf(ctx), id);
      await ctx.answerCallbackQuery({
        text: ctx.t(cancelled ? "announcements.cancelled" : "announcements.already_over"),
      });
      if (cancelled) {
        // On the live status message, turn it into the final report right away.
        const { message, progress } = await getAnnouncement(deps.db, actorOf(ctx), id);
        const pressed = ctx.callbackQuery.message?.message_id;
        if (pressed !== undefined && pressed === message.progressMessageId) {
          await ctx.editMessageText(progressText(ctx.t, progress, "cancelled")).catch(() => {});
        } else {
          await ctx.editMessageReplyMarkup().catch(() => {});
        }
      }
    } catch (error) {
      if (!(error instanceof AnnouncementNotAllowedError)) throw error;
      ctx.log.warn({ userId: ctx.user.id, messageId: id }, "refused announcement cancel");
      await ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
  });

  return composer;
}
