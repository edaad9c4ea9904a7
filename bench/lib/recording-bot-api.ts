/**
 * The delivery bench's fake Bot API (tests/fixtures/fake-bot-api), in its own process, keeping
 * every accepted message so a benchmark can tell which message each chat got and when:
 *   tsx bench/lib/recording-bot-api.ts [--blocked-share 0] [--latency 20] [--jitter 5]
 *     [--global 30] [--per-chat-ms 1000]
 * Prints one JSON line {"apiRoot": "...", "inspect": "..."} when listening. The Bot API is at
 * apiRoot (stats at /__stats as usual); GET {inspect}/sent answers the kept messages, compact.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { FakeBotApi } from "../../tests/fixtures/fake-bot-api/server";

/** One accepted send as GET /sent lists it. */
export interface SentMessage {
  chatId: number;
  /** The message_id the fake answered (per chat, 1, 2, …): the engine stores it on the row. */
  messageId: number;
  /** Arrival time at the fake (ms since the epoch). */
  at: number;
  /** The text or caption, to place a send whose row does not name it. */
  text: string;
}

const { values } = parseArgs({
  options: {
    "blocked-share": { type: "string", default: "0" },
    latency: { type: "string", default: "0" },
    jitter: { type: "string", default: "0" },
    global: { type: "string", default: "30" },
    "per-chat-ms": { type: "string", default: "1000" },
  },
});

const fake = new FakeBotApi({
  blockedShare: Number(values["blocked-share"]),
  latencyMs: Number(values.latency),
  latencyJitterMs: Number(values.jitter),
  globalPerSecond: Number(values.global),
  perChatMs: Number(values["per-chat-ms"]),
  keepMessages: true,
});
const apiRoot = await fake.listen();

// A second port, so the Bot API's own routes stay exactly the delivery bench's.
const inspect = createServer((req, res) => {
  if (req.url !== "/sent") {
    res.writeHead(404).end();
    return;
  }
  const sent: SentMessage[] = fake.messages
    .filter((m) => m.method !== "editMessageText")
    .map((m) => ({
      chatId: m.chatId,
      messageId: m.messageId,
      at: m.at,
      text: String(m.payload.text ?? m.payload.caption ?? ""),
    }));
  const body = JSON.stringify(sent);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
});
await new Promise<void>((resolve) => inspect.listen(0, "127.0.0.1", resolve));
const port = (inspect.address() as AddressInfo).port;
process.stdout.write(`${JSON.stringify({ apiRoot, inspect: `http://127.0.0.1:${port}` })}\n`);

const shutdown = () => {
  inspect.close();
  void fake.close().then(() => process.exit(0));
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
