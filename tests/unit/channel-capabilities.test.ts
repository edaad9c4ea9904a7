import { describe, expect, it } from "vitest";
import { CHANNEL_CAPABILITIES } from "../../src/channels/capabilities";
import { WhatsAppApiError } from "../../src/channels/whatsapp/client";
import { classify, WINDOW_MS } from "../../src/channels/whatsapp/sender";
import { defaultPerChatSeconds } from "../../src/delivery/engine";

/**
 * The channels' limits are declared once (src/channels/capabilities.ts) and the delivery engine
 * and the WhatsApp sender take theirs from there (issue 12: "about one message per 6 seconds per
 * person", the 24-hour window). tests/integration/whatsapp-engine.test.ts measures the pacing
 * with a short configured interval; this is what the engine keeps when none is configured.
 */
describe("channel capabilities as the engine and the WhatsApp sender use them", () => {
  it("the engine paces WhatsApp at about one message per 6 s per person by default", () => {
    expect(CHANNEL_CAPABILITIES.whatsapp.perChatIntervalSeconds).toBe(6);
    expect(defaultPerChatSeconds("whatsapp")).toBe(6);
  });

  it("Telegram keeps 1 message per second per chat; the web chat has no pause", () => {
    expect(defaultPerChatSeconds("telegram")).toBe(1);
    expect(defaultPerChatSeconds("web")).toBe(0);
  });

  it("WhatsApp's proactive window is the declared 24 hours", () => {
    expect(CHANNEL_CAPABILITIES.whatsapp.proactiveWindowHours).toBe(24);
    expect(WINDOW_MS).toBe(24 * 3600_000);
  });

  it("131056 (pair rate) holds the person back for the declared per-person interval", () => {
    const error = classify(new WhatsAppApiError(131056, 400, "pair rate"));
    expect(error.retryAfterSeconds).toBe(CHANNEL_CAPABILITIES.whatsapp.perChatIntervalSeconds);
  });
});
