import { describe, expect, it } from "vitest";
import {
  callbackButtons,
  type KeyboardButton,
  type KeyboardLabels,
  type PlanInput,
  pageCount,
  planMessages,
  planPage,
} from "../../src/channels/whatsapp/keyboard";
import { WA_LIMITS, type WaInteractive, type WaOutgoing } from "../../src/channels/whatsapp/types";
import { REGION_LABELS } from "../helpers/whatsapp-people";

const LABELS: KeyboardLabels = {
  choose: "Тандаңыз",
  more: "Дагы…",
  page: (page, pages) => `${pages} барактын ${page}-барагы`,
};

function input(text: string, keyboard?: KeyboardButton[][]): PlanInput {
  return {
    text,
    ...(keyboard ? { keyboard } : {}),
    labels: LABELS,
    buttonId: (i) => `b:${i}`,
    moreId: (page) => `more:${page}`,
  };
}

/** One callback button per row, as the features lay out long lists. */
const column = (labels: string[]): KeyboardButton[][] =>
  labels.map((text, i) => [{ text, callbackData: `mun:${i}` }]);

function interactiveOf(message: WaOutgoing | undefined): WaInteractive {
  if (message?.type !== "interactive")
    throw new Error(`not interactive: ${JSON.stringify(message)}`);
  return message.interactive;
}

function listOf(message: WaOutgoing | undefined) {
  const i = interactiveOf(message);
  if (i.type !== "list") throw new Error(`not a list: ${i.type}`);
  return i;
}

const unique = (values: string[]) => new Set(values).size === values.length;

/** Everything Meta checks before it accepts a message (the fake Graph API refuses the same). */
function expectWithinLimits(message: WaOutgoing): void {
  if (message.type === "text") {
    expect(message.text.body.trim()).not.toBe("");
    expect(message.text.body.length).toBeLessThanOrEqual(WA_LIMITS.textLength);
    return;
  }
  const i = interactiveOf(message);
  expect(i.body.text.trim()).not.toBe("");
  expect(i.body.text.length).toBeLessThanOrEqual(WA_LIMITS.interactiveBody);
  if (i.type === "button") {
    const buttons = i.action.buttons;
    expect(buttons.length).toBeGreaterThanOrEqual(1);
    expect(buttons.length).toBeLessThanOrEqual(WA_LIMITS.replyButtons);
    for (const { reply } of buttons) {
      expect(reply.title.trim()).not.toBe("");
      expect(reply.title.length).toBeLessThanOrEqual(WA_LIMITS.replyButtonTitle);
      expect(reply.id.length).toBeLessThanOrEqual(WA_LIMITS.replyId);
    }
    expect(unique(buttons.map((b) => b.reply.id))).toBe(true);
    expect(unique(buttons.map((b) => b.reply.title.toLowerCase()))).toBe(true);
  } else if (i.type === "list") {
    expect(i.action.button.trim()).not.toBe("");
    expect(i.action.button.length).toBeLessThanOrEqual(WA_LIMITS.listButton);
    const rows = i.action.sections.flatMap((s) => s.rows);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(WA_LIMITS.listRows);
    for (const row of rows) {
      expect(row.title.trim()).not.toBe("");
      expect(row.title.length).toBeLessThanOrEqual(WA_LIMITS.listRowTitle);
      expect(row.description?.length ?? 0).toBeLessThanOrEqual(WA_LIMITS.listRowDescription);
      expect(row.id.length).toBeLessThanOrEqual(WA_LIMITS.replyId);
    }
    expect(unique(rows.map((r) => r.id))).toBe(true);
    expect(unique(rows.map((r) => r.title.toLowerCase()))).toBe(true);
  } else {
    const { display_text, url } = i.action.parameters;
    expect(display_text.trim()).not.toBe("");
    expect(display_text.length).toBeLessThanOrEqual(WA_LIMITS.ctaDisplayText);
    expect(url).toMatch(/^https:\/\//);
  }
}

/** A lone surrogate anywhere in the message (an emoji cut in half). */
const brokenPair = (message: WaOutgoing) =>
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(
    JSON.stringify(message).replace(/\\u[0-9a-f]{4}/gi, (e) =>
      String.fromCharCode(Number.parseInt(e.slice(2), 16)),
    ),
  );

describe("callbackButtons and pageCount", () => {
  it("reads callback buttons in reading order and leaves link buttons out", () => {
    const keyboard: KeyboardButton[][] = [
      [
        { text: "A", callbackData: "a" },
        { text: "Link", url: "https://aimak.kg" },
      ],
      [
        { text: "B", callbackData: "b" },
        { text: "C", callbackData: "c" },
      ],
    ];
    expect(callbackButtons(keyboard)).toEqual([
      { text: "A", callbackData: "a" },
      { text: "B", callbackData: "b" },
      { text: "C", callbackData: "c" },
    ]);
    expect(callbackButtons(undefined)).toEqual([]);
  });

  it("needs one page up to 10 buttons, then 9 rows a page and up to 10 on the last", () => {
    expect([0, 1, 3, 10].map(pageCount)).toEqual([1, 1, 1, 1]);
    expect(pageCount(11)).toBe(2); // 9 + 2
    expect(pageCount(19)).toBe(2); // 9 + 10
    expect(pageCount(20)).toBe(3); // 9 + 9 + 2
    expect(pageCount(40)).toBe(5); // 9 + 9 + 9 + 9 + 4
  });
});

describe("planMessages", () => {
  it("sends a text without buttons as text, split at 4096", () => {
    expect(planMessages(input("*Салам*"))).toEqual([{ type: "text", text: { body: "*Салам*" } }]);
    const long = `${"сөз ".repeat(1500)}\n\n${"сөз ".repeat(500)}`;
    const messages = planMessages(input(long, []));
    expect(messages.length).toBe(2);
    for (const m of messages) expectWithinLimits(m);
    expect(planMessages(input(""))).toEqual([]);
  });

  it("makes one link button a call-to-action and writes other links into the text", () => {
    const [cta] = planMessages(
      input("Угуу тууралуу толук маалымат", [
        [{ text: "Толук маалыматты ачуу", url: "https://aimak.kg/h/5" }],
      ]),
    );
    expect(cta).toEqual({
      type: "interactive",
      interactive: {
        type: "cta_url",
        body: { text: "Угуу тууралуу толук маалымат" },
        action: {
          name: "cta_url",
          parameters: { display_text: "Толук маалыматты…", url: "https://aimak.kg/h/5" },
        },
      },
    });
    // No text: the link's label speaks for itself.
    expect(
      interactiveOf(planMessages(input("", [[{ text: "Сайт", url: "https://aimak.kg" }]]))[0]).body
        .text,
    ).toBe("Сайт");

    const two = planMessages(
      input("Шилтемелер:", [
        [{ text: "Сайт", url: "https://aimak.kg" }],
        [{ text: "https://x.kg", url: "https://x.kg" }],
      ]),
    );
    expect(two).toEqual([
      { type: "text", text: { body: "Шилтемелер:\n\nСайт: https://aimak.kg\nhttps://x.kg" } },
    ]);

    const mixed = planMessages(
      input("Тандаңыз:", [
        [{ text: "Ооба", callbackData: "y" }],
        [{ text: "Сайт", url: "https://aimak.kg" }],
      ]),
    );
    expect(interactiveOf(mixed[0]).body.text).toBe("Тандаңыз:\n\nСайт: https://aimak.kg");
  });

  it("uses reply buttons for up to three callback buttons", () => {
    const [message] = planMessages(
      input("Катышасызбы?", [
        [
          { text: "Ооба, катышам", callbackData: "rsvp:1" },
          { text: "Жок", callbackData: "rsvp:0" },
        ],
        [{ text: "Балким, азырынча так билбейм", callbackData: "rsvp:2" }],
      ]),
    );
    expect(message).toEqual({
      type: "interactive",
      interactive: {
        type: "button",
        body: { text: "Катышасызбы?" },
        action: {
          buttons: [
            { type: "reply", reply: { id: "b:0", title: "Ооба, катышам" } },
            { type: "reply", reply: { id: "b:1", title: "Жок" } },
            { type: "reply", reply: { id: "b:2", title: "Балким, азырынча…" } },
          ],
        },
      },
    });
  });

  it("uses one list for four to ten, with the full label where the title is short of it", () => {
    const labels = [...REGION_LABELS, "Жалал-Абад облусу, Сузак району"];
    const [message] = planMessages(input("Облусуңузду тандаңыз", column(labels)));
    const list = listOf(message);
    expect(list.action.button).toBe("Тандаңыз");
    const rows = list.action.sections.flatMap((s) => s.rows);
    expect(rows.map((r) => r.id)).toEqual(labels.map((_, i) => `b:${i}`));
    expect(rows[0]).toEqual({ id: "b:0", title: "Ысык-Көл облусу" });
    expect(rows[1]).toEqual({ id: "b:1", title: "Жалал-Абад облусу" });
    expect(rows[8]).toEqual({
      id: "b:8",
      title: "Жалал-Абад облусу…",
      description: "Жалал-Абад облусу, Сузак району",
    });
    expect(rows.some((r) => r.title.startsWith("Дагы"))).toBe(false);
  });

  it("gives an interactive message without text the list's button as body", () => {
    const list = listOf(planMessages(input("  ", column(REGION_LABELS)))[0]);
    expect(list.body.text).toBe("Тандаңыз");
  });

  it("sends a long text first, keeping its last paragraph above the buttons", () => {
    const intro = "Маалымат. ".repeat(300).trim(); // ~3000 characters
    const question = "Бул сизге пайдалуу болдубу?";
    const messages = planMessages(
      input(`${intro}\n\n${question}`, [
        [
          { text: "Ооба", callbackData: "fb:1" },
          { text: "Жок", callbackData: "fb:0" },
        ],
      ]),
    );
    expect(messages).toHaveLength(2);
    expect(messages[0]).toEqual({ type: "text", text: { body: intro } });
    const last = interactiveOf(messages[1]);
    expect(last.body.text.endsWith(question)).toBe(true);
    expect(last.body.text.length).toBeLessThanOrEqual(WA_LIMITS.interactiveBody);
  });

  it("pages a municipality list of 40 through 'more' rows", () => {
    const labels = Array.from(
      { length: 40 },
      (_, i) => `${REGION_LABELS[i % 8]} ${i + 1}-айыл аймагы`,
    );
    const plan = input("Айыл аймагыңызды тандаңыз", column(labels));
    const first = listOf(planMessages(plan).at(-1));
    const rows = first.action.sections.flatMap((s) => s.rows);
    expect(rows).toHaveLength(10);
    expect(rows.slice(0, 9).map((r) => r.id)).toEqual(labels.slice(0, 9).map((_, i) => `b:${i}`));
    expect(rows[9]).toEqual({ id: "more:1", title: "Дагы…", description: "5 барактын 2-барагы" });

    const second = listOf(planPage(plan, 1));
    expect(second.body.text).toBe("5 барактын 2-барагы");
    expect(second.action.sections[0]!.rows.at(-1)!.id).toBe("more:2");

    const last = listOf(planPage(plan, 4));
    const lastRows = last.action.sections.flatMap((s) => s.rows);
    expect(lastRows.map((r) => r.id)).toEqual(["b:36", "b:37", "b:38", "b:39"]);
    expect(() => planPage(plan, 5)).toThrow(RangeError);
    expect(() => planPage(plan, 0)).toThrow(RangeError);
    expect(() => planPage(input("x", column(REGION_LABELS)), 1)).toThrow(RangeError);
  });

  it("lets the last page hold ten rows", () => {
    const plan = input("x", column(Array.from({ length: 19 }, (_, i) => `Айыл ${i}`)));
    const rows = listOf(planPage(plan, 1)).action.sections.flatMap((s) => s.rows);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `b:${i + 9}`));
  });

  it("keeps 'more' apart from a button that is called the same", () => {
    const labels = ["Дагы…", ...Array.from({ length: 14 }, (_, i) => `Айыл ${i}`)];
    const rows = listOf(planMessages(input("x", column(labels)))[0]).action.sections[0]!.rows;
    expect(rows[0]!.title).toBe("Дагы…");
    expect(rows[9]).toMatchObject({ id: "more:1", title: "Дагы… 2" });
  });

  it("refuses an id Meta would refuse", () => {
    const plan = { ...input("x", column(["a"])), buttonId: () => "x".repeat(257) };
    expect(() => planMessages(plan)).toThrow(RangeError);
  });
});

describe("every keyboard fits WhatsApp", () => {
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const LABEL_KINDS: ((i: number) => string)[] = [
    (i) => REGION_LABELS[i % REGION_LABELS.length]!,
    () => "Ооба",
    (i) => `Жалал-Абад облусу, Сузак району, ${i}-айыл аймагы`,
    () => "Жалал-Абад облусу, Сузак району, Кара-Дарыя айыл аймагы (борбору)",
    (i) => `👍🏽 ${"😀".repeat(i % 30)} жакшы`,
    (i) => "👨‍👩‍👧".repeat(1 + (i % 12)),
    () => "Abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    () => "",
    (i) => `  many   spaces\n${i}  `,
    () => "Дагы…",
  ];
  const TEXTS = [
    "",
    "Тандаңыз:",
    "😀".repeat(600),
    `${"Узун текст. ".repeat(120)}\n\nАкыркы абзац?`,
    "ж".repeat(5000),
    `${"сап\n".repeat(1500)}суроо`,
  ];

  it("respects the limits, and pages show every button exactly once", () => {
    for (let n = 1; n <= 40; n++) {
      for (let variant = 0; variant < 8; variant++) {
        const labels = Array.from({ length: n }, (_, i) => {
          const kind = variant < LABEL_KINDS.length - 2 ? variant : random(LABEL_KINDS.length);
          return LABEL_KINDS[kind]!(i);
        });
        // Rows of 1–3 buttons, as features lay them out.
        const keyboard: KeyboardButton[][] = [];
        for (let i = 0; i < n; ) {
          const width = 1 + random(3);
          keyboard.push(
            labels.slice(i, i + width).map((text, j) => ({ text, callbackData: `cb:${i + j}` })),
          );
          i += width;
        }
        if (variant % 3 === 0) keyboard.push([{ text: "Сайт", url: "https://aimak.kg/x" }]);
        const plan = input(TEXTS[random(TEXTS.length)]!, keyboard);

        const messages = planMessages(plan);
        for (const m of messages) {
          expectWithinLimits(m);
          expect(brokenPair(m)).toBe(false);
        }
        const last = interactiveOf(messages.at(-1));
        const pages = pageCount(n);
        if (n <= 3) expect(last.type).toBe("button");
        else expect(last.type).toBe("list");

        const seen: string[] = [];
        const lists = [last];
        for (let page = 1; page < pages; page++) lists.push(interactiveOf(planPage(plan, page)));
        lists.forEach((list, page) => {
          expectWithinLimits({ type: "interactive", interactive: list });
          const ids =
            list.type === "button"
              ? list.action.buttons.map((b) => b.reply.id)
              : list.type === "list"
                ? list.action.sections.flatMap((s) => s.rows.map((r) => r.id))
                : [];
          const more = ids.filter((id) => id.startsWith("more:"));
          expect(more).toEqual(page < pages - 1 ? [`more:${page + 1}`] : []);
          seen.push(...ids.filter((id) => !id.startsWith("more:")));
        });
        expect(seen).toEqual(labels.map((_, i) => `b:${i}`));
      }
    }
  });

  it("writes the full label into the description whenever a list title is shortened", () => {
    for (let n = 4; n <= 40; n++) {
      const labels = Array.from({ length: n }, (_, i) => LABEL_KINDS[i % LABEL_KINDS.length]!(i));
      const plan = input("x", column(labels));
      const lists = [planMessages(plan)[0]];
      for (let page = 1; page < pageCount(n); page++) lists.push(planPage(plan, page));
      const rows = lists
        .flatMap((m) => listOf(m).action.sections.flatMap((s) => s.rows))
        .filter((r) => r.id.startsWith("b:"));
      for (const row of rows) {
        const full = labels[Number(row.id.slice(2))]!.replace(/\s+/g, " ").trim();
        if (!full || row.title === full) expect(row.description).toBeUndefined();
        else if (full.length <= WA_LIMITS.listRowDescription) expect(row.description).toBe(full);
        else expect(row.description?.endsWith("…")).toBe(true);
      }
    }
  });
});
