import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { UserFromGetMe } from "grammy/types";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { syntheticCallbackId } from "../../src/channels/router";
import { syntheticChatId } from "../../src/channels/types";
import { WhatsAppAdapter } from "../../src/channels/whatsapp/adapter";
import { WhatsAppClient } from "../../src/channels/whatsapp/client";
import { WhatsAppMedia } from "../../src/channels/whatsapp/media";
import { findOrCreateWhatsappUser } from "../../src/channels/whatsapp/people";
import type { DatabaseHandle } from "../../src/db/client";
import type { UserRow } from "../../src/db/schema";
import { buttonsOf, FakeGraphApi, textOf } from "../fixtures/fake-graph-api/server";
import { createTestDatabase } from "../helpers/db";

/**
 * The adapter's Bot API calls that have no WhatsApp counterpart, or only a partial one, against
 * the fake Graph API and a real database: what is sent (or not) for a deletion and a callback
 * answer, and how a photo or document given as a link reaches Meta (an https link as a link,
 * anything else uploaded through the media endpoint).
 */

const TOKEN = "adapter-test-token";
const PHONE_NUMBER_ID = "109876500001";
const BOT: UserFromGetMe = {
  id: 1,
  is_bot: true,
  first_name: "Aimak",
  username: "aimak_test_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
} as UserFromGetMe;

/** A file server on plain http (Meta would refuse to fetch from it: the app must upload). */
const PDF = Buffer.from("%PDF-1.4\n% a small document for the test\n%%EOF\n");
let files: Server;
let filesRoot: string;
let downloads = 0;

let database: DatabaseHandle;
let fake: FakeGraphApi;
let adapter: WhatsAppAdapter;
let user: UserRow;
let chatId: number;
const WA_ID = "996700777001";

beforeAll(async () => {
  database = await createTestDatabase();
  fake = new FakeGraphApi({ token: TOKEN, phoneNumberId: PHONE_NUMBER_ID });
  const apiRoot = await fake.start();
  const client = new WhatsAppClient({
    apiRoot,
    phoneNumberId: PHONE_NUMBER_ID,
    accessToken: TOKEN,
  });
  adapter = new WhatsAppAdapter({
    db: database.db,
    client,
    media: new WhatsAppMedia(client, undefined),
    botInfo: BOT,
    defaultLocale: "ky",
    dispatch: async () => {},
  });
  user = (await findOrCreateWhatsappUser(database.db, { waId: WA_ID, bsuid: "KG.777001" })).user;
  chatId = syntheticChatId(user.id);

  files = createServer((req, res) => {
    downloads++;
    if (req.url === "/files/minutes.pdf") {
      res.writeHead(200, { "content-type": "application/pdf", "content-length": PDF.length });
      res.end(PDF);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
  filesRoot = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  await new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve()));
  await database?.close();
});

beforeEach(() => {
  fake.reset();
  fake.openWindow(WA_ID);
  downloads = 0;
});

const keyboard = {
  inline_keyboard: [[{ text: "Иә", callback_data: "yes" }], [{ text: "Жок", callback_data: "no" }]],
};

describe("WhatsApp adapter: calls without a WhatsApp counterpart", () => {
  it("deleteMessage sends nothing and makes the message's buttons stale", async () => {
    const sent = (await adapter.call("sendMessage", {
      chat_id: chatId,
      text: "Тандаңыз",
      reply_markup: keyboard,
    })) as { message_id: number };
    expect(fake.sent).toHaveLength(1);
    const [yes] = buttonsOf(fake.sent[0]!);
    expect(yes?.title).toBe("Иә");
    // Before the deletion the button still means "yes".
    const before = await adapter.press(user, yes!.id);
    expect(before.kind).toBe("update");

    expect(
      await adapter.call("deleteMessage", { chat_id: chatId, message_id: sent.message_id }),
    ).toBe(true);
    expect(fake.sent).toHaveLength(1);
    expect(fake.uploads).toEqual([]);
    expect((await adapter.press(user, yes!.id)).kind).toBe("stale");
  });

  it("answerCallbackQuery without text sends nothing; with text, one text message", async () => {
    const id = syntheticCallbackId("whatsapp", chatId, 1);
    expect(await adapter.call("answerCallbackQuery", { callback_query_id: id })).toBe(true);
    expect(await adapter.call("answerCallbackQuery", { callback_query_id: id, text: "  " })).toBe(
      true,
    );
    expect(fake.sent).toEqual([]);

    expect(
      await adapter.call("answerCallbackQuery", { callback_query_id: id, text: "Добавлено" }),
    ).toBe(true);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]?.to).toBe(WA_ID);
    expect(fake.sent[0]?.body.type).toBe("text");
    expect(textOf(fake.sent[0]!)).toBe("Добавлено");
  });
});

describe("WhatsApp adapter: photos and documents given as links", () => {
  it("passes a public https link on as a link, with no upload", async () => {
    const link = "https://aimak.example/files/chart.png";
    await adapter.call("sendPhoto", { chat_id: chatId, photo: link, caption: "Жыйынтык" });
    expect(fake.uploads).toEqual([]);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]?.body.type).toBe("image");
    expect(fake.sent[0]?.body.image).toEqual({ link, caption: "Жыйынтык" });

    const doc = "https://aimak.example/files/agenda.pdf";
    await adapter.call("sendDocument", { chat_id: chatId, document: doc });
    expect(fake.uploads).toEqual([]);
    expect(fake.sent[1]?.body.document).toEqual({ link: doc });
  });

  it("downloads an http link and uploads it through the media endpoint (Meta fetches https only)", async () => {
    const link = `${filesRoot}/files/minutes.pdf`;
    await adapter.call("sendDocument", { chat_id: chatId, document: link, caption: "Протокол" });
    expect(downloads).toBe(1);
    expect(fake.uploads).toHaveLength(1);
    const [upload] = fake.uploads;
    expect(upload?.mime).toBe("application/pdf");
    expect(upload?.filename).toBe("minutes.pdf");
    expect(upload?.bytes.equals(PDF)).toBe(true);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]?.body.document).toEqual({
      id: upload?.id,
      caption: "Протокол",
      filename: "minutes.pdf",
    });

    // The same link again: the upload is reused, with its name.
    await adapter.call("sendDocument", { chat_id: chatId, document: link });
    expect(downloads).toBe(1);
    expect(fake.uploads).toHaveLength(1);
    expect(fake.sent[1]?.body.document).toEqual({ id: upload?.id, filename: "minutes.pdf" });
  });

  it("refuses an http link its server does not serve, sending nothing", async () => {
    const call = adapter.call("sendPhoto", { chat_id: chatId, photo: `${filesRoot}/nothing.png` });
    await expect(call).rejects.toThrow(/HTTP 404/);
    expect(fake.uploads).toEqual([]);
    expect(fake.sent).toEqual([]);
  });
});
