import { eq, sql } from "drizzle-orm";
import type { MessageEntity } from "grammy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, rowsOf } from "../../src/db/client";
import { outgoingMessages, roleGrants, users } from "../../src/db/schema";
import { visibleText } from "../../src/delivery";
import { senderNames } from "../../src/features/announcements/service";
import { translator } from "../../src/i18n";
import { type ApiCall, createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { startTestEngine } from "../helpers/engine";

/**
 * A staff member composing /broadcast in the real bot (conversations in the database), and what
 * residents then receive from the real delivery engine: the audience said back in words with its
 * size, the sending body named on every copy (and in the preview, exactly as sent), and the
 * staff member's text shown as typed while their Telegram formatting is kept.
 */

const ru = translator("ru");
const ky = translator("ky");

let handle: DatabaseHandle;
let delivery: ReturnType<typeof startTestEngine>;
let sokuluk: number;
let karakol: number;
let nextChat = 61_000;

async function insertId(query: ReturnType<typeof sql>): Promise<number> {
  return Number(rowsOf<{ id: number }>(await handle.db.execute(query))[0]?.id);
}

beforeAll(async () => {
  handle = await createTestDatabase();
  // A directory of our own (raw SQL: only the columns every version of the schema has).
  const chui = await insertId(sql`insert into regions (code, kind, name_ky, name_ru)
    values ('t-chui', 'oblast', 'Чүй облусу', 'Чуйская область') returning id`);
  const issykKul = await insertId(sql`insert into regions (code, kind, name_ky, name_ru)
    values ('t-ik', 'oblast', 'Ысык-Көл облусу', 'Иссык-Кульская область') returning id`);
  const district = await insertId(sql`insert into districts (code, region_id, name_ky, name_ru)
    values ('t-chui.sokuluk', ${chui}, 'Сокулук району', 'Сокулукский район') returning id`);
  sokuluk = await insertId(sql`insert into municipalities
    (code, kind, region_id, district_id, name_ky, name_ru)
    values ('t-sokuluk', 'aiyl_aimak', ${chui}, ${district}, 'Сокулук', 'Сокулук') returning id`);
  karakol = await insertId(sql`insert into municipalities (code, kind, region_id, name_ky, name_ru)
    values ('t-karakol', 'city', ${issykKul}, 'Каракол', 'Каракол') returning id`);
  // 1,234 residents of Sokuluk, 1,000 of them subscribed to announcements.
  await handle.db.execute(sql`insert into users
    (channel, channel_user_id, chat_id, locale, municipality_id, topics)
    select 'telegram', (500000 + g)::text, 500000 + g, 'ky', ${sokuluk}::int,
      case when g <= 1000 then '{announcements}'::text[] else '{polls}'::text[] end
    from generate_series(1, 1234) g`);
  delivery = startTestEngine(handle.db);
});

afterAll(async () => {
  await delivery.stop();
  await handle.close();
});

/** Someone who has talked to the bot, living in `municipalityId`, with a role there. */
async function withRole(
  t: ReturnType<typeof createTestBot>,
  role: "staff" | "deputy",
  municipalityId: number,
  locale: "ky" | "ru" | "en",
) {
  const p = person(nextChat++, locale);
  await t.send(textUpdate(p, "/help"));
  const [row] = await handle.db
    .update(users)
    .set({ locale, municipalityId })
    .where(eq(users.chatId, p.id))
    .returning();
  await handle.db.insert(roleGrants).values({ userId: row!.id, role, municipalityId });
  return p;
}

/** A text message carrying formatting entities, as Telegram sends bold or a link. */
function formatted(from: ReturnType<typeof person>, text: string, entities: MessageEntity[]) {
  const update = textUpdate(from, text);
  return { ...update, message: { ...update.message!, entities } };
}

const callsTo = (calls: ApiCall[], chatId: number) =>
  calls.filter((c) => c.payload.chat_id === chatId);

describe("/broadcast says back the chosen audience", () => {
  it("edits the audience message into words with the number of people, and repeats it before sending", async () => {
    const t = createTestBot(handle.db);
    const staff = await withRole(t, "staff", sokuluk, "ru");
    await t.send(textUpdate(staff, "/broadcast"));
    await t.send(textUpdate(staff, "Эртең суу болбойт"));
    await t.send(pressUpdate(staff, "ann:skip")); // no Russian text
    await t.send(pressUpdate(staff, "ann:skip")); // no attachment
    expect(t.lastButtons().map((b) => b.data)).toContain("ann:aud:all");
    const before = t.calls.length;
    await t.send(pressUpdate(staff, "ann:aud:all", 4242));

    // 1,234 residents plus the staff member, who lives there too.
    const summary = "Получатели: все жители (Сокулук) — 1\u00a0235 человек";
    expect(summary).toBe(
      ru("announcements.audience_chosen", {
        audience: ru("announcements.audience_label_all", { municipality: "Сокулук" }),
        people: ru("announcements.people", { count: 1235, n: "1\u00a0235" }),
      }),
    );
    const edit = t.calls.slice(before).find((c) => c.method === "editMessageText");
    expect(edit?.payload).toMatchObject({ chat_id: staff.id, message_id: 4242, text: summary });

    // The step that asks when, and the final confirmation, say it again.
    expect(t.texts().at(-1)).toContain(summary);
    await t.send(pressUpdate(staff, "ann:now"));
    expect(t.texts().at(-1)).toBe(ru("announcements.confirm_now", { audience: summary }));
    await t.send(pressUpdate(staff, "ann:abort"));
    expect(t.texts().at(-1)).toBe(ru("announcements.aborted"));
  });

  it("counts only the subscribers when they are the audience, in the sender's language", async () => {
    const t = createTestBot(handle.db);
    const staff = await withRole(t, "staff", sokuluk, "en");
    await t.send(textUpdate(staff, "/broadcast"));
    await t.send(textUpdate(staff, "Эртең суу болбойт"));
    await t.send(pressUpdate(staff, "ann:skip"));
    await t.send(pressUpdate(staff, "ann:skip"));
    await t.send(pressUpdate(staff, "ann:aud:sub"));
    // 1,000 subscribers, plus the two staff members (new people receive announcements).
    expect(t.lastCall("editMessageText")?.payload.text).toBe(
      "Audience: announcement subscribers in Сокулук — 1,002 people",
    );
    await t.send(pressUpdate(staff, "ann:abort"));
  });
});

describe("what residents receive", () => {
  it("names the sending body, shows the staff text as typed and keeps their Telegram formatting, exactly as previewed", async () => {
    const t = createTestBot(handle.db);
    const staff = await withRole(t, "staff", sokuluk, "ru");
    const deputyKy = await withRole(t, "deputy", sokuluk, "ky");
    const deputyRu = await withRole(t, "deputy", sokuluk, "ru");

    await t.send(textUpdate(staff, "/broadcast"));
    // Typed characters "<b>" and "&", plus bold applied in the Telegram app to "Маанилүү:"
    // and a link: the first are shown as typed, the second are formatting.
    const kyText = "  Маанилүү: <b>суу</b> & жарык эртең 10:00до өчөт. Толугу: сайт  ";
    await t.send(
      formatted(staff, kyText, [
        { type: "bold", offset: 2, length: 9 },
        { type: "text_link", offset: 59, length: 4, url: "https://sokuluk.kg/?a=1&b=2" },
        { type: "mention", offset: 14, length: 3 },
      ]),
    );
    await t.send(textUpdate(staff, "Отключат <i>воду</i>"));
    await t.send(pressUpdate(staff, "ann:skip")); // no attachment
    await t.send(pressUpdate(staff, "ann:aud:deputy"));
    expect(t.lastCall("editMessageText")?.payload.text).toBe(
      "Получатели: депутаты (Сокулук) — 2 человека",
    );

    const kyHeader = `📢 <b>${ky("announcements.sender_aiyl_aimak", { name: "Сокулук" })}</b>`;
    const ruHeader = `📢 <b>${ru("announcements.sender_aiyl_aimak", { name: "Сокулук" })}</b>`;
    expect(kyHeader).toBe("📢 <b>Сокулук айыл өкмөтү</b>");
    expect(ruHeader).toBe("📢 <b>Айыл окмоту Сокулук</b>");
    const kyHtml =
      `${kyHeader}\n\n<b>Маанилүү:</b> &lt;b&gt;суу&lt;/b&gt; &amp; жарык эртең 10:00до өчөт. ` +
      `Толугу: <a href="https://sokuluk.kg/?a=1&amp;b=2">сайт</a>`;
    const ruHtml = `${ruHeader}\n\nОтключат &lt;i&gt;воду&lt;/i&gt;`;

    // The preview: one message per language, the very call residents get.
    const previews = callsTo(t.calls, staff.id).filter(
      (c) => c.method === "sendMessage" && String(c.payload.text).startsWith("📢"),
    );
    expect(previews.map((c) => [c.payload.text, c.payload.parse_mode])).toEqual([
      [kyHtml, "HTML"],
      [ruHtml, "HTML"],
    ]);

    await t.send(pressUpdate(staff, "ann:now"));
    await t.send(pressUpdate(staff, "ann:confirm"));
    await delivery.drain();
    const got = (chatId: number) => delivery.sentTo(chatId).map((p) => [p.text, p.parse_mode]);
    expect(got(deputyKy.id)).toEqual([[kyHtml, "HTML"]]);
    expect(got(deputyRu.id)).toEqual([[ruHtml, "HTML"]]);
    for (const preview of previews) {
      const { chat_id: _a, ...asPreviewed } = preview.payload;
      const received = delivery
        .sentTo(preview.payload.text === kyHtml ? deputyKy.id : deputyRu.id)
        .map(({ chat_id: _b, ...rest }) => rest);
      expect(received).toEqual([asPreviewed]);
    }
    // What a reader sees: the typed characters, not formatting made of them.
    expect(visibleText(ruHtml)).toBe("📢 Айыл окмоту Сокулук\n\nОтключат <i>воду</i>");

    // /broadcasts lists it as typed, without the sender line.
    await t.send(textUpdate(staff, "/broadcasts"));
    const list = String(t.lastCall("sendMessage")?.payload.text);
    expect(list).toContain("Отключат &lt;i&gt;воду&lt;/i&gt;");
    expect(list).not.toContain("📢");
  });

  it("comes from the mayor's office of a city", async () => {
    const t = createTestBot(handle.db);
    const staff = await withRole(t, "staff", karakol, "ky");
    await t.send(textUpdate(staff, "/broadcast"));
    await t.send(textUpdate(staff, "Шаарда жыйын болот"));
    await t.send(pressUpdate(staff, "ann:skip"));
    await t.send(pressUpdate(staff, "ann:skip"));
    await t.send(pressUpdate(staff, "ann:aud:staff"));
    const preview = callsTo(t.calls, staff.id).find((c) => String(c.payload.text).startsWith("📢"));
    expect(preview?.payload.text).toBe("📢 <b>Каракол шаарынын мэриясы</b>\n\nШаарда жыйын болот");
    await t.send(pressUpdate(staff, "ann:abort"));
    expect(await senderNames(handle.db, karakol)).toEqual({
      ky: "Каракол шаарынын мэриясы",
      ru: "Мэрия города Каракол",
      en: "Каракол Mayor's Office",
    });
    // Sent for every municipality (admins only): the Union of Local Self-Governments.
    expect(await senderNames(handle.db, null)).toEqual({
      ky: ky("announcements.sender_union"),
      ru: "Союз местных самоуправлений",
      en: "Union of Local Self-Governments",
    });
    const created = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.municipalityId, karakol));
    expect(created).toHaveLength(0);
  });

  it("counts the sender line in Telegram's length limit", async () => {
    const t = createTestBot(handle.db);
    const staff = await withRole(t, "staff", sokuluk, "ru");
    await t.send(textUpdate(staff, "/broadcast"));
    const max = 4096 - "📢 Сокулук айыл өкмөтү\n\n".length;
    await t.send(textUpdate(staff, "ы".repeat(max + 1)));
    expect(t.texts().at(-1)).toBe(ru("announcements.too_long", { length: max + 1, max }));
    await t.send(textUpdate(staff, "ы".repeat(max)));
    expect(t.texts().at(-1)).toBe(ru("announcements.ask_text_ru"));
    await t.send(textUpdate(staff, "/help"));
  });
});
