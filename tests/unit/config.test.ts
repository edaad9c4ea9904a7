import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { configProblems } from "../helpers/config";

const problems = configProblems;

describe("configuration", () => {
  it("has working defaults: PGlite in ./data, web chat on 127.0.0.1:3000, Kyrgyz, Bishkek time", () => {
    expect(parseConfig({})).toMatchObject({
      databaseUrl: undefined,
      dataDir: "./data",
      host: "127.0.0.1",
      port: 3000,
      botToken: undefined,
      webhook: undefined,
      defaultLocale: "ky",
      timezone: "Asia/Bishkek",
      faqRemindAfterHours: 24,
      retentionDays: 180,
    });
    expect(parseConfig({ FAQ_REMIND_AFTER_HOURS: "0" }).faqRemindAfterHours).toBe(0);
    expect(parseConfig({ RETENTION_DAYS: "1" }).retentionDays).toBe(1);
    expect(parseConfig({ RETENTION_DAYS: "3650" }).retentionDays).toBe(3650);
    expect(parseConfig({ FAQ_REMIND_AFTER_HOURS: "72" }).faqRemindAfterHours).toBe(72);
  });

  it("reads the sites that may embed the web chat (none by default)", () => {
    expect(parseConfig({}).webchatEmbedOrigins).toEqual([]);
    expect(
      parseConfig({ WEBCHAT_EMBED_ORIGINS: "https://sokuluk.gov.kg, https://karakol.kg:8443" })
        .webchatEmbedOrigins,
    ).toEqual(["https://sokuluk.gov.kg", "https://karakol.kg:8443"]);
  });

  it("reads hearing reminder offsets (default 7d,1d,2h) and the public address", () => {
    expect(parseConfig({}).hearingReminders).toEqual([7 * 1440, 1440, 120]);
    expect(parseConfig({ HEARING_REMINDERS: "2h, 3d 30m,2h" }).hearingReminders).toEqual([
      3 * 1440,
      120,
      30,
    ]);
    expect(parseConfig({}).publicUrl).toBe("http://127.0.0.1:3000");
    expect(parseConfig({ PUBLIC_URL: "https://aimak.example.kg/" }).publicUrl).toBe(
      "https://aimak.example.kg",
    );
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["DEFAULT_LOCALE", "de"],
    ["TIMEZONE", "Mars/Olympus"],
    ["BOT_TOKEN", "not-a-token"],
    ["DATABASE_URL", "mysql://x"],
    ["TELEGRAM_API_ROOT", "not a url"],
    ["LOG_LEVEL", "loud"],
    ["WEBHOOK_SECRET", "short"],
    ["FAQ_REMIND_AFTER_HOURS", "soon"],
    ["FAQ_REMIND_AFTER_HOURS", "1.5"],
    ["FAQ_REMIND_AFTER_HOURS", "-3"],
    ["FAQ_REMIND_AFTER_HOURS", "9000"],
    ["RETENTION_DAYS", "0"],
    ["RETENTION_DAYS", "3651"],
    ["RETENTION_DAYS", "1.5"],
    ["RETENTION_DAYS", "half a year"],
    ["HEARING_REMINDERS", "tomorrow"],
    ["HEARING_REMINDERS", "0h"],
    ["HEARING_REMINDERS", "7x"],
    ["HEARING_REMINDERS", "1d,2d,3d,4d,5d,6d,7d,8d,9d,10d,11d"],
    ["PUBLIC_URL", "ftp://example.kg"],
    ["WEBCHAT_EMBED_ORIGINS", "http://sokuluk.gov.kg"],
    ["WEBCHAT_EMBED_ORIGINS", "https://sokuluk.gov.kg/chat"],
    ["WEBCHAT_EMBED_ORIGINS", "sokuluk.gov.kg"],
  ])("rejects %s=%s with one line naming it", (name, value) => {
    const lines = problems({ [name]: value });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Configuration error: ${name} `));
  });

  it("never echoes secrets in its messages", () => {
    const [line] = problems({ BOT_TOKEN: "123:short-secret" });
    expect(line).not.toContain("short-secret");
  });

  it("requires a secret and a token for webhook mode", () => {
    const lines = problems({ WEBHOOK_URL: "https://example.org/telegram/webhook" });
    expect(lines.some((l) => l.includes("WEBHOOK_SECRET"))).toBe(true);
    expect(lines.some((l) => l.includes("BOT_TOKEN"))).toBe(true);
  });

  it("stops the app with exit code 2 and a clear line", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, PORT: "http", DATABASE_URL: "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(/^Configuration error: PORT must be a port number/);
  });

  it("stops the app with exit code 2 on a bad RETENTION_DAYS", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, RETENTION_DAYS: "0", DATABASE_URL: "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(
      'Configuration error: RETENTION_DAYS must be a whole number of days from 1 to 3650 (got "0")',
    );
  });
});
