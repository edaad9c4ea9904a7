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
 * Every function takes an Executor (src/db/client.ts): pass your transaction to make the
 * message part of your own state change.
 *
 * Audiences a feature defines: `const going = registerAudience("hearing_rsvp_going", resolver)`
 * where the resolver turns `{ hearingId }` into an SQL condition on the users row `u`; then
 * `audience: going({ hearingId: 12 })`, resolved when the message starts (see audiences.ts).
 * A scheduled message is found, moved or cancelled by its dedupe key: findMessageByKey /
 * rescheduleByKey / cancelByKey. Progress of many messages at once: getProgressMany.
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
  type AppFileSource,
  appFilesTransformer,
  fetchAppFile,
  isAppPath,
  setAppFileSource,
} from "./app-files";
export {
  type AudienceResolver,
  registerAudience,
} from "./audiences";
export {
  type Audience,
  type AudienceParams,
  type JsonValue,
  type LocalizedText,
  type MessageButton,
  type MessageContent,
  type NamedAudience,
  pickText,
  type RenderedMessage,
  renderForRecipient,
  type StoredAudience,
  visibleText,
} from "./content";
export {
  type ChannelSettings,
  DeliveryEngine,
  type DeliveryEngineOptions,
  type DeliveryLogger,
} from "./engine";
export { wakeDelivery } from "./events";
export { FORGOTTEN, forgetRecipient, redactMessages } from "./forget";
export {
  type CreateMessageInput,
  cancelByKey,
  cancelByKeyPrefix,
  cancelMessage,
  countAudience,
  createOutgoingMessage,
  enqueueAudience,
  enqueueUsers,
  findMessageByKey,
  getMessageProgress,
  getProgressMany,
  type MessageProgress,
  rescheduleByKey,
  scheduleMessage,
  setProgressMessage,
  startMessage,
} from "./messages";
export {
  adapterSender,
  type BotApiCall,
  createTelegramApi,
  type DeliverySender,
  type Recipient,
  type TelegramSenderOptions,
  telegramSender,
  toBotApiCall,
} from "./senders";

import type { Executor } from "../db/client";
import type { MessageKind } from "../db/schema/delivery";
import type { MessageContent } from "./content";
import { createOutgoingMessage, enqueueUsers, startMessage } from "./messages";

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
 * the lawyers): creates the message, enqueues the users and starts it, in one transaction (the
 * caller's, when `db` is one). Returns the message id.
 */
export async function sendToUsers(db: Executor, input: SendToUsersInput): Promise<number> {
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
      await startMessage(tx, message.id);
    }
    return message.id;
  });
}
