import { eq } from "drizzle-orm";
import type { Api } from "grammy";
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
  if (final === "done") return t("announcements.report_done", params);
  if (final === "cancelled") return t("announcements.report_cancelled", params);
  return t("announcements.progress", params);
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
      .select({ locale: users.locale, chatId: users.chatId })
      .from(users)
      .where(eq(users.id, message.createdByUserId));
    if (!creator) return;
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
