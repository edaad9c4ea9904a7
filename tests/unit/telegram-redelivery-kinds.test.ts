import { BotError, GrammyError, HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { worthRedelivery } from "../../src/http/telegram-webhook";

const apiError = (code: number) =>
  new GrammyError(
    "call failed",
    { ok: false, error_code: code, description: "x" },
    "sendMessage",
    {},
  );

describe("which failed Telegram updates are worth Telegram's redelivery", () => {
  it("redelivers when the database or the Bot API was out of reach", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
    });
    expect(worthRedelivery(refused)).toBe(true);
    expect(worthRedelivery(new HttpError("Network request failed", new Error("reset")))).toBe(true);
    expect(worthRedelivery(apiError(502))).toBe(true);
  });

  it("does not redeliver what would fail the same way again", () => {
    expect(worthRedelivery(apiError(400))).toBe(false);
    expect(worthRedelivery(apiError(403))).toBe(false);
    expect(worthRedelivery(new TypeError("cannot read properties of undefined"))).toBe(false);
    // The handler unwraps BotError before asking; a wrapped one is judged by what it wraps.
    expect(worthRedelivery(new BotError(new TypeError("bug"), {} as never))).toBe(false);
  });
});
