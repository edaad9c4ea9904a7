import { eq } from "drizzle-orm";
import type { Update } from "grammy/types";
import { describe, expect, it } from "vitest";
import { users } from "../../src/db/schema";
import { createTestBot, person, textUpdate } from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";

let updateId = 970_000;

/** What Telegram sends when a person blocks ("kicked") or unblocks ("member") the bot. */
function chatMember(from: ReturnType<typeof person>, status: "kicked" | "member"): Update {
  const old = status === "kicked" ? "member" : "kicked";
  const bot = { id: 42, is_bot: true as const, first_name: "Aimak", username: "aimak_test_bot" };
  return {
    update_id: ++updateId,
    my_chat_member: {
      chat: { id: from.id, type: "private", first_name: from.first_name },
      from,
      date: Math.floor(Date.now() / 1000),
      old_chat_member: { user: bot, status: old } as never,
      new_chat_member:
        status === "kicked"
          ? { user: bot, status, until_date: 0 }
          : ({ user: bot, status } as never),
    },
  };
}

/**
 * Blocking and unblocking the bot on Telegram: the person is inactive (no broadcasts are
 * enqueued for them) at once, and active again when they unblock it or write again.
 */
describe("my_chat_member", () => {
  const handle = useTestDatabase();
  const stateOf = async (chatId: number) =>
    (await handle.db.select().from(users).where(eq(users.chatId, chatId)))[0];

  it("marks a person inactive when they block the bot and active when they unblock it", async () => {
    const t = createTestBot(handle.db);
    const p = person(9_801, "ru");
    await t.send(textUpdate(p, "/help"));
    expect(await stateOf(p.id)).toMatchObject({ inactive: false });
    const before = t.calls.length;

    await t.send(chatMember(p, "kicked"));
    expect(await stateOf(p.id)).toMatchObject({ inactive: true, inactiveReason: "blocked" });
    await t.send(chatMember(p, "member"));
    expect(await stateOf(p.id)).toMatchObject({ inactive: false, inactiveReason: null });
    // Nothing is said to a person who just blocked or unblocked the bot.
    expect(t.calls.slice(before).filter((c) => c.method === "sendMessage")).toEqual([]);
  });

  it("makes a blocked person active again when they write", async () => {
    const t = createTestBot(handle.db);
    const p = person(9_802, "ru");
    await t.send(textUpdate(p, "/help"));
    await t.send(chatMember(p, "kicked"));
    expect(await stateOf(p.id)).toMatchObject({ inactive: true });
    await t.send(textUpdate(p, "/help"));
    expect(await stateOf(p.id)).toMatchObject({ inactive: false, inactiveReason: null });
  });

  it("creates nobody for a stranger who blocks the bot", async () => {
    const t = createTestBot(handle.db);
    const p = person(9_803, "ru");
    await t.send(chatMember(p, "kicked"));
    expect(await stateOf(p.id)).toBeUndefined();
  });
});
