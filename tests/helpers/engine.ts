import { Api } from "grammy";
import type { Database } from "../../src/db/client";
import { DeliveryEngine, telegramSender } from "../../src/delivery";
import { fakeTelegram, TEST_TOKEN } from "./bot";
import { drainDeliveries } from "./wait";

/**
 * A real delivery engine on the test database, sending to Telegram faked at grammY's HTTP client
 * (its own call log, apart from the bot's direct replies). No per-chat pause, so tests need not
 * wait a second between two messages to one chat.
 */
export function startTestEngine(db: Database) {
  const telegram = fakeTelegram();
  const api = new Api(TEST_TOKEN, { fetch: telegram.fetch });
  const engine = new DeliveryEngine(db, {
    channels: [{ channel: "telegram", sender: telegramSender(api), perChatSeconds: 0 }],
    idlePollMs: 20,
    backoffBaseMs: 20,
  });
  engine.start();
  return {
    engine,
    calls: telegram.calls,
    /** sendMessage payloads the engine sent to one chat, in order. */
    sentTo: (chatId: number) =>
      telegram.calls
        .filter((c) => c.method === "sendMessage" && c.payload.chat_id === chatId)
        .map((c) => c.payload),
    /** Waits until no delivery is pending or in flight. */
    drain: () => drainDeliveries(db),
    stop: () => engine.stop(),
  };
}
