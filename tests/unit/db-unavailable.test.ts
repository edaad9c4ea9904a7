import { Writable } from "node:stream";
import { DrizzleQueryError } from "drizzle-orm";
import { BotError } from "grammy";
import { describe, expect, it } from "vitest";
import { databaseUnavailableCode, isDatabaseUnavailable } from "../../src/db/errors";
import { createLogger } from "../../src/logger";

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("telling an unreachable database from a failed query", () => {
  it("finds connection failures however they are wrapped", () => {
    const refused = coded("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED");
    expect(databaseUnavailableCode(refused)).toBe("ECONNREFUSED");
    const wrapped = new DrizzleQueryError("select 1", [], refused);
    expect(databaseUnavailableCode(wrapped)).toBe("ECONNREFUSED");
    const inBot = new BotError(wrapped, {} as never);
    expect(databaseUnavailableCode(inBot)).toBe("ECONNREFUSED");
    const both = new AggregateError([coded("x", "ECONNREFUSED"), coded("y", "ECONNREFUSED")]);
    expect(isDatabaseUnavailable(both)).toBe(true);
    expect(databaseUnavailableCode(coded("gone", "CONNECTION_CLOSED"))).toBe("CONNECTION_CLOSED");
    expect(databaseUnavailableCode(coded("admin shutdown", "57P01"))).toBe("57P01");
    expect(databaseUnavailableCode(coded("starting up", "57P03"))).toBe("57P03");
    expect(databaseUnavailableCode(coded("connection failure", "08006"))).toBe("08006");
  });

  it("leaves real errors alone", () => {
    expect(isDatabaseUnavailable(coded("duplicate key", "23505"))).toBe(false);
    expect(isDatabaseUnavailable(coded("syntax", "42601"))).toBe(false);
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isDatabaseUnavailable(loop)).toBe(false);
  });
});

describe("the log", () => {
  function capture() {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    });
    return { lines, logger: createLogger("info", sink) };
  }

  it("never holds the values of a failed query, however the error is logged", () => {
    const { lines, logger } = capture();
    const secret = "c0ffee-cookie-hash\nsecond line";
    const error = new DrizzleQueryError(
      "select * from users where channel_id = $1",
      [secret],
      coded("connect ECONNREFUSED", "ECONNREFUSED"),
    );
    logger.error({ err: error }, "as a field");
    logger.error(error);
    logger.warn({ err: new BotError(error, {} as never) }, "wrapped");
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain("c0ffee");
      expect(line).not.toContain("second line");
      const parsed = JSON.parse(line) as { err?: { message?: string } };
      expect(JSON.stringify(parsed)).toContain("ECONNREFUSED");
    }
    expect(lines[0]).toContain("select * from users where channel_id = $1");
  });

  it("redacts cookies and channel ids given as fields", () => {
    const { lines, logger } = capture();
    logger.info({ cookie: "abc", headers: { cookie: "def" }, user: { channelId: "ghi" } }, "x");
    expect(lines[0]).not.toMatch(/abc|def|ghi/);
  });
});
