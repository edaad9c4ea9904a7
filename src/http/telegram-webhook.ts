/**
 * The Telegram webhook's door: checks what grammY's webhookCallback takes for granted. A request
 * without the secret is refused before its body is read; a body over the limit gets 413; one
 * that is not an update (bad JSON, empty, `null`, no update_id) gets 400 and one log line
 * instead of a 500 with a stack trace; an update naming a chat in the range of other channels'
 * ids (web chat, WhatsApp) is refused, so nobody can write into a web chat visitor's transcript
 * by forging one.
 */
import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { SYNTHETIC_CHAT_ID_BASE } from "../db/schema/users";
import type { Logger } from "../logger";

/** Telegram's updates are small; a message's text is at most 4,096 characters. */
export const TELEGRAM_WEBHOOK_BODY_LIMIT = 1024 * 1024;
const SECRET_HEADER = "x-telegram-bot-api-secret-token";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Every chat or user id an update names (where people and chats appear in the Bot API). */
function idsIn(value: unknown, depth = 0): number[] {
  if (depth > 6 || typeof value !== "object" || value === null) return [];
  const out: number[] = [];
  for (const [key, inner] of Object.entries(value)) {
    if ((key === "chat" || key === "from" || key === "user" || key === "sender_chat") && inner) {
      const id = (inner as { id?: unknown }).id;
      if (typeof id === "number") out.push(id);
    }
    if (typeof inner === "object") out.push(...idsIn(inner, depth + 1));
  }
  return out;
}

/** Why a body is not an update we take, or undefined when it is one. */
export function refuseUpdate(body: string): string | undefined {
  let update: unknown;
  try {
    update = JSON.parse(body);
  } catch {
    return "not JSON";
  }
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    return "not an object";
  }
  const id = (update as { update_id?: unknown }).update_id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) return "no update_id";
  if (idsIn(update).some((chat) => Math.abs(chat) >= SYNTHETIC_CHAT_ID_BASE)) {
    return "a chat id of another channel";
  }
  return undefined;
}

/** The checks, as Hono middleware to put before grammY's webhookCallback. */
export function telegramWebhookGuard(secret: string, logger: Logger): MiddlewareHandler[] {
  return [
    async (c, next) => {
      if (!sameSecret(c.req.header(SECRET_HEADER) ?? "", secret)) {
        return c.text("secret token is wrong", 401);
      }
      return next();
    },
    bodyLimit({
      maxSize: TELEGRAM_WEBHOOK_BODY_LIMIT,
      onError: (c) => c.text("Payload Too Large", 413),
    }),
    async (c, next) => {
      const reason = refuseUpdate(await c.req.text());
      if (reason) {
        logger.warn({ reason }, "telegram webhook: refused a request that is not an update");
        return c.text(`Bad Request: ${reason}`, 400);
      }
      return next();
    },
  ];
}
