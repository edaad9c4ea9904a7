import { eq } from "drizzle-orm";
import type { Update } from "grammy/types";
import { describe, expect, it } from "vitest";
import { createBot } from "../../src/bot/create-bot";
import type { Feature } from "../../src/bot/feature";
import { CHANNEL_CAPABILITIES } from "../../src/channels/capabilities";
import { ChannelDirectory } from "../../src/channels/directory";
import type { ChannelAdapter } from "../../src/channels/types";
import { syntheticChatId } from "../../src/channels/types";
import { users } from "../../src/db/schema";
import { features } from "../../src/features";
import { verifyHandlers } from "../../src/features/polls/verify";
import { translator } from "../../src/i18n";
import {
  type ApiCall,
  fakeTelegram,
  person,
  TEST_BOT_INFO,
  TEST_TOKEN,
  testDeps,
  textUpdate,
} from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";
import { seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

/**
 * Phone verification through the real bot (grammY, every feature's middleware, the channel
 * router) on PGlite or PostgreSQL, with Telegram faked at the HTTP client and the web chat
 * replaced by an adapter that records what it was asked to show. A number is stored only from
 * the sender's own contact; anyone else's contact, or one without a Telegram account behind it,
 * changes nothing; the web chat is told how to verify on Telegram or WhatsApp.
 */

const ru = translator("ru");
const ky = translator("ky");
const en = translator("en");

const handle = useTestDatabase(async (db) => {
  const [municipality] = await seedMunicipalities(db, 1);
  await seedUsers(db, [
    { chatId: 72_001, municipalityId: municipality ?? null, locale: "ru" },
    { chatId: 72_002, municipalityId: municipality ?? null, locale: "ky" },
    { chatId: 72_003, municipalityId: municipality ?? null, locale: "en" },
    { chatId: 72_004, municipalityId: municipality ?? null, locale: "ru" },
    { chatId: WEB_CHAT, municipalityId: municipality ?? null, locale: "ru", channel: "web" },
  ]);
});

const WEB_CHAT = syntheticChatId(72_100);
const asel = person(72_001, "ru");
const bakyt = person(72_002, "ky");
const chris = person(72_003, "en");
const dinara = person(72_004, "ru");
const webVisitor = person(WEB_CHAT, "ru");

/** A web chat stand-in behind the channel router: records every call for its chats. */
function recordingWebchat(calls: ApiCall[]): ChannelAdapter {
  let messageId = 5000;
  return {
    channel: "web",
    capabilities: CHANNEL_CAPABILITIES.web,
    call: async (method, payload) => {
      calls.push({ method, payload });
      if (method !== "sendMessage") return true;
      return {
        message_id: ++messageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: payload.chat_id, type: "private" },
        text: payload.text,
      };
    },
    canReach: () => true,
  };
}

/**
 * The app's bot, with the verify handlers as their own feature ahead of the FAQ (whose free
 * text would otherwise take the cancel button's text) until the polls feature wires them.
 */
function verifyBot() {
  const telegram = fakeTelegram();
  const webCalls: ApiCall[] = [];
  const directory = new ChannelDirectory(handle.db);
  directory.register(recordingWebchat(webCalls));
  const verifying: Feature = { name: "polls-verify-test", handlers: verifyHandlers };
  const faqAt = features.findIndex((f) => f.name === "faq");
  const list = [...features.slice(0, faqAt), verifying, ...features.slice(faqAt)];
  const bot = createBot({
    deps: testDeps(handle.db),
    features: list,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: telegram.fetch,
    directory,
  });
  const sent = (calls: ApiCall[], chatId: number) =>
    calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chatId);
  return {
    send: (update: Update) => bot.handleUpdate(update),
    /** The last message sent to a Telegram chat. */
    lastTo: (chatId: number) => sent(telegram.calls, chatId).at(-1)?.payload,
    lastToWeb: () => sent(webCalls, WEB_CHAT).at(-1)?.payload,
    webCalls,
  };
}

let updateId = 900_000;

function contactUpdate(
  from: ReturnType<typeof person>,
  contact: { phone_number: string; user_id?: number; first_name?: string },
): Update {
  return {
    update_id: ++updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: from.id, type: "private", first_name: from.first_name },
      from,
      contact: { first_name: contact.first_name ?? from.first_name, ...contact },
    },
  };
}

async function phoneOf(chatId: number) {
  const [row] = await handle.db
    .select({ phone: users.phone, verifiedAt: users.phoneVerifiedAt })
    .from(users)
    .where(eq(users.chatId, chatId));
  if (!row) throw new Error(`no user with chat ${chatId}`);
  return row;
}

type Keyboard = {
  keyboard?: { text: string; request_contact?: boolean }[][];
  remove_keyboard?: boolean;
};
const markupOf = (payload: Record<string, unknown> | undefined) =>
  payload?.reply_markup as Keyboard | undefined;

describe("phone verification by Telegram contact", () => {
  it("/verify offers the contact button and a cancel button, and explains why", async () => {
    const bot = verifyBot();
    await bot.send(textUpdate(bakyt, "/verify"));
    const asked = bot.lastTo(bakyt.id);
    expect(String(asked?.text)).toContain(ky("polls.verify.intro_command"));
    expect(String(asked?.text)).toContain(ky("polls.verify.why"));
    const buttons = markupOf(asked)?.keyboard?.flat() ?? [];
    expect(buttons).toEqual([
      { text: ky("polls.verify.button_share"), request_contact: true },
      { text: ky("polls.verify.button_cancel") },
    ]);

    // The cancel button takes the keyboard away and changes nothing.
    await bot.send(textUpdate(bakyt, ky("polls.verify.button_cancel")));
    const cancelled = bot.lastTo(bakyt.id);
    expect(cancelled?.text).toBe(ky("polls.verify.cancelled"));
    expect(markupOf(cancelled)?.remove_keyboard).toBe(true);
    expect((await phoneOf(bakyt.id)).phone).toBeNull();
  });

  it("stores the sender's own contact as E.164 with the time it was verified", async () => {
    const bot = verifyBot();
    const before = Date.now();
    // Telegram writes the number without "+".
    await bot.send(contactUpdate(asel, { phone_number: "996555123456", user_id: asel.id }));
    const stored = await phoneOf(asel.id);
    expect(stored.phone).toBe("+996555123456");
    expect(stored.verifiedAt).toBeInstanceOf(Date);
    expect(stored.verifiedAt!.getTime()).toBeGreaterThan(before - 60_000);

    const done = bot.lastTo(asel.id);
    expect(done?.text).toBe(ru("polls.verify.done", { phone: "+996 *** *** 456" }));
    expect(String(done?.text)).not.toContain("555123");
    expect(markupOf(done)?.remove_keyboard).toBe(true);

    // /verify now says the number is verified, masked, and offers to replace it.
    await bot.send(textUpdate(asel, "/verify"));
    const state = bot.lastTo(asel.id);
    expect(String(state?.text)).toContain(
      ru("polls.verify.already", { phone: "+996 *** *** 456" }),
    );
    expect(markupOf(state)?.keyboard?.[0]?.[0]?.request_contact).toBe(true);
  });

  it("refuses someone else's contact and keeps the number already verified", async () => {
    const bot = verifyBot();
    await bot.send(contactUpdate(asel, { phone_number: "+996700111222", user_id: dinara.id }));
    expect(bot.lastTo(asel.id)?.text).toBe(
      ru("polls.verify.not_own", { button: ru("polls.verify.button_share") }),
    );
    expect((await phoneOf(asel.id)).phone).toBe("+996555123456");

    // A person with no number yet: nothing is stored either.
    await bot.send(contactUpdate(dinara, { phone_number: "996555123456", user_id: asel.id }));
    expect(bot.lastTo(dinara.id)?.text).toBe(
      ru("polls.verify.not_own", { button: ru("polls.verify.button_share") }),
    );
    expect(await phoneOf(dinara.id)).toEqual({ phone: null, verifiedAt: null });
  });

  it("refuses a contact with no Telegram account behind it (typed in or from an address book)", async () => {
    const bot = verifyBot();
    await bot.send(contactUpdate(chris, { phone_number: "+996770123456" }));
    expect(bot.lastTo(chris.id)?.text).toBe(
      en("polls.verify.not_own", { button: en("polls.verify.button_share") }),
    );
    expect(await phoneOf(chris.id)).toEqual({ phone: null, verifiedAt: null });
  });

  it("stores another country's number as the contact gives it", async () => {
    const bot = verifyBot();
    await bot.send(contactUpdate(chris, { phone_number: "79123456789", user_id: chris.id }));
    expect((await phoneOf(chris.id)).phone).toBe("+79123456789");
    expect(bot.lastTo(chris.id)?.text).toBe(en("polls.verify.done", { phone: "+7 *** *** 789" }));
  });

  it("refuses an own contact whose number cannot be read, changing nothing", async () => {
    const bot = verifyBot();
    await bot.send(contactUpdate(dinara, { phone_number: "12", user_id: dinara.id }));
    expect(bot.lastTo(dinara.id)?.text).toBe(ru("polls.verify.bad_number"));
    expect(await phoneOf(dinara.id)).toEqual({ phone: null, verifiedAt: null });
  });
});

describe("phone verification in the web chat", () => {
  it("/verify explains that it is done on Telegram or WhatsApp, with no contact button", async () => {
    const bot = verifyBot();
    await bot.send(textUpdate(webVisitor, "/verify"));
    const reply = bot.lastToWeb();
    const text = String(reply?.text);
    expect(text).toContain(ru("polls.verify.how_web"));
    expect(text).toContain(`https://t.me/${TEST_BOT_INFO.username}`);
    expect(text).toMatch(/Telegram/);
    expect(text).toMatch(/WhatsApp/);
    expect(JSON.stringify(reply?.reply_markup ?? null)).not.toContain("request_contact");
  });

  it("refuses a contact forged into a web chat update", async () => {
    const bot = verifyBot();
    await bot.send(contactUpdate(webVisitor, { phone_number: "996555999888", user_id: WEB_CHAT }));
    expect(String(bot.lastToWeb()?.text)).toContain(ru("polls.verify.how_web"));
    expect(await phoneOf(WEB_CHAT)).toEqual({ phone: null, verifiedAt: null });
  });
});
