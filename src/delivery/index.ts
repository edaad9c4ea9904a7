/**
 * The delivery engine: the ONE path for every proactive message (announcements, hearing notices
 * and reminders, poll openings and results, lawyers' answers, escalation notices).
 *
 * Features never call the Bot API for a message the person did not just ask for. They create an
 * outgoing message, say who gets it, and start it; the engine sends it durably at the channel's
 * rate limit, in each recipient's language, and survives crashes.
 *
 * Typical use (a lawyer's answer to one asker):
 *
 *   await sendToUsers(db, {
 *     kind: "faq_answer", municipalityId: q.municipalityId, createdByUserId: lawyer.id,
 *     content: { text: { ky: "…", ru: "…" }, buttons: [[{ text: { ky: "Пайдалуу", ru: "Полезно" },
 *       callbackData: "faq:helpful:12" }]] },
 *     userIds: [q.askerUserId],
 *   });
 *
 * A broadcast to a municipality's subscribers, now or at a time:
 *
 *   const m = await createOutgoingMessage(db, {
 *     kind: "hearing_reminder", municipalityId: 7, createdByUserId: null,
 *     content: { text: { ky: "…", ru: "…" } },
 *     audience: { municipalityId: 7, topic: "hearings" },
 *     scheduledAt: new Date(start - 86_400_000),       // omit to create a draft
 *     dedupeKey: `hearing:${id}:reminder:1d`,           // optional idempotency
 *   });
 *   // scheduled → the scheduler starts it at its time (exactly once across instances);
 *   // draft → call startMessage(db, m.id) to send now. The stored audience is enqueued with
 *   // one INSERT … SELECT when the message starts.
 *
 * Or enqueue explicitly, then start: enqueueAudience(db, m.id, audience) /
 * enqueueUsers(db, m.id, ids) (both idempotent: UNIQUE (message_id, user_id)), startMessage().
 *
 * Content: `text` per locale ({ky?, ru?, en?}; a recipient gets their locale, else ky, else ru,
 * else en), optional inline `buttons` (callback data ≤ 64 bytes, or URL), optional `photo` or
 * `document` (file_id or URL; the text becomes the caption, ≤ 1024 characters).
 * Callback data of buttons is handled by the feature that put it there, as usual in grammY;
 * treat it as untrusted (re-check who presses it).
 *
 * Only active users are enqueued; a user who blocks the bot (403) is marked inactive.
 */
export {
  type Audience,
  type LocalizedText,
  type MessageButton,
  type MessageContent,
  type MessageLocale,
  messageContentSchema,
  pickText,
  type RenderedMessage,
  renderForRecipient,
  validateContent,
  visibleText,
} from "./content";
export {
  type ChannelSettings,
  DeliveryEngine,
  type DeliveryEngineOptions,
  type DeliveryLogger,
} from "./engine";
export { deliveryEvents, wakeDelivery } from "./events";
export {
  adapterSender,
  type BotApiCall,
  botApiSender,
  classifyTelegramError,
  createTelegramApi,
  type DeliverySender,
  type Recipient,
  type TelegramSenderOptions,
  telegramSender,
  toBotApiCall,
} from "./senders";
export {
  type CreateMessageInput,
  cancelMessage,
  countAudience,
  createOutgoingMessage,
  enqueueAudience,
  enqueueUsers,
  getMessageProgress,
  getOutgoingMessage,
  type MessageProgress,
  scheduleMessage,
  setProgressMessage,
  startMessage,
} from "./store";

import type { Database } from "../db/client";
import type { MessageKind } from "../db/schema/delivery";
import type { MessageContent } from "./content";
import { createOutgoingMessage, enqueueUsers, startMessage } from "./store";

export interface SendToUsersInput {
  kind: MessageKind;
  municipalityId: number | null;
  createdByUserId: number | null;
  content: MessageContent;
  userIds: readonly number[];
  /** Optional idempotency key: sending the same key twice sends once. */
  dedupeKey?: string;
}

/**
 * One call for a message to a few known people (a lawyer's answer, a "new question" notice to
 * the lawyers): creates the message, enqueues the users and starts it. Returns the message id.
 */
export async function sendToUsers(db: Database, input: SendToUsersInput): Promise<number> {
  return db.transaction(async (tx) => {
    const message = await createOutgoingMessage(tx, {
      kind: input.kind,
      municipalityId: input.municipalityId,
      createdByUserId: input.createdByUserId,
      content: input.content,
      ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
    });
    if (message.status === "draft") {
      await enqueueUsers(tx, message.id, input.userIds);
      await startMessage(tx as unknown as Database, message.id);
    }
    return message.id;
  });
}
