import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { deleteExpiredFlows, FLOW_TTL_MS } from "../../src/bot/flows";
import { conversationState } from "../../src/db/schema";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";

const ru = translator("ru");

/** One rule for every flow: a command ends it; a flow nobody answered for a day is over. */
describe("flows", () => {
  const handle = useTestDatabase(seedDemoDirectoryIfEmpty);

  const stateOf = async (chatId: number) =>
    handle.db
      .select()
      .from(conversationState)
      .where(eq(conversationState.key, String(chatId)));

  it("ends any waiting flow when a command arrives, and runs the command", async () => {
    const t = createTestBot(handle.db);
    const p = person(9101, "ru");
    await t.send(textUpdate(p, "/start"));
    await t.send(pressUpdate(p, "lang:ru"));
    expect(t.texts().at(-1)).toBe(ru("onboarding.municipality_ask"));
    await t.send(textUpdate(p, "/privacy"));
    expect(t.texts().at(-1)).toBe(ru("privacy.text", { days: 180 }));
    // The municipality step no longer waits: typed text is not searched as a place.
    await t.send(textUpdate(p, "Сокулук"));
    expect(t.texts().at(-1)).not.toBe(ru("onboarding.municipality_found"));
  });

  it("lets a flow expire after a day without an answer", async () => {
    const t = createTestBot(handle.db);
    const p = person(9102, "ru");
    await t.send(textUpdate(p, "/start"));
    await t.send(pressUpdate(p, "lang:ru"));
    expect(t.texts().at(-1)).toBe(ru("onboarding.municipality_ask"));
    // A day and a minute pass without an answer.
    await handle.db
      .update(conversationState)
      .set({ updatedAt: new Date(Date.now() - FLOW_TTL_MS - 60_000) })
      .where(eq(conversationState.key, String(p.id)));
    await t.send(textUpdate(p, "Сокулук"));
    expect(t.texts().at(-1)).not.toBe(ru("onboarding.municipality_found"));
  });

  it("deletes the stored state of abandoned flows, and only theirs", async () => {
    await handle.db.insert(conversationState).values([
      { key: "9201", value: {}, updatedAt: new Date(Date.now() - FLOW_TTL_MS - 60_000) },
      { key: "9202", value: {}, updatedAt: new Date() },
    ]);
    expect(await deleteExpiredFlows(handle.db)).toBeGreaterThanOrEqual(1);
    expect(await stateOf(9201)).toEqual([]);
    expect(await stateOf(9202)).toHaveLength(1);
    await handle.db.execute(sql`delete from conversation_state where key = '9202'`);
  });
});
