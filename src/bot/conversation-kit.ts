import type { CallbackQueryContext } from "grammy";
import type { AppConversation, ConvContext } from "./context";

/** Longest free-text answer a flow accepts (names, search queries). */
export const MAX_INPUT_LENGTH = 200;

export type Answer =
  | { kind: "button"; data: string; ctx: CallbackQueryContext<ConvContext> }
  /** Typed text, trimmed (its formatting entities are on `ctx.message`). */
  | { kind: "text"; text: string; ctx: ConvContext }
  /** `aside` took the message (an invite code): the step asks its question again. */
  | { kind: "aside"; ctx: ConvContext };

interface FileFields {
  fileId: string;
  fileName?: string;
  /** The caption typed with it, trimmed, when there is one. */
  caption?: string;
  ctx: ConvContext;
}

/** A photo or a file (with `acceptFiles`): its file id (the largest size of a photo). */
export type FileAnswer = ({ kind: "photo" } & FileFields) | ({ kind: "document" } & FileFields);

export interface AskOptions {
  /** Callback data this step accepts. */
  buttons: RegExp;
  /**
   * A button of another step (an old message, or another flow's): answered as stale and
   * changing nothing (default), or "end": the flow ends and the press goes on to the handlers.
   */
  otherButtons?: "stale" | "end";
  /** Whether the keyboard of the message whose accepted button was pressed is removed. */
  clearKeyboard?: boolean;
  /** Whether typed text is an answer too (otherwise see `textEnds`). */
  acceptText?: boolean;
  /** Longest text accepted (default MAX_INPUT_LENGTH); longer is refused with its length. */
  maxLength?: number;
  /** Says that a text is too long (default: the common "too long" line), then waits again. */
  onTooLong?: (ctx: ConvContext, length: number, max: number) => Promise<unknown>;
  /** Whether a photo or a document is an answer ("documents": only a document). */
  acceptFiles?: boolean | "documents";
  /**
   * Whether typed text that is no answer ends the flow and goes on to the handlers after it, so
   * a question typed into an open menu is answered as one. Otherwise `onOther` runs.
   */
  textEnds?: boolean;
  /** Says what is expected when the person sends something else. */
  onOther: (ctx: ConvContext) => Promise<unknown>;
  /**
   * A message that belongs to no step and is handled wherever it comes (an invite code): returns
   * whether it took this one. It runs inside the conversation, so its side effects go in `once`.
   */
  aside?: (ctx: ConvContext) => Promise<boolean>;
}

/**
 * Waits for the person's next answer to a step: the one wait loop of every flow (a command never
 * gets here: it ends the flow first, see commandsEndFlows in ./flows). Buttons of other steps
 * are answered as stale or end the flow (`otherButtons`); what `aside` takes comes back as an
 * "aside" answer.
 */
export async function ask(
  conversation: AppConversation,
  options: AskOptions & { acceptFiles: true | "documents" },
): Promise<Answer | FileAnswer>;
export async function ask(conversation: AppConversation, options: AskOptions): Promise<Answer>;
export async function ask(
  conversation: AppConversation,
  options: AskOptions,
): Promise<Answer | FileAnswer> {
  const max = options.maxLength ?? MAX_INPUT_LENGTH;
  for (;;) {
    const ctx = await conversation.wait();
    const data = ctx.callbackQuery?.data;
    if (data !== undefined) {
      if (options.buttons.test(data)) {
        await ctx.answerCallbackQuery();
        if (options.clearKeyboard) await ctx.editMessageReplyMarkup().catch(() => {});
        return { kind: "button", data, ctx: ctx as CallbackQueryContext<ConvContext> };
      }
      if (options.otherButtons === "end") await conversation.halt({ next: true });
      await ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
      continue;
    }
    const message = ctx.message;
    if (options.acceptFiles && message) {
      const caption = message.caption?.trim();
      const extra = caption ? { caption } : {};
      const photo = options.acceptFiles === true ? message.photo?.at(-1) : undefined;
      if (photo) return { kind: "photo", fileId: photo.file_id, ...extra, ctx };
      const doc = message.document;
      if (doc) {
        const name = doc.file_name ? { fileName: doc.file_name } : {};
        return { kind: "document", fileId: doc.file_id, ...name, ...extra, ctx };
      }
    }
    const text = message?.text?.trim();
    if (text && options.aside && (await options.aside(ctx))) return { kind: "aside", ctx };
    if (options.acceptText && text) {
      if (text.length > max) {
        if (options.onTooLong) await options.onTooLong(ctx, text.length, max);
        else await ctx.reply(ctx.t("errors.too_long", { length: text.length, max }));
        continue;
      }
      return { kind: "text", text, ctx };
    }
    if (options.textEnds && text) await conversation.halt({ next: true });
    await options.onOther(ctx);
  }
}

/** Runs a side effect once, not on every replay of the conversation. */
export function once<R>(conversation: AppConversation, task: () => Promise<R>): Promise<R> {
  return conversation.external(task);
}
