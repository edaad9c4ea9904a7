/**
 * The Telegram webhook's door: checks what grammY's webhookCallback takes for granted. A request
 * without the secret is refused before its body is read; a body over the limit gets 413; one
 * that is not an update (bad JSON, empty, `null`, no update_id) gets 400 and one log line
 * instead of a 500 with a stack trace; an update naming a chat in the range of other channels'
 * ids (web chat, WhatsApp) is refused, so nobody can write into a web chat visitor's transcript
 * by forging one; one not shaped like a Bot API update (telegram-update-shape.ts) too. Strings
 * are made storable (db/storable.ts). Then each update is claimed by its update_id before it
 * is handled (telegram-updates.ts), so a redelivered one is handled once across instances.
 */
import { timingSafeEqual } from "node:crypto";
import { BotError, GrammyError, HttpError } from "grammy";
import type { Update } from "grammy/types";
import type { Handler, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Database } from "../db/client";
import { isDatabaseUnavailable } from "../db/errors";
import { SYNTHETIC_CHAT_ID_BASE } from "../db/schema/users";
import { storableStrings } from "../db/storable";
import type { Logger } from "../logger";
import { updateShapeProblem } from "./telegram-update-shape";
import { claimUpdate, finishUpdate, releaseUpdate, type UpdateClaim } from "./telegram-updates";

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

/** The update in a body, or why the body is not an update we take. */
export function readUpdate(body: string): { update: Update } | { reason: string } {
  let update: unknown;
  try {
    update = JSON.parse(body, storableStrings);
  } catch {
    return { reason: "not JSON" };
  }
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    return { reason: "not an object" };
  }
  const id = (update as { update_id?: unknown }).update_id;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    return { reason: "no update_id" };
  }
  if (idsIn(update).some((chat) => Math.abs(chat) >= SYNTHETIC_CHAT_ID_BASE)) {
    return { reason: "a chat id of another channel" };
  }
  const problem = updateShapeProblem(update);
  if (problem) return { reason: `not shaped like an update (${problem})` };
  return { update: update as Update };
}

/** Updates the guard let through, for the handler after it (read and checked once). */
const checked = new WeakMap<Request, Update>();

/** The checks, as Hono middleware to put before telegramUpdateHandler. */
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
      const read = readUpdate(await c.req.text());
      if ("reason" in read) {
        logger.warn(
          { reason: read.reason },
          "telegram webhook: refused a request that is not an update",
        );
        return c.text(`Bad Request: ${read.reason}`, 400);
      }
      checked.set(c.req.raw, read.update);
      return next();
    },
  ];
}

export interface TelegramUpdateHandlerDeps {
  db: Database;
  logger: Logger;
  /** Handles one update (the bot's handleUpdate); throws when its handling failed. */
  handle: (update: Update) => Promise<void>;
  /**
   * Where a handling that failed for good goes (the bot's error handler: logged, the person
   * told), as polling would have sent it.
   */
  onFailed: (error: unknown) => Promise<void>;
}

/**
 * Whether a failed handling is worth Telegram's redelivery: the database or the Bot API was out
 * of reach for a moment. Anything else is a bug that would fail the same way on every delivery,
 * and Telegram would keep the update (and those after it) waiting for hours.
 */
export function worthRedelivery(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  if (error instanceof HttpError) return true;
  return error instanceof GrammyError && error.error_code >= 500;
}

/**
 * The webhook's handler, after the guard: claims the update, handles it, and answers so that
 * Telegram delivers it again exactly when it was not handled. Handled, or handled before: 200.
 * Being handled by another delivery right now: 503 (Telegram keeps it and comes back; should
 * that instance have died, its lease passes and a later delivery handles it). The database or
 * the Bot API out of reach: the claim goes and the answer is a 5xx. Any other failure is handled
 * as polling handles it (onFailed) and the update counts as handled.
 */
export function telegramUpdateHandler(deps: TelegramUpdateHandlerDeps): Handler {
  const { db, logger } = deps;
  return async (c) => {
    const update = checked.get(c.req.raw);
    if (!update) return c.text("Bad Request: not checked", 400);
    const updateId = update.update_id;
    let claimed: UpdateClaim;
    try {
      const result = await claimUpdate(db, updateId);
      if (result.kind === "processed") return c.body(null, 200);
      if (result.kind === "busy") return c.text("Service Unavailable: being handled", 503);
      claimed = result.claim;
    } catch (err) {
      // The database out of reach: the central error handler answers 503 (one log line per few
      // seconds however many updates arrive meanwhile), and Telegram delivers it again later.
      if (isDatabaseUnavailable(err)) throw err;
      logger.warn({ err, updateId }, "telegram webhook: no claim");
      return c.text("Service Unavailable", 503);
    }
    try {
      await deps.handle(update);
    } catch (error) {
      const err = error instanceof BotError ? error.error : error;
      if (worthRedelivery(err)) {
        // Should the release fail too, the lease runs out instead and a later delivery takes
        // the update over.
        const released = await releaseUpdate(db, claimed).then(
          () => true,
          () => false,
        );
        if (isDatabaseUnavailable(err)) throw err;
        logger.warn({ err, updateId, released }, "telegram update failed; Telegram will retry");
        return c.text("Service Unavailable", 503);
      }
      await deps
        .onFailed(error)
        .catch((handlerErr: unknown) =>
          logger.error({ err: handlerErr, updateId }, "telegram webhook: error handler failed"),
        );
    }
    try {
      await finishUpdate(db, claimed);
    } catch (err) {
      // Handled all the same: a 5xx would only have it handled twice once the lease passes.
      logger.warn({ err, updateId }, "telegram webhook: handled, but not marked as handled");
    }
    return c.body(null, 200);
  };
}
