import { eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { users } from "../../db/schema";
import type { RenderedMessage } from "../../delivery/content";
import type { DeliverySender, Recipient, SendResult } from "../../delivery/senders";
import { CHANNEL_CAPABILITIES } from "../capabilities";
import { ChannelError } from "../types";
import type { RateGate, WaPerson, WhatsAppAdapter } from "./adapter";
import { WhatsAppApiError } from "./client";
import type { WhatsAppTemplates } from "./templates";

const WHATSAPP = CHANNEL_CAPABILITIES.whatsapp;
/** Meta's customer service window after the person's last message (declared as a capability). */
export const WINDOW_MS = (WHATSAPP.proactiveWindowHours ?? Number.POSITIVE_INFINITY) * 3600_000;
/** A message sent this close to the window's end may reach Meta after it: use the template. */
const WINDOW_MARGIN_MS = 60_000;

interface SenderLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Undeliverable for good: the number is not on WhatsApp, the message is refused, and the like. */
const PERMANENT = new Set([
  131026, 131021, 131051, 131052, 131053, 132000, 132001, 132005, 132007, 132012, 132015, 132016,
  133010, 100, 131008, 131009,
]);

/**
 * The delivery engine's sender for WhatsApp. Inside the 24-hour window after the person's last
 * message a proactive message goes as it is (through the adapter: markup, buttons, lists);
 * outside it, as the approved template for its kind, or not at all (`outside_window`). Meta's
 * errors become the engine's outcomes: 131047 falls back to the template once, 130429 pauses the
 * channel, 131056 delays only this person, 131048 pauses the channel and warns, undeliverable
 * codes fail the row with the code kept.
 */
export function whatsappSender(options: {
  db: Database;
  adapter: WhatsAppAdapter;
  templates: WhatsAppTemplates;
  logger: SenderLogger;
  now?: () => number;
}): DeliverySender {
  const { db, adapter, templates, logger } = options;
  const now = options.now ?? Date.now;

  async function viaTemplate(
    user: WaPerson,
    message: RenderedMessage,
    gate: RateGate | undefined,
  ): Promise<SendResult> {
    if (message.followUp) {
      throw new ChannelError(
        "outside_window",
        "outside the 24-hour window; part of a message sent as its template",
      );
    }
    const template = message.kind ? templates.build(message.kind, user.locale, message) : undefined;
    if (!template) {
      throw new ChannelError(
        "outside_window",
        `outside the 24-hour window; no template for ${message.kind ?? "this message"}`,
      );
    }
    const wamid = await adapter.sendTemplate(user, { type: "template", template }, gate);
    return { channelMessageId: wamid, viaTemplate: true };
  }

  /** The person as the engine claimed them (no query), or their row for other callers. */
  async function personOf(
    recipient: Recipient,
  ): Promise<WaPerson & { lastMessageAt: Date | null }> {
    if (recipient.channelUserId !== undefined && recipient.lastMessageAt !== undefined) {
      return {
        id: recipient.userId,
        channelUserId: recipient.channelUserId,
        channelAltId: recipient.channelAltId ?? null,
        locale: recipient.locale as WaPerson["locale"],
        lastMessageAt: recipient.lastMessageAt,
      };
    }
    const [user] = await db.select().from(users).where(eq(users.id, recipient.userId));
    if (!user) throw new ChannelError("permanent", "the person is gone");
    return user;
  }

  async function send(
    recipient: Recipient,
    message: RenderedMessage,
    gate: RateGate | undefined,
  ): Promise<SendResult> {
    const user = await personOf(recipient);
    const last = user.lastMessageAt?.getTime();
    const inWindow = last !== undefined && now() - last < WINDOW_MS - WINDOW_MARGIN_MS;
    if (!inWindow || recipient.reengage) return viaTemplate(user, message, gate);
    try {
      const wamid = await adapter.sendProactive(user, message, gate);
      return { channelMessageId: wamid };
    } catch (error) {
      // Meta's clock says the window closed (the person's last message was earlier than ours
      // knows, or a clock skew): the template, once.
      if (error instanceof WhatsAppApiError && error.code === 131047) {
        return viaTemplate(user, message, gate);
      }
      throw error;
    }
  }

  return {
    gatesRequests: true,
    async send(recipient, message, gate) {
      try {
        return await send(recipient, message, gate);
      } catch (error) {
        throw classify(error, logger);
      }
    },
  };
}

/** A Graph API error as the engine's kind of failure. */
export function classify(error: unknown, logger?: SenderLogger): ChannelError {
  if (error instanceof ChannelError) return error;
  if (!(error instanceof WhatsAppApiError)) {
    return new ChannelError("transient", error instanceof Error ? error.message : String(error));
  }
  switch (error.code) {
    case 130429:
      return new ChannelError("rate_limited", error.message, 1);
    case 131056:
      // Meta names no wait: hold the person back for the channel's per-person interval.
      return new ChannelError(
        "recipient_rate_limited",
        error.message,
        WHATSAPP.perChatIntervalSeconds,
      );
    case 131048:
      logger?.warn(
        { code: error.code },
        "whatsapp: Meta limits this number for spam reports; sending paused for 10 minutes. Check the number's quality rating in WhatsApp Manager",
      );
      return new ChannelError("rate_limited", error.message, 600);
    case 131047:
      return new ChannelError("outside_window", error.message);
    default:
      if (PERMANENT.has(error.code)) return new ChannelError("permanent", error.message);
      if (error.code === 190 || error.httpStatus === 401) {
        logger?.error(
          { code: error.code },
          "whatsapp: the access token is not accepted (WHATSAPP_ACCESS_TOKEN)",
        );
      }
      if (
        error.httpStatus >= 400 &&
        error.httpStatus < 500 &&
        error.code !== 190 &&
        error.code !== 0
      ) {
        return new ChannelError("permanent", error.message);
      }
      return new ChannelError("transient", error.message);
  }
}
