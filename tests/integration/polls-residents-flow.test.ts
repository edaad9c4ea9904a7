import { Writable } from "node:stream";
import { eq, sql } from "drizzle-orm";
import type { Update } from "grammy/types";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createBot } from "../../src/bot/create-bot";
import { CHANNEL_CAPABILITIES } from "../../src/channels/capabilities";
import { ChannelDirectory } from "../../src/channels/directory";
import { type ChannelAdapter, syntheticChatId } from "../../src/channels/types";
import { parseConfig } from "../../src/config";
import { rowsOf } from "../../src/db/client";
import { features } from "../../src/features";
import { displayName, getMunicipality } from "../../src/features/municipalities/service";
import { POLL_CB } from "../../src/features/polls/callbacks";
import { RESIDENT_FILE_LIMITS } from "../../src/features/polls/resident-file";
import { pollResidentLists, pollResidents } from "../../src/features/polls/schema";
import { PollsService, pollSettingsOf } from "../../src/features/polls/service";
import { PollError } from "../../src/features/polls/types";
import { translator } from "../../src/i18n";
import {
  type ApiCall,
  fakeTelegram,
  person,
  pressUpdate,
  TEST_BALLOT_SECRET,
  TEST_BOT_INFO,
  TEST_TOKEN,
  testDeps,
  textUpdate,
} from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";
import { grantRole, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

/**
 * The resident list imported in the chat, through the real bot (grammY, conversations stored in
 * the database, every feature) on PGlite or PostgreSQL. Telegram is faked at the HTTP client:
 * getFile answers with a file_path, and the file's bytes are served at /file/bot<token>/<path>
 * (the download goes through the global fetch, stubbed here). Staff send a CSV and the list is
 * replaced; a file with bad rows is refused by line and nothing changes; a file too big is
 * refused before any download; deputies, residents and other municipalities' staff change
 * nothing; the web chat is told where the list is imported. Nothing of a file reaches the log or
 * the stored flow state.
 */

const ru = translator("ru");
const API_ROOT = "https://telegram.test";
const FILE_PREFIX = `${API_ROOT}/file/bot${TEST_TOKEN}/`;

const handle = useTestDatabase();
let sokuluk: number;
let karakol: number;
let osh: number;

const staff = person(83_001, "ru");
const deputy = person(83_002, "ru");
const resident = person(83_003, "ru");
const karakolStaff = person(83_004, "ru");
/** Staff of Sokuluk and Osh: the chooser offers both, never Karakol. */
const twoPlaces = person(83_005, "ru");
const WEB_CHAT = syntheticChatId(83_100);
const webStaff = person(WEB_CHAT, "ru");

const config = parseConfig({
  LOG_LEVEL: "silent",
  BALLOT_SECRET: TEST_BALLOT_SECRET,
  BOT_TOKEN: TEST_TOKEN,
  TELEGRAM_API_ROOT: API_ROOT,
});

/** Every log line the bot writes (at debug), to check no number or token gets there. */
const logLines: string[] = [];
const logger = pino(
  { level: "debug" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  }),
);

/** Files "uploaded" to the fake Telegram, by file_id; and what was downloaded. */
const files = new Map<string, Uint8Array>();
const downloads: string[] = [];
const realFetch = globalThis.fetch;

/** The global fetch (the download): serves the stored files under /file/bot<token>/. */
const downloadFetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const url = String(input instanceof Request ? input.url : input);
  if (!url.startsWith(`${API_ROOT}/`)) return realFetch(input, init);
  downloads.push(url);
  const bytes = url.startsWith(FILE_PREFIX)
    ? files.get(url.slice(FILE_PREFIX.length).replace(/^documents\//, ""))
    : undefined;
  return bytes ? new Response(Buffer.from(bytes)) : new Response("Not Found", { status: 404 });
}) as typeof fetch;

beforeAll(async () => {
  vi.stubGlobal("fetch", downloadFetch);
  [sokuluk, karakol, osh] = (await seedMunicipalities(handle.db, 3)) as [number, number, number];
  const [staffId, deputyId, , karakolId, twoId, webId] = await seedUsers(handle.db, [
    { chatId: staff.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: deputy.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: resident.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: karakolStaff.id, municipalityId: karakol, locale: "ru" },
    { chatId: twoPlaces.id, municipalityId: sokuluk, locale: "ru" },
    { chatId: WEB_CHAT, municipalityId: sokuluk, locale: "ru", channel: "web" },
  ]);
  await grantRole(handle.db, staffId!, "staff", sokuluk);
  await grantRole(handle.db, deputyId!, "deputy", sokuluk);
  await grantRole(handle.db, karakolId!, "staff", karakol);
  await grantRole(handle.db, twoId!, "staff", sokuluk);
  await grantRole(handle.db, twoId!, "staff", osh);
  await grantRole(handle.db, webId!, "staff", sokuluk);
});

afterAll(() => {
  vi.unstubAllGlobals();
});

/** A web chat stand-in behind the channel router: records every call for its chats. */
function recordingWebchat(calls: ApiCall[]): ChannelAdapter {
  let messageId = 7000;
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

function residentsBot() {
  const telegram = fakeTelegram();
  const calls = telegram.calls;
  // The Bot API: getFile answers with a path under documents/; the rest as fakeTelegram does.
  const botFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.endsWith("/getFile")) return telegram.fetch(input, init);
    const payload = JSON.parse(String(init?.body)) as { file_id: string };
    calls.push({ method: "getFile", payload });
    const bytes = files.get(payload.file_id);
    const body = bytes
      ? {
          ok: true,
          result: {
            file_id: payload.file_id,
            file_unique_id: `u-${payload.file_id}`,
            file_size: bytes.byteLength,
            file_path: `documents/${payload.file_id}`,
          },
        }
      : { ok: false, error_code: 400, description: "Bad Request: invalid file_id" };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  const webCalls: ApiCall[] = [];
  const directory = new ChannelDirectory(handle.db);
  directory.register(recordingWebchat(webCalls));
  const bot = createBot({
    deps: { ...testDeps(handle.db), config, logger },
    features,
    token: TEST_TOKEN,
    botInfo: TEST_BOT_INFO,
    fetch: botFetch,
    directory,
  });
  const textsOf = (list: ApiCall[], chatId: number) =>
    list
      .filter((c) => c.payload.chat_id === chatId)
      .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
      .map((c) => String(c.payload.text));
  return {
    calls,
    webCalls,
    send: (update: Update) => bot.handleUpdate(update),
    texts: (chatId: number) => textsOf(calls, chatId),
    lastText: (chatId: number) => textsOf(calls, chatId).at(-1),
    webTexts: () => textsOf(webCalls, WEB_CHAT),
    lastAnswer: () =>
      [...calls].reverse().find((c) => c.method === "answerCallbackQuery")?.payload as
        | { text?: string; show_alert?: boolean }
        | undefined,
    lastButtons: (chatId: number) => {
      const call = [...calls]
        .reverse()
        .filter((c) => c.payload.chat_id === chatId)
        .find((c) => (c.payload.reply_markup as { inline_keyboard?: unknown })?.inline_keyboard);
      const kb = (call?.payload.reply_markup as { inline_keyboard: { callback_data?: string }[][] })
        ?.inline_keyboard;
      return (kb ?? []).flat().map((b) => b.callback_data ?? "");
    },
    getFileCalls: () => calls.filter((c) => c.method === "getFile").length,
  };
}

type Bot = ReturnType<typeof residentsBot>;

let updateId = 830_000;

/** A CSV (or any file) sent as a document; its bytes are stored for getFile and the download. */
function documentUpdate(
  from: ReturnType<typeof person>,
  content: string | Uint8Array,
  options: { name?: string; size?: number } = {},
): Update {
  const fileId = `file-${++updateId}`;
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  files.set(fileId, bytes);
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: from.id, type: "private", first_name: from.first_name },
      from,
      document: {
        file_id: fileId,
        file_unique_id: `u-${fileId}`,
        file_name: options.name ?? "residents.csv",
        mime_type: "text/csv",
        file_size: options.size ?? bytes.byteLength,
      },
    },
  };
}

/** `count` distinct Kyrgyz mobile numbers as staff type them (0555 000 123). */
function numbers(count: number, first = 0): string[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(first + i).padStart(6, "0");
    return `0555 ${n.slice(0, 3)} ${n.slice(3)}`;
  });
}

/** The semicolon CSV Excel writes in a Russian locale: name, phone, address. */
function csv(phones: readonly string[]): string {
  return ["ФИО;Телефон;Адрес", ...phones.map((p, i) => `Житель ${i};${p};ул. Ленина ${i}`)].join(
    "\r\n",
  );
}

async function listOf(municipalityId: number) {
  const [list] = await handle.db
    .select()
    .from(pollResidentLists)
    .where(eq(pollResidentLists.municipalityId, municipalityId));
  const [row] = rowsOf<{ n: number }>(
    await handle.db.execute(
      sql`select count(*)::int as n from ${pollResidents} where municipality_id = ${municipalityId}`,
    ),
  );
  return { numbers: list?.numbers, rows: Number(row?.n ?? 0), importedAt: list?.importedAt };
}

async function flowStates(): Promise<string[]> {
  const rows = rowsOf<{ key: string; value: unknown }>(
    await handle.db.execute(sql`select key, value from conversation_state`),
  );
  return rows.map((r) => `${r.key} ${JSON.stringify(r.value)}`);
}

async function nameOf(id: number): Promise<string> {
  const m = await getMunicipality(handle.db, id);
  return displayName(m!, "ru");
}

/** /polls → "Resident list": the flow's first message (staff of one municipality). */
async function openList(bot: Bot, who: ReturnType<typeof person>) {
  await bot.send(textUpdate(who, "/polls"));
  expect(bot.lastButtons(who.id)).toContain(POLL_CB.residents.pack());
  await bot.send(pressUpdate(who, POLL_CB.residents.pack()));
}

const tryAgain = ru("polls.residents.try_again");

describe("staff import the resident list in the Telegram chat", () => {
  it("imports a CSV: the count is said and stored, the other columns are not", async () => {
    const bot = residentsBot();
    await openList(bot, staff);
    const intro = bot.lastText(staff.id);
    expect(intro).toContain(ru("polls.residents.title", { municipality: await nameOf(sokuluk) }));
    expect(intro).toContain(ru("polls.residents.state_none"));
    expect(intro).toContain(ru("polls.residents.format"));
    expect(bot.lastButtons(staff.id)).toEqual([POLL_CB.residentsAbort.pack()]);

    // 1,200 numbers and one of them twice: each stored once.
    const phones = numbers(1200);
    await bot.send(documentUpdate(staff, csv([...phones, phones[0]!])));
    const count = new Intl.NumberFormat("ru").format(1200);
    expect(bot.lastText(staff.id)).toBe(ru("polls.residents.imported", { count: 1200, n: count }));
    expect(await listOf(sokuluk)).toMatchObject({ numbers: 1200, rows: 1200 });
    expect(downloads.at(-1)).toMatch(new RegExp(`^${FILE_PREFIX}documents/file-`));

    // Nothing of the file in the log, in the stored flows, or in the hashes' table.
    expect(logLines.some((l) => l.includes("a resident list was imported"))).toBe(true);
    const everything = [...logLines, ...(await flowStates())].join("\n");
    expect(everything).not.toContain("555000123");
    expect(everything).not.toContain("Ленина");
    expect(everything).not.toContain(TEST_TOKEN);
    const hashes = rowsOf<{ phone_hash: string }>(
      await handle.db.execute(sql`select phone_hash from poll_residents limit 5`),
    );
    expect(hashes.length).toBeGreaterThan(0);
    for (const h of hashes) expect(h.phone_hash).not.toContain("+996");

    // The flow is over: another file is not imported.
    const before = downloads.length;
    await bot.send(documentUpdate(staff, csv(numbers(3, 9000))));
    expect(downloads.length).toBe(before);
    expect(await listOf(sokuluk)).toMatchObject({ numbers: 1200 });
  });

  it("refuses a file with bad rows by line, keeps the list, and takes a corrected file", async () => {
    const bot = residentsBot();
    const previous = await listOf(sokuluk);
    expect(previous.numbers).toBe(1200);
    await openList(bot, staff);
    expect(bot.lastText(staff.id)).toContain(
      ru("polls.residents.state", {
        count: 1200,
        n: new Intl.NumberFormat("ru").format(1200),
        when: "",
      }).split(",")[0],
    );

    // Line 1 is the header: the bad numbers are on lines 3 and 5.
    const good = numbers(4, 500);
    const bad = csv([good[0]!, "не знаю", good[1]!, "12", good[2]!]);
    await bot.send(documentUpdate(staff, bad));
    expect(bot.lastText(staff.id)).toBe(
      `${ru("polls.errors.resident_file_bad_rows", { count: 2, lines: "3, 5" })}\n\n${tryAgain}`,
    );
    expect(await listOf(sokuluk)).toEqual(previous);

    // No phone column: said with the columns found; nothing changes.
    await bot.send(documentUpdate(staff, "ФИО;Адрес\r\nЖитель;ул. Ленина 1"));
    expect(bot.lastText(staff.id)).toBe(
      `${ru("polls.errors.resident_file_no_phone_column", { columns: "ФИО, Адрес" })}\n\n${tryAgain}`,
    );
    // Typed text instead of a file: asked for the file.
    await bot.send(textUpdate(staff, "вот список"));
    expect(bot.lastText(staff.id)).toBe(ru("polls.residents.send_document"));
    expect(await listOf(sokuluk)).toEqual(previous);

    // The corrected file replaces the list whole.
    await bot.send(documentUpdate(staff, csv(good)));
    expect(bot.lastText(staff.id)).toBe(
      `${ru("polls.residents.imported", { count: 4, n: "4" })} ${ru("polls.residents.replaced")}`,
    );
    expect(await listOf(sokuluk)).toMatchObject({ numbers: 4, rows: 4 });
  });

  it("refuses a file over 5 MB before downloading it; Cancel ends the flow", async () => {
    const bot = residentsBot();
    const previous = await listOf(sokuluk);
    await openList(bot, staff);
    const getFiles = bot.getFileCalls();
    const downloaded = downloads.length;
    const big = documentUpdate(staff, csv(numbers(2, 700)), {
      size: RESIDENT_FILE_LIMITS.maxBytes + 1,
    });
    await bot.send(big);
    expect(bot.lastText(staff.id)).toBe(
      `${ru("polls.errors.resident_file_too_big", { max_mb: 5, max_rows: 200_000 })}\n\n${tryAgain}`,
    );
    expect(bot.getFileCalls()).toBe(getFiles);
    expect(downloads.length).toBe(downloaded);

    await bot.send(pressUpdate(staff, POLL_CB.residentsAbort.pack()));
    expect(bot.lastText(staff.id)).toBe(ru("polls.residents.aborted"));
    expect(await listOf(sokuluk)).toEqual(previous);
  });

  it("cuts off a download longer than the limit (file_size not told) and refuses it", async () => {
    const bot = residentsBot();
    const previous = await listOf(sokuluk);
    await openList(bot, staff);
    const header = "Телефон\n";
    const huge = Buffer.alloc(RESIDENT_FILE_LIMITS.maxBytes + 4096, "0555 000 001\n");
    const update = documentUpdate(staff, Buffer.concat([Buffer.from(header), huge]));
    delete update.message?.document?.file_size;
    await bot.send(update);
    expect(bot.lastText(staff.id)).toBe(
      `${ru("polls.errors.resident_file_too_big", { max_mb: 5, max_rows: 200_000 })}\n\n${tryAgain}`,
    );
    await bot.send(pressUpdate(staff, POLL_CB.residentsAbort.pack()));
    expect(await listOf(sokuluk)).toEqual(previous);
  });
});

describe("who may import", () => {
  it("refuses a forged 'Resident list' press from a deputy or a resident", async () => {
    const bot = residentsBot();
    const previous = await listOf(sokuluk);
    for (const who of [deputy, resident]) {
      await bot.send(textUpdate(who, "/polls"));
      expect(bot.lastButtons(who.id)).not.toContain(POLL_CB.residents.pack());
      await bot.send(pressUpdate(who, POLL_CB.residents.pack()));
      expect(bot.lastAnswer()).toEqual(
        expect.objectContaining({ text: ru("polls.errors.not_allowed"), show_alert: true }),
      );
      const downloaded = downloads.length;
      await bot.send(documentUpdate(who, csv(numbers(2, 800))));
      expect(downloads.length).toBe(downloaded);
    }
    expect(await listOf(sokuluk)).toEqual(previous);
  });

  it("staff of one municipality import for it only; the service refuses another", async () => {
    const bot = residentsBot();
    const sokulukBefore = await listOf(sokuluk);
    await openList(bot, karakolStaff);
    expect(bot.lastText(karakolStaff.id)).toContain(await nameOf(karakol));
    await bot.send(documentUpdate(karakolStaff, csv(numbers(3, 100))));
    expect(await listOf(karakol)).toMatchObject({ numbers: 3 });
    expect(await listOf(sokuluk)).toEqual(sokulukBefore);

    // A forged choice of Sokuluk never reaches a write: the service refuses it.
    const service = new PollsService(handle.db, pollSettingsOf(config));
    const roles = [{ role: "staff" as const, municipalityId: karakol }];
    await expect(
      service.importResidents({ userId: undefined, roles }, sokuluk, ["+996555000001"]),
    ).rejects.toThrow(PollError);
    expect(await listOf(sokuluk)).toEqual(sokulukBefore);
  });

  it("staff of two municipalities pick one of theirs; a forged pick is asked again", async () => {
    const bot = residentsBot();
    const karakolBefore = await listOf(karakol);
    await openList(bot, twoPlaces);
    expect(bot.lastText(twoPlaces.id)).toBe(ru("polls.residents.choose_municipality"));
    expect(bot.lastButtons(twoPlaces.id)).toEqual([
      POLL_CB.residentsMunicipality.pack({ municipalityId: sokuluk }),
      POLL_CB.residentsMunicipality.pack({ municipalityId: osh }),
      POLL_CB.residentsAbort.pack(),
    ]);
    await bot.send(
      pressUpdate(twoPlaces, POLL_CB.residentsMunicipality.pack({ municipalityId: karakol })),
    );
    expect(bot.lastText(twoPlaces.id)).toBe(ru("polls.residents.choose_municipality"));
    const downloaded = downloads.length;
    await bot.send(documentUpdate(twoPlaces, csv(numbers(2, 900))));
    expect(downloads.length).toBe(downloaded);
    expect(await listOf(karakol)).toEqual(karakolBefore);

    await bot.send(
      pressUpdate(twoPlaces, POLL_CB.residentsMunicipality.pack({ municipalityId: osh })),
    );
    expect(bot.lastText(twoPlaces.id)).toContain(await nameOf(osh));
    await bot.send(documentUpdate(twoPlaces, csv(numbers(2, 900))));
    expect(await listOf(osh)).toMatchObject({ numbers: 2 });
    expect(await listOf(karakol)).toEqual(karakolBefore);
  });
});

describe("the web chat", () => {
  it("explains that the list is imported on Telegram or with the CLI", async () => {
    const bot = residentsBot();
    await bot.send(textUpdate(webStaff, "/polls"));
    await bot.send(pressUpdate(webStaff, POLL_CB.residents.pack()));
    const text = bot.webTexts().at(-1) ?? "";
    expect(text).toContain(ru("polls.residents.web"));
    expect(text).toContain(`(ID ${sokuluk})`);
    expect(text).toContain("npm run cli -- residents import --municipality ID");
    // No flow started for the web chat.
    expect((await flowStates()).filter((s) => s.includes(String(WEB_CHAT)))).toEqual([]);
  });
});
