/**
 * Telegram's side of the fuzzer: a quiet fake Bot API that remembers the buttons it was asked to
 * show (so the generator can press real ones and forge others), and a generator of webhook
 * bodies — valid updates from real-looking people that walk the flows, and everything Telegram
 * would never send.
 */
import { TEST_BOT_INFO } from "../../tests/helpers/bot";
import type { Dice } from "./random";

/** What the webhook is sent: the raw body (may be anything) and whether the secret is right. */
export interface WebhookCase {
  kind: string;
  body: string;
  /** false: no secret header, or a wrong one. */
  secret: boolean;
  /** A redelivery: the index of the case delivered first (sent only once that one is answered). */
  again?: number;
}

/** The ids of the fuzzer's real-looking people (well below every synthetic range). */
export const PEOPLE_BASE = 7_000_000;
const SYNTHETIC_BASE = 2 ** 52;

/**
 * The fake Bot API at grammY's client.fetch. It keeps no log of calls (10,000 updates would
 * make the fuzzer's own memory grow), only the last buttons shown in each chat.
 */
export function quietTelegram() {
  const buttons = new Map<number, string[]>();
  let messageId = 1000;
  let calls = 0;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls++;
    const url = String(input instanceof Request ? input.url : input);
    const method = url.slice(url.lastIndexOf("/") + 1);
    let payload: Record<string, unknown> = {};
    if (typeof init?.body === "string") payload = JSON.parse(init.body) as Record<string, unknown>;
    else if (init?.body) {
      // An upload (multipart): read it through, as a server would, and drop it.
      for await (const _ of init.body as unknown as AsyncIterable<Uint8Array>);
    }
    const chatId = Number(payload.chat_id);
    const keyboard = (payload.reply_markup as { inline_keyboard?: unknown } | undefined)
      ?.inline_keyboard;
    if (Number.isFinite(chatId) && Array.isArray(keyboard)) {
      const data = (keyboard as { callback_data?: string }[][])
        .flat()
        .map((b) => b.callback_data)
        .filter((d): d is string => typeof d === "string");
      if (data.length > 0) buttons.set(chatId, data.slice(0, 40));
    }
    let result: unknown = true;
    if (method.startsWith("send") && method !== "sendChatAction") {
      result = {
        message_id: ++messageId,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: "private" },
        ...(typeof payload.text === "string" ? { text: payload.text } : {}),
      };
    } else if (method === "getMe") result = TEST_BOT_INFO;
    else if (method === "getFile") {
      result = { file_id: String(payload.file_id), file_unique_id: "u", file_path: "f/x.bin" };
    }
    return new Response(JSON.stringify({ ok: true, result }), {
      headers: { "content-type": "application/json" },
    });
  }) as typeof globalThis.fetch;
  return {
    fetch,
    calls: () => calls,
    /** The buttons last shown in a chat (callback data). */
    buttonsOf: (chatId: number) => buttons.get(chatId) ?? [],
    /** A chat the bot has shown buttons in, or undefined. */
    anyChatWithButtons: (dice: Dice) => {
      if (buttons.size === 0) return undefined;
      const keys = [...buttons.keys()];
      return dice.pick(keys);
    },
  };
}

export type QuietTelegram = ReturnType<typeof quietTelegram>;

const COMMANDS = [
  "/start",
  "/help",
  "/settings",
  "/language",
  "/hearings",
  "/polls",
  "/verify",
  "/privacy",
  "/mydata",
  "/forgetme",
  "/queue",
  "/invite",
  "/broadcast",
  "/broadcasts",
  "/cancel",
  "/start K7M2-QX9P-3HTR",
  "/start ../../etc/passwd",
  "/unknown_command",
  "/start@aimak_test_bot",
];
const TEXTS = [
  "сокулук",
  "Бишкек",
  "ош",
  "кара-балта",
  "Аламүдүн",
  "Кара-Суу айыл окмоту",
  "сколько депутатов в айылном кенеше",
  "как получить справку о составе семьи",
  "жер участогун кантип алам",
  "What is the local budget?",
  "1",
  "2",
  "да",
  "ооба",
  "2027-01-15 10:00",
  "15.01.2027 10:00",
  "завтра",
  "https://example.org/doc.pdf",
  "K7M2-QX9P-3HTR",
  "<script>alert(1)</script>",
  "<b>bold</b> *md* _it_ [link](http://x)",
  "' OR 1=1; --",
  "%s%s%n",
  "",
  " ",
];

interface Person {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export class UpdateGenerator {
  private updateId = 1;
  /** Recent cases by index, for redeliveries. */
  private readonly recent: { index: number; body: string }[] = [];
  private cases = 0;
  private readonly people: Person[];

  constructor(
    private readonly dice: Dice,
    private readonly telegram: QuietTelegram,
    peopleCount = 300,
  ) {
    this.people = Array.from({ length: peopleCount }, (_, i) => ({
      id: PEOPLE_BASE + i,
      is_bot: false,
      first_name: dice.chance(0.1) ? dice.junk(dice.int(1, 64)) : `Person${i}`,
      ...(dice.chance(0.5) ? { last_name: "Асанов" } : {}),
      ...(dice.chance(0.5) ? { username: `user_${i}` } : {}),
      ...(dice.chance(0.9)
        ? { language_code: dice.pick(["ky", "ru", "en", "de", "zz-ZZ", ""]) }
        : {}),
    }));
  }

  /** The person of the first-admin invite (sends `/start CODE` first). */
  get admin(): Person {
    return this.people[0] as Person;
  }

  /** A text message from a person (the valid path: commands, answers, questions). */
  text(from: Person, text: string, extra: Record<string, unknown> = {}): string {
    const command = /^\/\w+/.exec(text);
    return this.wrap({
      message: {
        ...this.message(from, { id: from.id, type: "private", first_name: from.first_name }),
        text,
        ...(command
          ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] }
          : {}),
        ...extra,
      },
    });
  }

  /** One webhook case, drawn by weight from every kind. */
  next(): WebhookCase {
    const d = this.dice;
    const kind = d.weighted<string>([
      [30, "valid_text"],
      [25, "press_offered"],
      [6, "press_forged"],
      [4, "edited_message"],
      [3, "channel_post"],
      [5, "group_chat"],
      [6, "media"],
      [4, "contact"],
      [4, "my_chat_member"],
      [2, "bot_sender"],
      [3, "synthetic_chat"],
      [8, "wrong_types"],
      [4, "missing_fields"],
      [2, "huge_string"],
      [2, "not_an_update"],
      [2, "unknown_update"],
      [3, "redelivery"],
      [1, "wrong_secret"],
    ]);
    const index = this.cases++;
    if (kind === "redelivery" && this.recent.length > 0) {
      // Telegram delivers an update again after a 5xx or a timeout, i.e. after the first answer.
      const first = d.pick(this.recent);
      return { kind, body: first.body, secret: true, again: first.index };
    }
    const body = this.build(kind);
    if (this.recent.length < 200) this.recent.push({ index, body });
    else this.recent[d.int(0, 199)] = { index, body };
    return { kind, body, secret: kind !== "wrong_secret" };
  }

  private build(kind: string): string {
    const d = this.dice;
    const from = this.person();
    const pm = { id: from.id, type: "private", first_name: from.first_name };
    switch (kind) {
      case "valid_text":
        return this.text(from, d.chance(0.4) ? d.pick(COMMANDS) : d.pick(TEXTS));
      case "press_offered": {
        const chat = this.telegram.anyChatWithButtons(d);
        const person = chat !== undefined ? this.personById(chat) : undefined;
        const data = person ? this.telegram.buttonsOf(person.id) : [];
        if (!person || data.length === 0) return this.text(from, "/start");
        return this.press(person, d.pick(data));
      }
      case "press_forged":
        return this.press(from, this.forgedData());
      case "edited_message":
        return this.wrap({
          edited_message: {
            ...this.message(from, pm),
            edit_date: Math.floor(Date.now() / 1000),
            text: d.pick(TEXTS),
          },
        });
      case "channel_post": {
        const chat = { id: -1_001_000_000_000 - d.int(0, 99), type: "channel", title: "News" };
        const post = { message_id: this.updateId, date: 0, chat, text: d.pick(COMMANDS) };
        return this.wrap(d.chance(0.5) ? { channel_post: post } : { edited_channel_post: post });
      }
      case "group_chat": {
        const supergroup = d.chance(0.5);
        const chat = supergroup
          ? {
              id: -1_002_000_000_000 - d.int(0, 99),
              type: "supergroup",
              title: "G",
              is_forum: d.chance(0.3),
            }
          : { id: -d.int(1, 999_999), type: "group", title: "G" };
        if (d.chance(0.3)) {
          return this.wrap({
            callback_query: {
              id: `cb${this.updateId}`,
              from,
              chat_instance: "g",
              data: this.forgedData(),
              message: { message_id: 1, date: 0, chat, text: "" },
            },
          });
        }
        return this.wrap({
          message: {
            ...this.message(from, chat),
            text: d.pick([...COMMANDS, ...TEXTS]),
            ...(d.chance(0.2) ? { new_chat_members: [TEST_BOT_INFO, from] } : {}),
          },
        });
      }
      case "media":
        return this.wrap({ message: { ...this.message(from, pm), ...this.media() } });
      case "contact": {
        const other = this.person();
        const phone = `+99655${d.int(1_000_000, 9_999_999)}`;
        const contact = d.weighted<Record<string, unknown>>([
          [3, { phone_number: phone, first_name: from.first_name, user_id: from.id }],
          [3, { phone_number: phone, first_name: "Other", user_id: other.id }],
          [2, { phone_number: phone, first_name: "Nobody" }],
          [1, { phone_number: d.junk(40), first_name: "" }],
          [1, { phone_number: 996555123456, user_id: "me" }],
        ]);
        return this.wrap({ message: { ...this.message(from, pm), contact } });
      }
      case "my_chat_member": {
        const statuses = [
          "member",
          "kicked",
          "left",
          "administrator",
          "restricted",
          "creator",
          "x",
        ];
        const chat = d.chance(0.7) ? pm : { id: -d.int(1, 999_999), type: "group", title: "G" };
        return this.wrap({
          [d.chance(0.85) ? "my_chat_member" : "chat_member"]: {
            chat,
            from,
            date: Math.floor(Date.now() / 1000),
            old_chat_member: { user: TEST_BOT_INFO, status: d.pick(statuses) },
            new_chat_member: { user: TEST_BOT_INFO, status: d.pick(statuses) },
          },
        });
      }
      case "bot_sender": {
        const bot = { ...from, id: from.id + 500_000, is_bot: true, first_name: "SomeBot" };
        return d.chance(0.5)
          ? this.text(bot, d.pick(COMMANDS))
          : this.press(bot, this.forgedData());
      }
      case "synthetic_chat": {
        const id = SYNTHETIC_BASE + d.int(1, 5000) + (d.chance(0.5) ? 2 ** 51 : 0);
        const person = { ...from, id };
        return this.text(person, d.pick(TEXTS));
      }
      case "wrong_types":
        return this.wrongTypes(from);
      case "missing_fields":
        return this.missingFields(from);
      case "huge_string": {
        const big = "я".repeat(d.int(50_000, 100_000));
        return d.weighted<string>([
          [3, this.text(from, big)],
          [1, this.press(from, big)],
          [1, this.text({ ...from, first_name: big, username: big }, "/start")],
          [1, this.wrap({ message: { ...this.message(from, pm), caption: big, photo: [] } })],
        ]);
      }
      case "not_an_update":
        return d.pick([
          "",
          "null",
          "[]",
          "{",
          '"update"',
          "42",
          "{}",
          '{"update_id":-1}',
          '{"update_id":1.5}',
          `{"update_id":${2 ** 60}}`,
          '{"update_id":"7"}',
          '{"update_id":null}',
          `{"update_id":1,"message":${"[".repeat(5000)}${"]".repeat(5000)}}`,
          "\u0000\u0001",
        ]);
      case "unknown_update":
        return this.wrap(
          d.pick<Record<string, unknown>>([
            { inline_query: { id: "q", from, query: d.pick(TEXTS), offset: "" } },
            { chosen_inline_result: { result_id: "r", from, query: "x" } },
            { poll: { id: "p", question: "q", options: [], total_voter_count: 0 } },
            { poll_answer: { poll_id: "p", user: from, option_ids: [0] } },
            {
              chat_join_request: {
                chat: { id: -5, type: "group" },
                from,
                user_chat_id: from.id,
                date: 0,
              },
            },
            {
              message_reaction: {
                chat: pm,
                message_id: 1,
                date: 0,
                user: from,
                old_reaction: [],
                new_reaction: [],
              },
            },
            { business_message: { ...this.message(from, pm), text: "hi" } },
            {
              pre_checkout_query: {
                id: "c",
                from,
                currency: "XTR",
                total_amount: 1,
                invoice_payload: "x",
              },
            },
            { something_new: { from } },
            {},
          ]),
        );
      default:
        return this.text(from, d.pick(TEXTS));
    }
  }

  private person(): Person {
    return this.dice.pick(this.people);
  }

  private personById(id: number): Person | undefined {
    return this.people[id - PEOPLE_BASE];
  }

  private wrap(body: Record<string, unknown>): string {
    return JSON.stringify({ update_id: this.updateId++, ...body });
  }

  private message(from: Person, chat: Record<string, unknown>): Record<string, unknown> {
    return { message_id: this.updateId, date: Math.floor(Date.now() / 1000), chat, from };
  }

  private press(from: Person, data: string): string {
    const d = this.dice;
    return this.wrap({
      callback_query: {
        id: `cb${this.updateId}`,
        from,
        chat_instance: "1",
        data,
        ...(d.chance(0.9)
          ? {
              message: {
                message_id: d.int(1, 3000),
                date: Math.floor(Date.now() / 1000),
                chat: { id: from.id, type: "private", first_name: from.first_name },
                text: "",
              },
            }
          : d.chance(0.5)
            ? { inline_message_id: "inline" }
            : {}),
      },
    });
  }

  /** Button data the bot never showed: unknown, mutated from a real one, or nonsense. */
  private forgedData(): string {
    const d = this.dice;
    const chat = this.telegram.anyChatWithButtons(d);
    const real = chat !== undefined ? this.telegram.buttonsOf(chat) : [];
    const base = real.length > 0 ? d.pick(real) : "lang:ru";
    return d.weighted<string>([
      [4, base.replace(/\d+/g, () => String(d.pick([0, -1, 1, 2 ** 31, 2 ** 53, 999_999_999])))],
      [2, base.replace(/:[^:]*$/, `:${d.junk(d.int(0, 20))}`)],
      [
        2,
        `${d.pick(["lang", "mun", "topic", "consent", "faq", "ann", "hear", "poll", "forget", "settings", "stale"])}:${d.junk(d.int(0, 30))}`,
      ],
      [1, d.junk(d.int(0, 64))],
      [1, `${base}:${base}:${base}`],
      [1, ""],
    ]);
  }

  private media(): Record<string, unknown> {
    const d = this.dice;
    const file = { file_id: `f${d.int(1, 1e6)}`, file_unique_id: "u", file_size: d.int(0, 5e7) };
    return d.pick<Record<string, unknown>>([
      {
        sticker: {
          ...file,
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        },
      },
      { voice: { ...file, duration: d.int(0, 600) } },
      { audio: { ...file, duration: 3 } },
      { video_note: { ...file, length: 240, duration: 3 } },
      { location: { latitude: d.float() * 180 - 90, longitude: d.float() * 360 - 180 } },
      { venue: { location: { latitude: 42.8, longitude: 74.6 }, title: "x", address: "y" } },
      { photo: [{ ...file, width: 90, height: 90 }], caption: d.pick(TEXTS) },
      {
        document: {
          ...file,
          file_name: d.pick(["residents.csv", "../x.csv", d.junk(30)]),
          mime_type: "text/csv",
        },
      },
      { dice: { emoji: "🎲", value: 3 } },
      { poll: { id: "p", question: "q", options: [], total_voter_count: 0, is_closed: false } },
      { animation: { ...file, width: 1, height: 1, duration: 1 } },
    ]);
  }

  /** A well-formed envelope whose fields have the wrong types. */
  private wrongTypes(from: Person): string {
    const d = this.dice;
    const pm = { id: from.id, type: "private", first_name: from.first_name };
    const odd = () => d.pick<unknown>([null, 42, -1, 1.5, "x", "", true, [], {}, [1, 2], { a: 1 }]);
    return d.pick<() => string>([
      () => this.wrap({ message: { ...this.message(from, pm), text: odd() } }),
      () => this.wrap({ message: { ...this.message(from, { ...pm, id: odd() }), text: "/start" } }),
      () =>
        this.wrap({
          message: { ...this.message({ ...from, id: odd() as number }, pm), text: "hi" },
        }),
      () =>
        this.wrap({ message: { ...this.message(from, { ...pm, type: odd() }), text: "/help" } }),
      () => this.wrap({ message: odd() }),
      () => this.wrap({ callback_query: odd() }),
      () => this.wrap({ callback_query: { id: odd(), from, data: odd(), chat_instance: odd() } }),
      () =>
        this.wrap({ callback_query: { id: "c", from: odd(), data: "lang:ru", message: odd() } }),
      () => this.wrap({ message: { ...this.message(from, pm), entities: odd(), text: "/start" } }),
      () =>
        this.wrap({
          message: {
            ...this.message(from, pm),
            text: "/start",
            entities: [{ type: "bot_command", offset: odd(), length: odd() }],
          },
        }),
      () =>
        this.wrap({
          message: { ...this.message(from, pm), date: odd(), message_id: odd(), text: "/polls" },
        }),
      () => this.wrap({ message: { ...this.message(from, pm), contact: odd() } }),
      () => this.wrap({ message: { ...this.message(from, pm), location: odd() } }),
      () => this.wrap({ message: { ...this.message(from, pm), document: odd() } }),
      () => this.wrap({ message: { ...this.message(from, pm), photo: odd() } }),
      () =>
        this.wrap({
          my_chat_member: {
            chat: pm,
            from,
            date: 0,
            new_chat_member: odd(),
            old_chat_member: odd(),
          },
        }),
      () =>
        this.wrap({
          message: {
            ...this.message({ ...from, language_code: odd() as string }, pm),
            text: "/start",
          },
        }),
      () =>
        this.wrap({
          message: {
            ...this.message({ ...from, first_name: odd() as string }, pm),
            text: "/start",
          },
        }),
    ])();
  }

  /** A well-formed envelope with required fields left out. */
  private missingFields(from: Person): string {
    const d = this.dice;
    const full: Record<string, unknown> = {
      ...this.message(from, { id: from.id, type: "private" }),
      text: d.pick(COMMANDS),
    };
    for (const key of Object.keys(full)) if (d.chance(0.35)) delete full[key];
    if (d.chance(0.3)) return this.wrap({ callback_query: { id: "c", data: "lang:ru" } });
    if (d.chance(0.2)) return this.wrap({ message: { text: "/start", chat: { id: from.id } } });
    if (d.chance(0.2)) return this.wrap({ message: { text: "/start", from } });
    return this.wrap({ message: full });
  }
}
