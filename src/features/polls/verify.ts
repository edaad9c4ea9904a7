/**
 * Phone verification in the chat. A person proves a number is theirs by sharing their own
 * contact with Telegram's contact button: Telegram fills the contact's `user_id` with the account
 * the number belongs to, so a contact is accepted only when that id is the sender's own. A
 * contact of someone else (forwarded, picked from the address book, or typed in) has another
 * `user_id` or none, and changes nothing. The web chat has no contact button: there the person
 * is told to verify (and vote) in Aimak on Telegram or WhatsApp.
 */
import { Composer, type Context, Keyboard } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { isSyntheticChatId } from "../../channels/types";
import type { UserRow } from "../../db/schema";
import { type TFunction, translator } from "../../i18n";
import { LOCALES } from "../../locales";
import { maskPhone, normalizeContactPhone } from "./phone";
import { recordVerifiedPhone, verifiedPhoneOf } from "./verification";

/** Why a person is asked: a verified-residents poll they tried, or their own /verify. */
export type VerifyReason = "poll" | "command";

/**
 * What asking needs from a context: a handler's AppContext, or a conversation's context (which
 * has no `user`; its chat id tells the web chat apart).
 */
export interface VerifyAskContext {
  t: TFunction;
  chatId: number | undefined;
  reply: Context["reply"];
  user?: Pick<UserRow, "channel">;
}

const REMOVE_KEYBOARD = { remove_keyboard: true } as const;

/** The labels of the cancel button in every language (the person may switch in between). */
const CANCEL_LABELS: ReadonlySet<string> = new Set(
  LOCALES.map((l) => translator(l)("polls.verify.button_cancel")),
);

/** Whether the chat has Telegram's contact button (Telegram chats do; the web chat does not). */
function hasContactButton(ctx: VerifyAskContext): boolean {
  if (ctx.user && ctx.user.channel !== "telegram") return false;
  return !isSyntheticChatId(ctx.chatId ?? 0);
}

function shareKeyboard(t: TFunction): Keyboard {
  return new Keyboard()
    .requestContact(t("polls.verify.button_share"))
    .row()
    .text(t("polls.verify.button_cancel"))
    .resized()
    .oneTime();
}

/**
 * How to verify where there is no contact button: in Aimak on Telegram or WhatsApp. On WhatsApp
 * itself this is someone whose number Meta does not pass on (a username account, known by the
 * business-scoped id only): Telegram is the way left.
 */
function elsewhereText(
  t: TFunction,
  botUsername: string | undefined,
  channel: UserRow["channel"] | undefined,
): string {
  const how = t(
    channel === "whatsapp" ? "polls.verify.how_whatsapp_hidden" : "polls.verify.how_web",
  );
  return botUsername
    ? `${how}\n${t("polls.verify.telegram_link", { link: `https://t.me/${botUsername}` })}`
    : how;
}

/**
 * Asks the person to verify their phone number, saying why (one vote per resident, checked
 * against the municipality's resident list) and how it is kept. On Telegram: a reply keyboard
 * with the contact button and a cancel button. Elsewhere: how to do it on Telegram or WhatsApp
 * (with a link to the bot when Telegram is on).
 */
export async function askToVerify(
  ctx: VerifyAskContext,
  reason: VerifyReason,
  botUsername?: string,
): Promise<void> {
  const t = ctx.t;
  const intro = t(reason === "poll" ? "polls.verify.intro_poll" : "polls.verify.intro_command");
  const why = t("polls.verify.why");
  if (!hasContactButton(ctx)) {
    await ctx.reply([intro, why, elsewhereText(t, botUsername, ctx.user?.channel)].join("\n\n"), {
      link_preview_options: { is_disabled: true },
    });
    return;
  }
  const how = t("polls.verify.how_telegram", { button: t("polls.verify.button_share") });
  await ctx.reply([intro, why, how].join("\n\n"), { reply_markup: shareKeyboard(t) });
}

/** The contact message, /verify and the cancel button. */
export function verifyHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  composer.command("verify", async (ctx) => {
    const phone = verifiedPhoneOf(ctx.user);
    if (!phone) {
      await askToVerify(ctx, "command", deps.botUsername);
      return;
    }
    const already = ctx.t("polls.verify.already", { phone: maskPhone(phone) });
    if (!hasContactButton(ctx)) {
      await ctx.reply(already);
      return;
    }
    await ctx.reply(`${already}\n\n${ctx.t("polls.verify.replace")}`, {
      reply_markup: shareKeyboard(ctx.t),
    });
  });

  composer.on("message:contact", async (ctx) => {
    const contact = ctx.message.contact;
    // WhatsApp passes on a contact card the person shared, marked as theirs only when its
    // number is the one they write from; the web chat turns only text and presses into updates.
    if (!hasContactButton(ctx) && ctx.user.channel !== "whatsapp") {
      ctx.log.warn({ userId: ctx.user.id }, "contact outside Telegram refused");
      await ctx.reply(elsewhereText(ctx.t, deps.botUsername, ctx.user.channel));
      return;
    }
    // Meta passes no number for a username account: no card can be proved to be its own.
    if (ctx.user.channel === "whatsapp" && ctx.user.phone === null) {
      ctx.log.info({ userId: ctx.user.id }, "contact from a WhatsApp account without a number");
      await ctx.reply(elsewhereText(ctx.t, deps.botUsername, "whatsapp"));
      return;
    }
    if (contact.user_id === undefined || contact.user_id !== ctx.from.id) {
      ctx.log.info(
        { userId: ctx.user.id, contactUser: contact.user_id ?? null },
        "someone else's contact refused",
      );
      // WhatsApp has no contact button: there one sends one's own contact card.
      await ctx.reply(
        ctx.user.channel === "whatsapp"
          ? ctx.t("polls.verify.not_own_whatsapp")
          : ctx.t("polls.verify.not_own", { button: ctx.t("polls.verify.button_share") }),
      );
      return;
    }
    const e164 = normalizeContactPhone(contact.phone_number);
    if (!e164) {
      ctx.log.warn({ userId: ctx.user.id }, "own contact with an unreadable number");
      await ctx.reply(ctx.t("polls.verify.bad_number"), { reply_markup: REMOVE_KEYBOARD });
      return;
    }
    await recordVerifiedPhone(deps.db, ctx.user.id, e164);
    ctx.log.info({ userId: ctx.user.id }, "phone verified");
    await ctx.reply(ctx.t("polls.verify.done", { phone: maskPhone(e164) }), {
      reply_markup: REMOVE_KEYBOARD,
    });
  });

  composer.on("message:text", async (ctx, next) => {
    if (!CANCEL_LABELS.has(ctx.message.text.trim())) return next();
    await ctx.reply(ctx.t("polls.verify.cancelled"), { reply_markup: REMOVE_KEYBOARD });
  });

  return composer;
}
