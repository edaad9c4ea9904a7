import type { Update } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { auditLog, invites, roleGrants, users } from "../../src/db/schema";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";

const ru = translator("ru");

/** Row counts of every table a bad update could touch. */
async function snapshot(handle: DatabaseHandle) {
  const db = handle.db;
  return {
    users: (await db.select().from(users)).map((u) => ({
      ...u,
      updatedAt: undefined,
      createdAt: undefined,
    })),
    roles: (await db.select().from(roleGrants)).length,
    invites: (await db.select().from(invites)).length,
    audit: (await db.select().from(auditLog)).length,
  };
}

describe("bad input changes nothing and crashes nothing", () => {
  let handle: DatabaseHandle;
  const eve = person(4001, "ru");
  let t: ReturnType<typeof createTestBot>;
  beforeAll(async () => {
    handle = await createTestDatabase();
    await seedDemoDirectoryIfEmpty(handle.db);
    t = createTestBot(handle.db);
    await t.send(textUpdate(eve, "/help")); // eve exists from here on
  });
  afterAll(() => handle.close());

  it("answers an unknown command plainly", async () => {
    const before = await snapshot(handle);
    await t.send(textUpdate(eve, "/frobnicate now"));
    expect(t.texts().at(-1)).toBe(ru("errors.unknown_command"));
    expect(await snapshot(handle)).toEqual(before);
  });

  it("survives a 5,000-character message, emoji and zero-width text", async () => {
    const before = await snapshot(handle);
    for (const text of [
      "я".repeat(5000),
      "🙂🔥👍🏽",
      "\u200b\u200c\u200d\ufeff",
      "\u202eRTL override",
      "<b>not html</b>",
    ]) {
      const sent = t.calls.length;
      await t.send(textUpdate(eve, text));
      expect(t.calls.length).toBeGreaterThan(sent); // it answered
    }
    expect(await snapshot(handle)).toEqual(before);
  });

  it("answers stale or forged callback data as stale, outside any flow", async () => {
    const before = await snapshot(handle);
    for (const data of [
      "lang:ky",
      "mun:1",
      "consent:yes",
      "x".repeat(64),
      "invite:../../etc",
      "💥",
    ]) {
      await t.send(pressUpdate(eve, data));
      expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    }
    expect(await snapshot(handle)).toEqual(before);
  });

  it("ignores forged buttons inside a flow and keeps waiting for a real answer", async () => {
    await t.send(textUpdate(eve, "/start"));
    await t.send(pressUpdate(eve, "mun:1")); // not a language
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    await t.send(pressUpdate(eve, "lang:de"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.stale_button"));
    await t.send(pressUpdate(eve, "lang:ru"));
    expect(t.texts().at(-1)).toBe(ru("onboarding.municipality_ask"));
    await t.send(textUpdate(eve, "/help")); // a command leaves the flow
    expect(t.texts().at(-1)).toContain(ru("help.intro"));
  });

  it("ignores update types it does not handle", async () => {
    const before = await snapshot(handle);
    const sent = t.calls.length;
    const chat = { id: -100123, type: "channel" as const, title: "News" };
    const odd: Update[] = [
      { update_id: 900001, channel_post: { message_id: 1, date: 0, chat, text: "hi" } },
      {
        update_id: 900002,
        edited_message: {
          message_id: 1,
          date: 0,
          edit_date: 0,
          chat: { id: eve.id, type: "private", first_name: "E" },
          from: eve,
          text: "edited",
        },
      },
      {
        update_id: 900003,
        poll: {
          id: "p",
          question: "q",
          options: [],
          total_voter_count: 0,
          is_closed: false,
          is_anonymous: true,
          type: "regular",
          allows_multiple_answers: false,
        },
      },
      {
        update_id: 900004,
        message: {
          message_id: 2,
          date: 0,
          chat: { id: -5, type: "group", title: "g" },
          from: eve,
          text: "/start",
        },
      },
    ] as Update[];
    for (const u of odd) await t.send(u);
    expect(t.calls.length).toBe(sent);
    expect(await snapshot(handle)).toEqual(before);
  });

  it("refuses staff commands from citizens and deputies", async () => {
    const before = await snapshot(handle);
    await t.send(textUpdate(eve, "/invite"));
    expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
    await t.send(pressUpdate(eve, "invite:staff"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    expect(await snapshot(handle)).toEqual(before);
  });
});
