import { and, eq, sql } from "drizzle-orm";
import type { Message, Update, UserFromGetMe } from "grammy/types";
import type { Database } from "../../db/client";
import {
  type UserRow,
  users,
  type WhatsappMessagePayload,
  whatsappMessages,
} from "../../db/schema";
import { resolveLocale, translator } from "../../i18n";
import type { Locale } from "../../locales";
import { CHANNEL_CAPABILITIES } from "../capabilities";
import { inlineButtonsOf, inlineKeyboardOf } from "../inline-keyboard";
import { isChannelUpload, syntheticCallbackId } from "../router";
import {
  type ChannelAdapter,
  ChannelError,
  SYNTHETIC_CHAT_ID_BASE,
  syntheticChatId,
} from "../types";
import { type WaAddress, WhatsAppApiError, type WhatsAppClient } from "./client";
import {
  callbackButtons,
  type KeyboardButton,
  type KeyboardLabels,
  planMessages,
  planPage,
} from "./keyboard";
import { htmlToWhatsApp, splitText } from "./markup";
import type { WhatsAppMedia } from "./media";
import { WA_LIMITS, type WaOutgoing } from "./types";

type Row = typeof whatsappMessages.$inferSelect;

/** Who a message goes to: the person's row, or the ids the delivery engine already has. */
export type WaPerson = Pick<UserRow, "id" | "channelUserId" | "channelAltId" | "locale"> & {
  firstName?: string | null;
};

/** The delivery engine's rate gate (see DeliverySender): awaited before each request. */
export type RateGate = () => Promise<() => void>;

/** The reply id of a button: "<message row>.<version>.<index>" or "<row>.<version>.p<page>". */
const REPLY_ID = /^(\d{1,15})\.(\d{1,9})\.(p?)(\d{1,4})$/;

function sameKeyboard(a: KeyboardButton[][] | undefined, b: KeyboardButton[][] | undefined) {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

/** The person's address: their number when Meta gave it, else the business-scoped id. */
export function addressOf(user: Pick<UserRow, "channelUserId" | "channelAltId">): WaAddress {
  return /^\d+$/.test(user.channelUserId)
    ? { waId: user.channelUserId }
    : { bsuid: user.channelAltId ?? user.channelUserId };
}

/** Maps a Graph API error of a conversational reply onto the Bot API's kinds of failure. */
export function channelErrorOf(error: unknown): ChannelError {
  if (error instanceof ChannelError) return error;
  if (!(error instanceof WhatsAppApiError)) {
    return new ChannelError("transient", error instanceof Error ? error.message : String(error));
  }
  switch (error.code) {
    case 131047:
      return new ChannelError("unreachable", error.message);
    // A reply in a conversation waits one per-person interval and is tried again.
    case 130429:
    case 131056:
    case 131048:
      return new ChannelError(
        "rate_limited",
        error.message,
        CHANNEL_CAPABILITIES.whatsapp.perChatIntervalSeconds,
      );
    default:
      if (error.httpStatus >= 500 || error.code === 131000 || error.code === 131016)
        return new ChannelError("transient", error.message);
      return new ChannelError("permanent", error.message);
  }
}

export interface WhatsAppAdapterOptions {
  db: Database;
  client: WhatsAppClient;
  media: WhatsAppMedia;
  botInfo: UserFromGetMe;
  defaultLocale: Locale;
  /** Hands an update to the bot (bot.handleUpdate). */
  dispatch: (update: Update) => Promise<void>;
}

/**
 * The WhatsApp channel's outgoing side: the bot's Bot API calls for WhatsApp chats become Cloud
 * API messages. WhatsApp cannot edit, so an edit sends the message again and makes the buttons
 * of the earlier one stale; keyboards become reply buttons or lists (src/channels/whatsapp/
 * keyboard.ts); Telegram HTML becomes WhatsApp markup.
 */
export class WhatsAppAdapter implements ChannelAdapter {
  readonly channel = "whatsapp" as const;
  readonly capabilities = CHANNEL_CAPABILITIES.whatsapp;
  private updateSerial = 0;
  private callbackSerial = 0;

  constructor(private readonly options: WhatsAppAdapterOptions) {}

  /** Always: the 24-hour window is the delivery sender's business (it falls back to templates). */
  canReach(): boolean {
    return true;
  }

  async call(method: string, payload: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.perform(method, payload);
    } catch (error) {
      throw channelErrorOf(error);
    }
  }

  private async perform(method: string, payload: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case "sendMessage": {
        const user = await this.userOfChat(payload.chat_id);
        return this.sendNew(user, {
          text: String(payload.text ?? ""),
          html: payload.parse_mode === "HTML",
          ...optionalButtons(payload.reply_markup),
        });
      }
      case "sendPhoto":
      case "sendDocument": {
        const user = await this.userOfChat(payload.chat_id);
        const kind = method === "sendPhoto" ? "photo" : "document";
        return this.sendFile(user, kind, payload[kind], {
          text: typeof payload.caption === "string" ? payload.caption : "",
          html: payload.parse_mode === "HTML",
          ...optionalButtons(payload.reply_markup),
        });
      }
      case "editMessageText":
      case "editMessageCaption":
      case "editMessageReplyMarkup":
        return this.edit(method, payload);
      case "answerCallbackQuery": {
        const text = typeof payload.text === "string" ? payload.text.trim() : "";
        if (!text) return true;
        const [, chat] = String(payload.callback_query_id).split(":");
        const user = await this.userOfChat(chat);
        await this.options.client.send(addressOf(user), { type: "text", text: { body: text } });
        return true;
      }
      // WhatsApp has no deletion of a business's message nor a typing indicator without one.
      case "deleteMessage":
        await this.supersede(Number(payload.message_id), await this.userOfChat(payload.chat_id));
        return true;
      case "sendChatAction":
        return true;
      default:
        throw new ChannelError("permanent", `Bad Request: ${method} is not available on WhatsApp`);
    }
  }

  // ---- sending ----

  /** Stores the message as the bot sees it, then sends it; the row id is its message_id. */
  private async sendNew(user: WaPerson, payload: WhatsappMessagePayload): Promise<Message> {
    const [row] = await this.options.db
      .insert(whatsappMessages)
      .values({ userId: user.id, payload })
      .returning();
    if (!row) throw new ChannelError("transient", "could not store the message");
    const wamid = await this.deliver(user, row);
    return this.asMessage({ ...row, wamid }, user);
  }

  /** Sends a stored message (its current version) and records the wamid of its last part. */
  private async deliver(user: WaPerson, row: Row, gate?: RateGate): Promise<string | null> {
    const wamid = await this.sendParts(user, row, gate);
    if (wamid) {
      await this.options.db
        .update(whatsappMessages)
        .set({ wamid })
        .where(eq(whatsappMessages.id, row.id));
    }
    return wamid;
  }

  /** Sends the WhatsApp messages of a version of a message; the wamid of the last one. */
  private async sendParts(user: WaPerson, row: Row, gate?: RateGate): Promise<string | null> {
    let wamid: string | null = null;
    for (const part of this.plan(user, row)) wamid = await this.send(user, part, gate);
    return wamid;
  }

  /** One Graph API message, through the delivery engine's rate gate when there is one. */
  private async send(user: WaPerson, message: WaOutgoing, gate?: RateGate): Promise<string> {
    const done = await gate?.();
    try {
      return await this.options.client.send(addressOf(user), message);
    } finally {
      done?.();
    }
  }

  private plan(user: WaPerson, row: Row): WaOutgoing[] {
    const { payload } = row;
    return planMessages({
      text: payload.html ? htmlToWhatsApp(payload.text) : payload.text,
      ...(payload.buttons ? { keyboard: payload.buttons } : {}),
      labels: this.labels(user),
      buttonId: (i) => `${row.id}.${row.version}.${i}`,
      moreId: (page) => `${row.id}.${row.version}.p${page}`,
    });
  }

  private labels(user: WaPerson): KeyboardLabels {
    const t = translator(this.localeOf(user));
    return {
      choose: t("whatsapp.channel.choose"),
      more: t("whatsapp.channel.more"),
      page: (page, pages) => t("whatsapp.channel.page", { page, pages }),
    };
  }

  private localeOf(user: WaPerson): Locale {
    return resolveLocale(user.locale, undefined, this.options.defaultLocale);
  }

  /**
   * A photo or document: the file (with its caption when it fits), then the buttons as their
   * own interactive message (WhatsApp's media messages carry no buttons).
   */
  private async sendFile(
    user: WaPerson,
    kind: "photo" | "document",
    file: unknown,
    payload: WhatsappMessagePayload,
    gate?: RateGate,
  ): Promise<Message> {
    const media = isChannelUpload(file)
      ? await this.options.media.upload(file.upload.bytes, file.upload.filename)
      : typeof file === "string" && file
        ? await this.options.media.resolve(file)
        : undefined;
    if (!media) {
      throw new ChannelError(
        "permanent",
        "Bad Request: the file must be a link, a path or a file_id",
      );
    }
    const caption = payload.html ? htmlToWhatsApp(payload.text) : payload.text;
    const fits = caption.length <= WA_LIMITS.caption;
    const { filename, ...object } = media;
    const withCaption = fits && caption ? { ...object, caption } : object;
    const message: WaOutgoing =
      kind === "photo"
        ? { type: "image", image: withCaption }
        : { type: "document", document: { ...withCaption, ...(filename ? { filename } : {}) } };
    const [row] = await this.options.db
      .insert(whatsappMessages)
      .values({ userId: user.id, payload })
      .returning();
    if (!row) throw new ChannelError("transient", "could not store the message");
    let wamid = await this.send(user, message, gate);
    const rest = fits ? { ...row, payload: { ...payload, text: "" } } : row;
    if (!fits || payload.buttons) wamid = (await this.sendParts(user, rest, gate)) ?? wamid;
    await this.options.db
      .update(whatsappMessages)
      .set({ wamid })
      .where(eq(whatsappMessages.id, row.id));
    return this.asMessage({ ...row, wamid }, user);
  }

  /**
   * An edit: the row takes the new text and buttons and a new version (the old buttons answer
   * as stale from now on), and the message is sent again, unless the edit only took the
   * buttons away. The same content again is refused as Telegram refuses it.
   */
  private async edit(method: string, payload: Record<string, unknown>): Promise<Message> {
    const user = await this.userOfChat(payload.chat_id);
    const row = await this.row(Number(payload.message_id), user.id);
    if (!row) throw new ChannelError("permanent", "Bad Request: message to edit not found");
    const next: WhatsappMessagePayload = { ...row.payload };
    if (method === "editMessageText" || method === "editMessageCaption") {
      next.text = String((method === "editMessageText" ? payload.text : payload.caption) ?? "");
      next.html = payload.parse_mode === "HTML";
    }
    const keyboard = inlineButtonsOf(payload.reply_markup);
    if (keyboard) next.buttons = keyboard;
    else delete next.buttons;
    if (next.text === row.payload.text && sameKeyboard(next.buttons, row.payload.buttons)) {
      throw new ChannelError(
        "permanent",
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
      );
    }
    // Sent first, stored after: an edit the Graph API refuses (and grammY retries) leaves the
    // row as it was, so the retry is not taken for "not modified" and goes out.
    const planned: Row = { ...row, payload: next, version: row.version + 1 };
    const onlyButtonsGone = method === "editMessageReplyMarkup" && !keyboard;
    const wamid = onlyButtonsGone ? row.wamid : await this.sendParts(user, planned);
    const [updated] = await this.options.db
      .update(whatsappMessages)
      .set({ payload: next, version: planned.version, wamid, updatedAt: sql`now()` })
      .where(and(eq(whatsappMessages.id, row.id), eq(whatsappMessages.version, row.version)))
      .returning();
    // Another edit of the same message won meanwhile: it is the current one; this one was sent.
    return this.asMessage(updated ?? { ...planned, wamid }, user);
  }

  /** Makes a message's buttons stale (a deleted message). */
  private async supersede(id: number, user: WaPerson): Promise<void> {
    await this.options.db
      .update(whatsappMessages)
      .set({ version: sql`${whatsappMessages.version} + 1`, updatedAt: sql`now()` })
      .where(and(eq(whatsappMessages.id, id), eq(whatsappMessages.userId, user.id)));
  }

  private async row(id: number, userId: number): Promise<Row | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const [row] = await this.options.db
      .select()
      .from(whatsappMessages)
      .where(and(eq(whatsappMessages.id, id), eq(whatsappMessages.userId, userId)));
    return row;
  }

  private async userOfChat(chatId: unknown): Promise<UserRow> {
    const id = Number(chatId) - SYNTHETIC_CHAT_ID_BASE;
    const [user] = Number.isSafeInteger(id)
      ? await this.options.db.select().from(users).where(eq(users.id, id))
      : [];
    if (user?.channel !== "whatsapp") {
      throw new ChannelError("permanent", "Bad Request: chat not found");
    }
    return user;
  }

  private asMessage(row: Row, user: WaPerson): Message {
    const chatId = syntheticChatId(user.id);
    return {
      message_id: row.id,
      date: Math.floor(row.updatedAt.getTime() / 1000),
      chat: { id: chatId, type: "private", first_name: user.firstName ?? "" },
      from: this.options.botInfo,
      text: row.payload.text,
      ...(row.payload.buttons ? { reply_markup: inlineKeyboardOf(row.payload.buttons) } : {}),
    } as Message;
  }

  // ---- the delivery engine's side ----

  /** Sends a proactive message (already rendered for the person) as a normal message. */
  async sendProactive(
    user: WaPerson,
    message: {
      text: string;
      parseMode?: "HTML";
      buttons?: KeyboardButton[][];
      photo?: string;
      document?: string;
    },
    gate?: RateGate,
  ): Promise<string | null> {
    const payload: WhatsappMessagePayload = {
      text: message.text,
      html: message.parseMode === "HTML",
      ...(message.buttons?.length ? { buttons: message.buttons } : {}),
    };
    const file = message.photo ?? message.document;
    if (file) {
      const kind = message.photo ? "photo" : "document";
      const sent = await this.sendFile(user, kind, file, payload, gate);
      return (await this.row(sent.message_id, user.id))?.wamid ?? null;
    }
    if (!payload.buttons) {
      // Nothing to press or edit later: no row to keep, just the text (split if long).
      const text = payload.html ? htmlToWhatsApp(payload.text) : payload.text;
      let wamid: string | null = null;
      for (const body of splitText(text, WA_LIMITS.textLength)) {
        wamid = await this.send(user, { type: "text", text: { body } }, gate);
      }
      return wamid;
    }
    const [row] = await this.options.db
      .insert(whatsappMessages)
      .values({ userId: user.id, payload })
      .returning();
    if (!row) throw new Error("could not store the message");
    return this.deliver(user, row, gate);
  }

  /** Sends an approved template (outside the 24-hour window). */
  async sendTemplate(
    user: WaPerson,
    message: WaOutgoing & { type: "template" },
    gate?: RateGate,
  ): Promise<string> {
    return this.send(user, message, gate);
  }

  // ---- the person's side ----

  /** Sends a short text of ours (not from the bot's flows): notices about what cannot be read. */
  async notice(user: WaPerson, key: string): Promise<void> {
    const t = translator(this.localeOf(user));
    for (const body of splitText(t(key), WA_LIMITS.textLength)) {
      await this.options.client.send(addressOf(user), { type: "text", text: { body } });
    }
  }

  /** A Telegram-shaped message update from the person. */
  textUpdate(user: WaPerson, text: string, messageId: number, date: number): Update {
    const command = /^\/[a-z_]+/i.exec(text);
    return this.messageUpdate(user, messageId, date, {
      text,
      ...(command
        ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] }
        : {}),
    });
  }

  /** A shared contact, marked as the sender's own when its number is the sender's. */
  contactUpdate(
    user: WaPerson,
    contact: { phone: string; firstName: string; own: boolean },
    messageId: number,
    date: number,
  ): Update {
    return this.messageUpdate(user, messageId, date, {
      contact: {
        phone_number: contact.phone,
        first_name: contact.firstName,
        ...(contact.own ? { user_id: syntheticChatId(user.id) } : {}),
      },
    });
  }

  private messageUpdate(
    user: WaPerson,
    messageId: number,
    date: number,
    content: Pick<Message, "text" | "entities" | "contact">,
  ): Update {
    const chatId = syntheticChatId(user.id);
    return {
      update_id: ++this.updateSerial,
      message: {
        message_id: messageId,
        date,
        chat: { id: chatId, type: "private", first_name: user.firstName ?? "" },
        from: this.fromOf(user),
        ...content,
      } as Update["message"] & object,
    };
  }

  /**
   * What a tap on one of our buttons means: a callback query with the data of that button of
   * that message, the next page of a long list (answered here), or nothing (stale: a button of
   * a message since edited, or not ours).
   */
  async press(
    user: WaPerson,
    replyId: string,
  ): Promise<{ kind: "update"; update: Update } | { kind: "page" } | { kind: "stale" }> {
    const m = REPLY_ID.exec(replyId);
    if (!m) return { kind: "stale" };
    const row = await this.row(Number(m[1]), user.id);
    if (!row || row.version !== Number(m[2]) || !row.payload.buttons) return { kind: "stale" };
    const index = Number(m[4]);
    if (m[3] === "p") {
      const input = {
        text: "",
        keyboard: row.payload.buttons,
        labels: this.labels(user),
        buttonId: (i: number) => `${row.id}.${row.version}.${i}`,
        moreId: (page: number) => `${row.id}.${row.version}.p${page}`,
      };
      await this.options.client.send(addressOf(user), planPage(input, index));
      return { kind: "page" };
    }
    const button = callbackButtons(row.payload.buttons)[index];
    if (!button) return { kind: "stale" };
    const chatId = syntheticChatId(user.id);
    return {
      kind: "update",
      update: {
        update_id: ++this.updateSerial,
        callback_query: {
          id: syntheticCallbackId("whatsapp", chatId, ++this.callbackSerial),
          from: this.fromOf(user),
          chat_instance: String(chatId),
          data: button.callbackData,
          message: this.asMessage(row, user) as Message & { chat: { type: "private" } },
        },
      },
    } as { kind: "update"; update: Update };
  }

  private fromOf(user: WaPerson) {
    return {
      id: syntheticChatId(user.id),
      is_bot: false as const,
      first_name: user.firstName ?? "",
      ...(user.locale ? { language_code: user.locale } : {}),
    };
  }

  /** The bot's answer to an update; resolves when the bot is done with it. */
  dispatch(update: Update): Promise<void> {
    return this.options.dispatch(update);
  }
}

function optionalButtons(replyMarkup: unknown): { buttons?: KeyboardButton[][] } {
  const buttons = inlineButtonsOf(replyMarkup);
  return buttons ? { buttons } : {};
}
