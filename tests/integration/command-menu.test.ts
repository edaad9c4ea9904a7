import { eq } from "drizzle-orm";
import { Api } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsFor, publishDefaultMenus } from "../../src/bot/command-menu";
import type { DatabaseHandle } from "../../src/db/client";
import { ROLES, roleGrants, users } from "../../src/db/schema";
import { features } from "../../src/features";
import { translator } from "../../src/i18n";
import { LOCALES } from "../../src/locales";
import { createTestBot, fakeTelegram, person, TEST_TOKEN, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { seedMunicipalities } from "../helpers/delivery-fixtures";

/** Telegram's command menus come from the features' command lists, per language and role. */
describe("command menus", () => {
  let handle: DatabaseHandle;
  let municipality: number;
  beforeAll(async () => {
    handle = await createTestDatabase();
    [municipality] = (await seedMunicipalities(handle.db, 1)) as [number];
  });
  afterAll(() => handle.close());

  it("gives citizens the everyday commands and each role its own", () => {
    const names = (roles: Parameters<typeof commandsFor>[1]) =>
      commandsFor(features, roles).map((c) => c.command);
    expect(names([])).toEqual([
      "start",
      "language",
      "settings",
      "hearings",
      "polls",
      "verify",
      "help",
      "privacy",
      "mydata",
      "forgetme",
    ]);
    expect(names(["staff"])).toEqual([
      "invite",
      "start",
      "language",
      "settings",
      "broadcast",
      "broadcasts",
      "hearings",
      "polls",
      "verify",
      "help",
      "privacy",
      "mydata",
      "forgetme",
    ]);
    expect(names(["lawyer"])).toContain("queue");
    expect(names(["lawyer"])).not.toContain("broadcast");
    expect(names(["deputy"])).toEqual(names([]));
  });

  it("describes every command in every language within Telegram's limits", () => {
    for (const command of commandsFor(features, [...ROLES])) {
      expect(command.command).toMatch(/^[a-z0-9_]{1,32}$/);
      for (const locale of LOCALES) {
        const text = translator(locale)(command.description);
        expect(text).not.toBe(command.description);
        expect(text.length).toBeGreaterThanOrEqual(3);
        expect(text.length).toBeLessThanOrEqual(256);
      }
    }
  });

  it("publishes the default menu per language and for any other language", async () => {
    const telegram = fakeTelegram();
    await publishDefaultMenus(new Api(TEST_TOKEN, { fetch: telegram.fetch }), features, "ky");
    const calls = telegram.calls.filter((c) => c.method === "setMyCommands");
    expect(calls.map((c) => c.payload.language_code)).toEqual(["ky", "ru", "en", undefined]);
    expect(calls[1]?.payload.commands).toContainEqual({
      command: "settings",
      description: translator("ru")("commands.settings"),
    });
  });

  it("sets a role holder's own menu once, and takes it away when the role goes", async () => {
    const t = createTestBot(handle.db);
    const p = person(9301, "ru");
    await t.send(textUpdate(p, "/privacy"));
    expect(t.calls.filter((c) => c.method.endsWith("MyCommands"))).toEqual([]);
    const [row] = await handle.db.select().from(users).where(eq(users.chatId, p.id));
    await handle.db
      .insert(roleGrants)
      .values({ userId: row!.id, role: "staff", municipalityId: municipality });

    await t.send(textUpdate(p, "/help"));
    const set = t.calls.filter((c) => c.method === "setMyCommands");
    expect(set).toHaveLength(1);
    expect(set[0]?.payload.scope).toEqual({ type: "chat", chat_id: p.id });
    expect(set[0]?.payload.commands).toContainEqual({
      command: "broadcast",
      description: translator("ru")("commands.broadcast"),
    });
    await t.send(textUpdate(p, "/help"));
    expect(t.calls.filter((c) => c.method === "setMyCommands")).toHaveLength(1);

    await handle.db.delete(roleGrants).where(eq(roleGrants.userId, row!.id));
    await t.send(textUpdate(p, "/help"));
    const removed = t.calls.filter((c) => c.method === "deleteMyCommands");
    expect(removed).toHaveLength(1);
    expect(removed[0]?.payload.scope).toEqual({ type: "chat", chat_id: p.id });
  });
});
