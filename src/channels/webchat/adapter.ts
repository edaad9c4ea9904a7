import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Message, Update, UserFromGetMe } from "grammy/types";
import type { Database } from "../../db/client";
import { preparedStatement } from "../../db/prepared";
import {
  deliveries,
  type UserRow,
  type WebchatButton,
  type WebchatPayload,
  webchatMessages,
} from "../../db/schema";
import { storableText } from "../../db/storable";
import { CHANNEL_CAPABILITIES } from "../capabilities";
import { inlineButtonsOf, inlineKeyboardOf } from "../inline-keyboard";
import { syntheticCallbackId } from "../router";
import {
  type ChannelAdapter,
  ChannelError,
  SYNTHETIC_CHAT_ID_BASE,
  syntheticChatId,
} from "../types";
import type { MessageView, WebchatHub } from "./hub";

type Row = typeof webchatMessages.$inferSelect;

export function toView(row: Row): MessageView {
  return {
    id: row.id,
    fromBot: row.fromBot,
    updatedAt: row.updatedAt.toISOString(),
    ...row.payload,
    ...(row.seenAt === null ? { unread: true } : {}),
  };
}

/** Whether `data` is the callback data of one of the buttons the bot put on a message. */
function hasButtonData(payload: WebchatPayload, data: string): boolean {
  return payload.buttons?.some((row) => row.some((b) => b.callbackData === data)) ?? false;
}

function formatOf(payload: Record<string, unknown>): "html" | "plain" {
  return payload.parse_mode === "HTML" ? "html" : "plain";
}

/**
 * The insert of every web chat message, built once: it runs twice per message (the person's and
 * the bot's answer). `seen`: marked as read at once (the page is open), else it waits as new.
 */
const insertMessage = preparedStatement((db) =>
  db
    .insert(webchatMessages)
    .values({
      userId: sql.placeholder("userId"),
      fromBot: sql.placeholder("fromBot"),
      // Passed as JSON text: a placeholder skips the column's own encoding.
      payload: sql`(${sql.placeholder("payload")}::text)::jsonb`,
      seenAt: sql`case when ${sql.placeholder("seen")}::boolean then now() end`,
    })
    .returning()
    .prepare("webchat_message_insert"),
);

function storeMessage(
  db: Database,
  m: { userId: number; fromBot: boolean; payload: WebchatPayload; seen: boolean },
) {
  return insertMessage(db).execute({ ...m, payload: JSON.stringify(m.payload) });
}

/**
 * The web chat channel. Outgoing Bot API calls for web chats become rows of the transcript and
 * events on the person's open pages; what the person types or taps becomes grammY updates.
 */
export class WebchatAdapter implements ChannelAdapter {
  readonly channel = "web" as const;
  readonly capabilities = CHANNEL_CAPABILITIES.web;
  private updateSerial = 0;
  private callbackSerial = 0;

  constructor(
    private readonly db: Database,
    private readonly hub: WebchatHub,
    private readonly botInfo: UserFromGetMe,
    private readonly dispatch: (update: Update) => Promise<void>,
  ) {}

  /** Always: a closed page's messages wait in the person's history (an inbox). */
  canReach(): boolean {
    return true;
  }

  /**
   * Whether a page of the person is open, on this instance or another, so a message is seen as
   * it arrives.
   */
  isPresent(chatId: number): Promise<boolean> {
    return this.hub.isConnectedAnywhere(chatId - SYNTHETIC_CHAT_ID_BASE);
  }

  async call(method: string, payload: Record<string, unknown>): Promise<unknown> {
    const chatId = Number(payload.chat_id);
    const userId = chatId - SYNTHETIC_CHAT_ID_BASE;
    switch (method) {
      case "sendMessage":
        return this.send(userId, chatId, {
          text: String(payload.text ?? ""),
          format: formatOf(payload),
          ...optionalButtons(payload.reply_markup),
        });
      case "sendPhoto":
      case "sendDocument": {
        const kind = method === "sendPhoto" ? "photo" : "document";
        const file = payload[kind];
        const caption = typeof payload.caption === "string" ? payload.caption : "";
        return this.send(userId, chatId, {
          text: caption,
          format: formatOf(payload),
          attachment: {
            kind,
            // An https URL, or a path of the app's own routes (the page is on the same origin).
            ...(typeof file === "string" && /^(https?:|\/(?!\/))/.test(file) ? { url: file } : {}),
          },
          ...optionalButtons(payload.reply_markup),
        });
      }
      case "editMessageText":
      case "editMessageCaption":
      case "editMessageReplyMarkup":
        return this.edit(userId, chatId, method, payload);
      case "deleteMessage": {
        const id = Number(payload.message_id);
        await this.db
          .update(webchatMessages)
          .set({ deleted: true, updatedAt: sql`now()` })
          .where(and(eq(webchatMessages.id, id), eq(webchatMessages.userId, userId)));
        await this.hub.deliver(userId, { type: "delete", data: { id } });
        return true;
      }
      case "answerCallbackQuery": {
        const text = typeof payload.text === "string" ? payload.text : "";
        const [, chat] = String(payload.callback_query_id).split(":");
        if (text)
          await this.hub.deliver(Number(chat) - SYNTHETIC_CHAT_ID_BASE, {
            type: "notice",
            data: { text },
          });
        return true;
      }
      case "sendChatAction":
        return true;
      default:
        throw new ChannelError(
          "permanent",
          `Bad Request: ${method} is not available in the web chat`,
        );
    }
  }

  private async send(userId: number, chatId: number, payload: WebchatPayload): Promise<Message> {
    // Seen at once when a page is open (on any instance); otherwise it waits in the history,
    // marked as new.
    const seen = await this.hub.isConnectedAnywhere(userId);
    const [row] = await storeMessage(this.db, { userId, fromBot: true, payload, seen });
    if (!row) throw new ChannelError("transient", "could not store the message");
    await this.hub.deliver(userId, { type: "message", data: toView(row) });
    return this.asMessage(row, chatId);
  }

  private async edit(
    userId: number,
    chatId: number,
    method: string,
    payload: Record<string, unknown>,
  ) {
    const id = Number(payload.message_id);
    const [current] = await this.db
      .select()
      .from(webchatMessages)
      .where(
        and(
          eq(webchatMessages.id, id),
          eq(webchatMessages.userId, userId),
          eq(webchatMessages.fromBot, true),
        ),
      );
    if (!current || current.deleted)
      throw new ChannelError("permanent", "Bad Request: message to edit not found");
    const next: WebchatPayload = { ...current.payload };
    if (method === "editMessageText") {
      next.text = String(payload.text ?? "");
      next.format = formatOf(payload);
    } else if (method === "editMessageCaption") {
      next.text = String(payload.caption ?? "");
      next.format = formatOf(payload);
    }
    // Telegram drops the keyboard when an edit carries none; mirror that.
    const buttons = inlineButtonsOf(payload.reply_markup);
    if (buttons) next.buttons = buttons;
    else delete next.buttons;
    const [row] = await this.db
      .update(webchatMessages)
      .set({ payload: next, updatedAt: sql`now()` })
      .where(eq(webchatMessages.id, id))
      .returning();
    if (!row) throw new ChannelError("permanent", "Bad Request: message to edit not found");
    await this.hub.deliver(userId, { type: "message", data: toView(row) });
    return this.asMessage(row, chatId);
  }

  private asMessage(row: Row, chatId: number): Message {
    return {
      message_id: row.id,
      date: Math.floor(row.createdAt.getTime() / 1000),
      chat: { id: chatId, type: "private", first_name: "" },
      from: this.botInfo,
      text: row.payload.text,
    } as Message;
  }

  // ---- inbound: the person's side ----

  /**
   * The newest `limit` messages, oldest first, for a page that is showing them now. Those that
   * arrived while every page was closed come back marked `unread` (once) and count from now as
   * seen; their deliveries turn from `held` into `sent`.
   */
  async history(userId: number, limit = 200): Promise<MessageView[]> {
    const rows = await this.db
      .select()
      .from(webchatMessages)
      .where(and(eq(webchatMessages.userId, userId), eq(webchatMessages.deleted, false)))
      .orderBy(desc(webchatMessages.id))
      .limit(limit);
    const views = rows.reverse().map(toView);
    await this.markSeen(userId);
    return views;
  }

  /** Marks every unseen message of the person seen, and their held deliveries sent. */
  private async markSeen(userId: number): Promise<void> {
    await this.db
      .update(webchatMessages)
      .set({ seenAt: sql`now()` })
      .where(and(eq(webchatMessages.userId, userId), isNull(webchatMessages.seenAt)));
    // Every held delivery whose message is now seen, including one recorded as held after a
    // page had already shown it (a page that opened while the engine was sending).
    await this.db
      .update(deliveries)
      .set({ status: "sent", sentAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(deliveries.userId, userId),
          eq(deliveries.channel, "web"),
          eq(deliveries.status, "held"),
          sql`${deliveries.channelMessageId} in (select id::text from webchat_messages
            where user_id = ${userId} and seen_at is not null)`,
        ),
      );
  }

  /**
   * Stores what the person typed and hands it to the bot as a Telegram-shaped message update.
   * `browserLocale` stands in for Telegram's app language until the person picks a language.
   */
  async receiveText(user: UserRow, typed: string, browserLocale?: string): Promise<MessageView> {
    // NUL or a lone surrogate half in the JSON of a send would fail the insert (500).
    const text = storableText(typed);
    const payload: WebchatPayload = { text, format: "plain" };
    const [row] = await storeMessage(this.db, {
      userId: user.id,
      fromBot: false,
      payload,
      seen: true,
    });
    if (!row) throw new Error("could not store the message");
    const chatId = syntheticChatId(user.id);
    const command = /^\/[a-z_]+/i.exec(text);
    const update: Update = {
      update_id: this.nextUpdateId(),
      message: {
        message_id: row.id,
        date: Math.floor(row.createdAt.getTime() / 1000),
        chat: { id: chatId, type: "private", first_name: user.firstName ?? "" },
        from: {
          id: chatId,
          is_bot: false,
          first_name: user.firstName ?? "",
          language_code: user.locale ?? browserLocale,
        },
        text,
        ...(command
          ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] }
          : {}),
      },
    };
    this.background(update);
    return toView(row);
  }

  /**
   * A tap on a button of one of the bot's messages becomes a callback query, but only with data
   * that the bot put on that very message: anything else is refused before the bot sees it.
   */
  async receivePress(
    user: UserRow,
    messageId: number,
    data: string,
    browserLocale?: string,
  ): Promise<boolean> {
    const [row] = await this.db
      .select()
      .from(webchatMessages)
      .where(
        and(
          eq(webchatMessages.id, messageId),
          eq(webchatMessages.userId, user.id),
          eq(webchatMessages.fromBot, true),
        ),
      );
    if (!row || row.deleted || !hasButtonData(row.payload, data)) return false;
    const chatId = syntheticChatId(user.id);
    const update: Update = {
      update_id: this.nextUpdateId(),
      callback_query: {
        id: syntheticCallbackId("web", chatId, ++this.callbackSerial),
        from: {
          id: chatId,
          is_bot: false,
          first_name: user.firstName ?? "",
          language_code: user.locale ?? browserLocale,
        },
        chat_instance: String(chatId),
        data,
        message: {
          ...this.asMessage(row, chatId),
          ...(row.payload.buttons ? { reply_markup: inlineKeyboardOf(row.payload.buttons) } : {}),
        },
      },
    };
    this.background(update);
    return true;
  }

  private nextUpdateId(): number {
    return ++this.updateSerial;
  }

  private readonly inFlight = new Set<Promise<void>>();

  private background(update: Update): void {
    // The HTTP request returns at once; the bot's answer arrives over the event stream.
    const work = this.dispatch(update).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /** Resolves once every update handed to the bot so far has been processed (for shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

function optionalButtons(replyMarkup: unknown): { buttons?: WebchatButton[][] } {
  const buttons = inlineButtonsOf(replyMarkup);
  return buttons ? { buttons } : {};
}
