import { describe, expect, it } from "vitest";
import { ChannelError } from "../../src/channels/types";
import { WhatsAppApiError } from "../../src/channels/whatsapp/client";
import { classify } from "../../src/channels/whatsapp/sender";

/** A logger that keeps what was said, to see which errors warn staff. */
function recordingLogger() {
  const lines: { level: "warn" | "error"; obj: object; msg: string | undefined }[] = [];
  return {
    lines,
    warn: (obj: object, msg?: string) => lines.push({ level: "warn", obj, msg }),
    error: (obj: object, msg?: string) => lines.push({ level: "error", obj, msg }),
  };
}

function graphError(code: number, httpStatus = 400, message = "refused") {
  return new WhatsAppApiError(code, httpStatus, message);
}

/**
 * What the delivery engine does with each Graph API error (issue 12, "The 24-hour window and
 * templates"): the kind of ChannelError decides pause / delay / skip / fail / retry.
 */
describe("WhatsApp sender: classify()", () => {
  it("131047 (the 24-hour window closed) is outside_window: skipped, not failed", () => {
    const result = classify(graphError(131047));
    expect(result).toBeInstanceOf(ChannelError);
    expect(result.kind).toBe("outside_window");
  });

  it("130429 (throughput) pauses the whole channel like Telegram's 429", () => {
    const result = classify(graphError(130429));
    expect(result.kind).toBe("rate_limited");
    expect(result.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("131056 (pair rate) delays only that recipient, by about Meta's 6 seconds", () => {
    const result = classify(graphError(131056));
    expect(result.kind).toBe("recipient_rate_limited");
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(6);
  });

  it("131048 (spam rate) pauses the channel for minutes and warns staff in the log", () => {
    const logger = recordingLogger();
    const result = classify(graphError(131048), logger);
    expect(result.kind).toBe("rate_limited");
    // A pause long enough to matter: Meta's spam limit is not lifted in a second.
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(60);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]?.level).toBe("warn");
    expect(logger.lines[0]?.msg).toMatch(/spam/i);
  });

  it.each([131026, 131021, 131051, 132001])(
    "%i (undeliverable) fails the delivery for good, keeping Meta's code",
    (code) => {
      const result = classify(graphError(code, 400, "Message undeliverable"));
      expect(result.kind).toBe("permanent");
      expect(result.message).toContain(String(code));
    },
  );

  it("a server error (HTTP 500) is transient: the delivery is retried", () => {
    expect(classify(graphError(131000, 500, "Something went wrong")).kind).toBe("transient");
    // A 500 whose body is not Meta's JSON (the client names no code then).
    expect(classify(graphError(0, 500, "HTTP 500")).kind).toBe("transient");
    expect(classify(graphError(0, 503, "HTTP 503")).kind).toBe("transient");
  });

  it("190 (the access token is refused) is retried, not blamed on the recipient, and logged as an error", () => {
    const logger = recordingLogger();
    const result = classify(graphError(190, 401, "Invalid OAuth access token"), logger);
    expect(result.kind).toBe("transient");
    expect(logger.lines.map((l) => l.level)).toEqual(["error"]);
    expect(logger.lines[0]?.msg).toContain("WHATSAPP_ACCESS_TOKEN");
    // Not a word of the token itself (the error carries none, and the log must not either).
    expect(JSON.stringify(logger.lines)).not.toMatch(/Bearer/);
  });

  it("other 4xx requests Meta refuses are permanent; the code stays in the message", () => {
    const result = classify(graphError(131009, 400, "Parameter value is not valid"));
    expect(result.kind).toBe("permanent");
    expect(result.message).toContain("131009");
  });

  it("network failures are transient; a ChannelError passes through unchanged", () => {
    expect(classify(new TypeError("fetch failed")).kind).toBe("transient");
    expect(classify("socket hang up").kind).toBe("transient");
    const outside = new ChannelError("outside_window", "no template for poll_result");
    expect(classify(outside)).toBe(outside);
  });
});
