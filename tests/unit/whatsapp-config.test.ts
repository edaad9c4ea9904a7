import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig, WHATSAPP_DEFAULT_API_ROOT } from "../../src/config";
import { configProblems } from "../helpers/config";
import { createTestDatabase } from "../helpers/db";
import { APP_START_MS, runScript, stopAppProcesses } from "../helpers/process";

const TOKEN = "EAAGm0PX4ZCpsBAlongsecrettokenvalue";
const APP_SECRET = "0123456789abcdef0123456789abcdef";
const VERIFY_TOKEN = "verify-me-please";
const PHONE_NUMBER_ID = "109876543210";

const ALL_FOUR = {
  WHATSAPP_ACCESS_TOKEN: TOKEN,
  WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
  WHATSAPP_APP_SECRET: APP_SECRET,
  WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
};

const problems = configProblems;

/** No line may carry a secret's value (terminals and logs are read by others). */
function expectNoSecrets(lines: string[]) {
  for (const secret of [TOKEN, APP_SECRET, VERIFY_TOKEN]) {
    expect(lines.join("\n")).not.toContain(secret);
  }
}

describe("WhatsApp configuration (WHATSAPP_*)", () => {
  it("turns the channel on with all four, with Meta's API root and 80 messages/s by default", () => {
    expect(parseConfig(ALL_FOUR).whatsapp).toEqual({
      accessToken: TOKEN,
      phoneNumberId: PHONE_NUMBER_ID,
      appSecret: APP_SECRET,
      verifyToken: VERIFY_TOKEN,
      apiRoot: "https://graph.facebook.com/v23.0",
      rate: 80,
      templatesPath: undefined,
    });
    expect(WHATSAPP_DEFAULT_API_ROOT).toBe("https://graph.facebook.com/v23.0");
  });

  it("reads the optional API root (trailing slash dropped), rate and template file", () => {
    const config = parseConfig({
      ...ALL_FOUR,
      WHATSAPP_API_ROOT: "http://127.0.0.1:4010/v23.0/",
      WHATSAPP_RATE: "20",
      WHATSAPP_TEMPLATES: "config/whatsapp-templates.json",
    }).whatsapp;
    expect(config?.apiRoot).toBe("http://127.0.0.1:4010/v23.0");
    expect(config?.rate).toBe(20);
    expect(config?.templatesPath).toBe("config/whatsapp-templates.json");
  });

  it("is off when none is set (also when they are empty)", () => {
    expect(parseConfig({}).whatsapp).toBeUndefined();
    expect(
      parseConfig({
        WHATSAPP_ACCESS_TOKEN: "",
        WHATSAPP_PHONE_NUMBER_ID: " ",
        WHATSAPP_APP_SECRET: "",
        WHATSAPP_VERIFY_TOKEN: "",
      }).whatsapp,
    ).toBeUndefined();
  });

  it.each([
    [["WHATSAPP_ACCESS_TOKEN"]],
    [["WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET"]],
    [["WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET"]],
    [["WHATSAPP_PHONE_NUMBER_ID"]],
  ])("a partial set (%j) is ONE line naming what is missing", (given) => {
    const env = Object.fromEntries(
      given.map((name) => [name, ALL_FOUR[name as keyof typeof ALL_FOUR]]),
    );
    const lines = problems(env);
    expect(lines).toHaveLength(1);
    const [line] = lines as [string];
    expect(line).toMatch(/^Configuration error: WHATSAPP_/);
    const missing = Object.keys(ALL_FOUR).filter((name) => !given.includes(name));
    for (const name of missing) expect(line).toContain(name);
    // "missing X, Y" names only what is missing (the rest of the line may list all four).
    const named = /missing ([A-Z_, ]+)/.exec(line)?.[1] ?? "";
    for (const name of given) expect(named).not.toContain(name);
    expectNoSecrets(lines);
  });

  it.each([
    ["WHATSAPP_PHONE_NUMBER_ID", "+996 700 123 456"],
    ["WHATSAPP_PHONE_NUMBER_ID", "abc"],
    ["WHATSAPP_RATE", "0"],
    ["WHATSAPP_RATE", "fast"],
    ["WHATSAPP_RATE", "1.5"],
    ["WHATSAPP_RATE", "5000"],
    ["WHATSAPP_API_ROOT", "graph.facebook.com"],
    ["WHATSAPP_API_ROOT", "ftp://graph.facebook.com/v23.0"],
    ["WHATSAPP_APP_SECRET", "short"],
    ["WHATSAPP_VERIFY_TOKEN", "short"],
  ])("rejects %s=%s with one clear line naming it", (name, value) => {
    const lines = problems({ ...ALL_FOUR, [name]: value });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Configuration error: ${name} \\S`));
  });

  it("never echoes a secret: not a short app secret, verify token or any token", () => {
    const shortSecret = "tooshort-sec";
    const shortVerify = "tok-7";
    const lines = problems({
      ...ALL_FOUR,
      WHATSAPP_APP_SECRET: shortSecret,
      WHATSAPP_VERIFY_TOKEN: shortVerify,
    });
    expect(lines).toHaveLength(2);
    expect(lines.join("\n")).not.toContain(shortSecret);
    expect(lines.join("\n")).not.toContain(shortVerify);
    expectNoSecrets(lines);
    // A partial set next to a bad value: still no secret in any line.
    expectNoSecrets(
      problems({
        WHATSAPP_ACCESS_TOKEN: TOKEN,
        WHATSAPP_APP_SECRET: APP_SECRET,
        WHATSAPP_RATE: "0",
      }),
    );
  });
});

describe("WhatsApp configuration stops the app process", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-wa-config-"));
  afterAll(async () => {
    await stopAppProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The environment `npm start` would see, on a database of its own. */
  function env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("WHATSAPP_")),
    );
    return {
      ...clean,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      BOT_TOKEN: "",
      DATA_DIR: dataDir,
      ...extra,
    };
  }

  it(
    "a partial WHATSAPP_* set: exit code 2 and one line on stderr naming what is missing",
    async () => {
      const run = await runScript(
        "src/main.ts",
        [],
        env({
          DATABASE_URL: "",
          WHATSAPP_ACCESS_TOKEN: TOKEN,
          WHATSAPP_APP_SECRET: APP_SECRET,
        }),
      );
      expect(run.code).toBe(2);
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^Configuration error: WHATSAPP_/);
      expect(lines[0]).toContain("WHATSAPP_PHONE_NUMBER_ID");
      expect(lines[0]).toContain("WHATSAPP_VERIFY_TOKEN");
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
      expect(run.stdout + run.stderr).not.toContain(APP_SECRET);
    },
    APP_START_MS + 30_000,
  );

  it(
    "a broken WHATSAPP_TEMPLATES file: exit code 2 and one line per problem, naming its path",
    async () => {
      const file = join(dataDir, "templates.json");
      writeFileSync(
        file,
        JSON.stringify({
          hearing_notice: { language: { ky: "ky_KG" }, body: ["title"] },
          poll_opened: { name: "aimak_poll", language: { de: "de" }, body: ["question"] },
        }),
      );
      const server = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
      try {
        const run = await runScript(
          "src/main.ts",
          [],
          env({
            DATABASE_URL: server?.url ?? "",
            ...ALL_FOUR,
            WHATSAPP_API_ROOT: "http://127.0.0.1:9/v23.0",
            WHATSAPP_TEMPLATES: file,
          }),
        );
        expect(run.code, run.stdout + run.stderr).toBe(2);
        const lines = run.stderr.trim().split("\n");
        expect(lines.length).toBeGreaterThanOrEqual(2);
        for (const line of lines) expect(line).toMatch(/^Configuration error: /);
        // Each problem names where it is: the missing name, the unknown locale.
        expect(lines.some((l) => l.includes("hearing_notice.name"))).toBe(true);
        expect(lines.some((l) => l.includes("poll_opened.language.de"))).toBe(true);
        expect(run.stderr).not.toMatch(/\n\s+at /);
        expect(run.stdout + run.stderr).not.toContain(TOKEN);
        expect(run.stdout + run.stderr).not.toContain(APP_SECRET);

        // A file that is not there, or not JSON: the same exit and a line naming the file.
        for (const [path, content] of [
          [join(dataDir, "absent.json"), undefined],
          [join(dataDir, "not-json.json"), "{ not json"],
        ] as const) {
          if (content !== undefined) writeFileSync(path, content);
          const bad = await runScript(
            "src/main.ts",
            [],
            env({ DATABASE_URL: server?.url ?? "", ...ALL_FOUR, WHATSAPP_TEMPLATES: path }),
          );
          expect(bad.code, bad.stdout + bad.stderr).toBe(2);
          expect(bad.stderr.trim()).toMatch(/^Configuration error: /);
          expect(bad.stderr).toContain(path.split("/").pop());
          expect(bad.stderr).not.toMatch(/\n\s+at /);
        }
      } finally {
        await server?.close();
      }
    },
    3 * APP_START_MS + 30_000,
  );
});
