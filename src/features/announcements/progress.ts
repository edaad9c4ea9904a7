import { eq } from "drizzle-orm";
import type { Api } from "grammy";
import { capabilitiesOf } from "../../channels/capabilities";
import type { Database } from "../../db/client";
import { users } from "../../db/schema";
import { type MessageProgress, setProgressMessage } from "../../delivery";
import { translator } from "../../i18n";
import { isLocale } from "../../locales";
import type { ProgressHook } from "../../scheduler";
import { CB } from "./keyboards";
import { etaSeconds } from "./service";

/** "1 мин 20 сек"-style duration in the sender's language. */
function duration(t: ReturnType<typeof translator>, seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? t("announcements.eta_min_sec", { m, s }) : t("announcements.eta_sec", { s });
}

export function progressText(
  t: ReturnType<typeof translator>,
  p: MessageProgress,
  final: "running" | "done" | "cancelled",
): string {
  const params = {
    total: p.total,
    sent: p.sent,
    failed: p.failed,
    blocked: p.blocked,
    unreachable: p.unreachable,
    held: p.held,
    left: p.pending + p.sending,
    eta: duration(t, etaSeconds(p)),
  };
  const text =
    final === "done"
      ? t("announcements.report_done", params)
      : final === "cancelled"
        ? t("announcements.report_cancelled", params)
        : t("announcements.progress", params);
  // WhatsApp's own outcomes, once any recipient is on WhatsApp and something is known.
  const whatsapp = {
    delivered: p.delivered ?? 0,
    read: p.read ?? 0,
    templates: p.templates ?? 0,
    outsideWindow: p.outsideWindow ?? 0,
  };
  if (whatsapp.delivered + whatsapp.templates + whatsapp.outsideWindow === 0) return text;
  return `${text}\n${t("announcements.report_whatsapp", whatsapp)}`;
}

/**
 * Scheduler hooks that keep the sender's status message up to date (sent / failed / left / ETA)
 * and turn it into the final report. `api` is the bot's Api (with the channel router, so a web
 * chat sender's message is edited on the web page).
 */
export function announcementProgressHooks(
  db: Database,
  api: Api,
): { onProgress: ProgressHook; onFinished: ProgressHook } {
  async function edit(
    message: Parameters<ProgressHook>[0],
    progress: MessageProgress,
    state: "running" | "done" | "cancelled",
  ): Promise<void> {
    if (message.createdByUserId === null) return;
    const [creator] = await db
      .select({ locale: users.locale, chatId: users.chatId, channel: users.channel })
      .from(users)
      .where(eq(users.id, message.createdByUserId));
    if (!creator) return;
    // Where an edit arrives as a new message (WhatsApp), only the start and the end are sent.
    const live = capabilitiesOf(creator.channel).edits;
    if (state === "running" && !live && message.progressMessageId !== null) return;
    const locale = isLocale(creator.locale) ? creator.locale : "ky";
    const text = progressText(translator(locale), progress, state);
    if (message.progressChatId === null || message.progressMessageId === null) {
      // A scheduled broadcast started without its sender watching: give them a status message
      // when it starts (announcements only; single-recipient notices need no report).
      if (message.kind !== "announcement") return;
      const sent = await api.sendMessage(creator.chatId, text);
      await setProgressMessage(db, message.id, creator.chatId, sent.message_id);
      return;
    }
    await api
      .editMessageText(message.progressChatId, message.progressMessageId, text, {
        ...(state === "running"
          ? {
              reply_markup: {
                inline_keyboard: [
                  [
                    {
                      text: translator(locale)("announcements.cancel_broadcast"),
                      callback_data: CB.cancel.pack({ messageId: message.id }),
                    },
                  ],
                ],
              },
            }
          : {}),
      })
      .catch((err: unknown) => {
        // "message is not modified" and the like are harmless.
        if (!String(err).includes("not modified")) throw err;
      });
  }
  return {
    onProgress: (message, progress) => edit(message, progress, "running"),
    onFinished: (message, progress) =>
      edit(message, progress, message.status === "cancelled" ? "cancelled" : "done"),
  };
}
