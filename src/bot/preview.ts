import type { Api } from "grammy";
import { type RenderedMessage, toBotApiCall } from "../delivery";

/**
 * Sends a rendered outgoing message to one chat through the very Bot API call the delivery
 * engine makes for a recipient: a staff member's preview is exactly what residents will get.
 */
export async function sendAsDelivered(
  api: Api,
  chatId: number,
  rendered: RenderedMessage,
): Promise<void> {
  const call = toBotApiCall(chatId, rendered);
  const raw = api.raw as unknown as Record<
    string,
    (payload: Record<string, unknown>) => Promise<unknown>
  >;
  await raw[call.method]?.(call.payload);
}
