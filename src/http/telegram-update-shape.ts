/**
 * The shape of a Telegram update as the Bot API documents it, for the fields the bot reads.
 * grammY trusts its input: a `language_code` that is a number or `entities` that is an object
 * made handlers throw, and the webhook answered 500 (so Telegram would deliver the same broken
 * update again and again). Such a body is refused with 400 instead. Fields not listed here pass
 * unchecked (loose objects), so a new Bot API field never refuses a real update.
 */
import { z } from "zod";

const id = z.number().int().refine(Number.isSafeInteger);
const optionalString = z.string().optional();

const user = z.looseObject({
  id,
  is_bot: z.boolean(),
  first_name: z.string(),
  last_name: optionalString,
  username: optionalString,
  language_code: optionalString,
});

const chat = z.looseObject({
  id,
  type: z.string(),
  title: optionalString,
  username: optionalString,
  first_name: optionalString,
  last_name: optionalString,
});

const entities = z
  .array(z.looseObject({ type: z.string(), offset: z.number().int(), length: z.number().int() }))
  .optional();

const file = z.looseObject({ file_id: z.string(), file_unique_id: optionalString });

const message = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int(),
  chat,
  from: user.optional(),
  sender_chat: chat.optional(),
  text: optionalString,
  caption: optionalString,
  entities,
  caption_entities: entities,
  contact: z
    .looseObject({
      phone_number: z.string(),
      first_name: optionalString,
      last_name: optionalString,
      user_id: id.optional(),
    })
    .optional(),
  location: z.looseObject({ latitude: z.number(), longitude: z.number() }).optional(),
  document: file.extend({ file_name: optionalString, mime_type: optionalString }).optional(),
  photo: z.array(file).optional(),
  sticker: file.optional(),
  voice: file.optional(),
  audio: file.optional(),
  video: file.optional(),
  video_note: file.optional(),
  animation: file.optional(),
});

const memberUpdate = z.looseObject({
  chat,
  from: user,
  date: z.number().int(),
  old_chat_member: z.looseObject({ user, status: z.string() }),
  new_chat_member: z.looseObject({ user, status: z.string() }),
});

const update = z.looseObject({
  update_id: id.nonnegative(),
  message: message.optional(),
  edited_message: message.optional(),
  channel_post: message.optional(),
  edited_channel_post: message.optional(),
  business_message: message.optional(),
  edited_business_message: message.optional(),
  callback_query: z
    .looseObject({
      id: z.string(),
      from: user,
      chat_instance: optionalString,
      data: optionalString,
      inline_message_id: optionalString,
      // A message too old for the bot to see has date 0 and nothing else but its chat.
      message: z.looseObject({ message_id: z.number().int(), chat, date: z.number() }).optional(),
    })
    .optional(),
  my_chat_member: memberUpdate.optional(),
  chat_member: memberUpdate.optional(),
});

/** Why `value` is not shaped like a Bot API update (the first problem), or undefined. */
export function updateShapeProblem(value: unknown): string | undefined {
  const result = update.safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  return issue ? `${issue.path.join(".") || "update"}: ${issue.message}` : "not an update";
}
