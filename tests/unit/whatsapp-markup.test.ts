import { describe, expect, it } from "vitest";
import {
  htmlToWhatsApp,
  shortenLabel,
  splitText,
  uniqueTitles,
} from "../../src/channels/whatsapp/markup";
import { REGION_LABELS } from "../helpers/whatsapp-people";

/** Whether a string holds a lone surrogate (half of an emoji). */
const brokenPair = (s: string) =>
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe("htmlToWhatsApp", () => {
  it("turns Telegram's formatting tags into WhatsApp markers", () => {
    expect(htmlToWhatsApp("<b>Жыйын</b> <i>эртең</i> <s>бүгүн</s>")).toBe(
      "*Жыйын* _эртең_ ~бүгүн~",
    );
    expect(htmlToWhatsApp("<strong>a</strong><em>b</em><del>c</del><strike>d</strike>")).toBe(
      "*a*_b_~c~~d~",
    );
    expect(htmlToWhatsApp("<u>underlined</u> <ins>too</ins> <tg-spoiler>secret</tg-spoiler>")).toBe(
      "underlined too secret",
    );
    expect(htmlToWhatsApp('<span class="tg-spoiler">hidden</span>')).toBe("hidden");
  });

  it("nests markers and does not repeat one inside itself", () => {
    expect(htmlToWhatsApp("<b>bold <i>both</i></b>")).toBe("*bold _both_*");
    expect(htmlToWhatsApp("<b>x <strong>y</strong> z</b>")).toBe("*x y z*");
  });

  it("puts markers outside leading and trailing spaces and never writes empty ones", () => {
    expect(htmlToWhatsApp("Күнү:<b> 12-май </b>саат 10")).toBe("Күнү: *12-май* саат 10");
    expect(htmlToWhatsApp("a<b> </b>b<i></i>c<s>\n</s>")).toBe("a bc\n");
    expect(htmlToWhatsApp("<b>one\n\ntwo</b>")).toBe("*one*\n\n*two*");
    expect(htmlToWhatsApp("<b><i> x </i></b>")).toBe(" *_x_* ");
  });

  it("writes code inline or as a block", () => {
    expect(htmlToWhatsApp("код: <code>AB-12</code>")).toBe("код: `AB-12`");
    expect(
      htmlToWhatsApp('<pre><code class="language-sh">npm test\nnpm run check</code></pre>'),
    ).toBe("```npm test\nnpm run check```");
    expect(htmlToWhatsApp("<code>a\nb</code>")).toBe("```a\nb```");
    // Inside code nothing is formatted.
    expect(htmlToWhatsApp("<code>&lt;b&gt;x&lt;/b&gt;</code>")).toBe("`<b>x</b>`");
  });

  it("writes links out", () => {
    expect(htmlToWhatsApp('<a href="https://aimak.kg/h/5">Толук маалымат</a>')).toBe(
      "Толук маалымат (https://aimak.kg/h/5)",
    );
    expect(htmlToWhatsApp('<a href="https://aimak.kg">https://aimak.kg</a>')).toBe(
      "https://aimak.kg",
    );
    expect(htmlToWhatsApp('<a href="https://aimak.kg/">aimak.kg</a>')).toBe("https://aimak.kg/");
    expect(htmlToWhatsApp('<a href="https://x.kg/?a=1&amp;b=2"><b>Link</b></a>')).toBe(
      "*Link* (https://x.kg/?a=1&b=2)",
    );
    expect(htmlToWhatsApp("<a href='https://x.kg'></a>")).toBe("https://x.kg");
    // A mention of a Telegram user means nothing on WhatsApp: the name stays.
    expect(htmlToWhatsApp('<a href="tg://user?id=42">Айгүл</a>')).toBe("Айгүл");
  });

  it("decodes entities", () => {
    expect(htmlToWhatsApp("&lt;&gt;&amp;&quot;&#39;&#1199;&#x4e2;&#x1F600;")).toBe("<>&\"'үӢ😀");
    expect(htmlToWhatsApp("&amp;lt; stays one level")).toBe("&lt; stays one level");
    expect(htmlToWhatsApp("&unknown; &#99999999;")).toBe("&unknown; &#99999999;");
  });

  it("sets quotes apart as their own lines", () => {
    expect(htmlToWhatsApp("Суроо:<blockquote>Жер\nкандай?</blockquote>Жооп")).toBe(
      "Суроо:\n> Жер\n> кандай?\nЖооп",
    );
    expect(htmlToWhatsApp("<blockquote expandable>a</blockquote>")).toBe("> a");
  });

  it("is lenient with what it does not know", () => {
    expect(htmlToWhatsApp("1 < 2 and <b>unclosed")).toBe("1 < 2 and *unclosed*");
    expect(htmlToWhatsApp("stray</b> close")).toBe("stray close");
    expect(htmlToWhatsApp("<b>a<i>b</b>c")).toBe("*a_b_*c");
    expect(htmlToWhatsApp("line<br>next<br/>end")).toBe("line\nnext\nend");
    expect(htmlToWhatsApp("")).toBe("");
    expect(htmlToWhatsApp("plain text, no tags")).toBe("plain text, no tags");
  });
});

describe("splitText", () => {
  it("keeps a short text whole and drops an empty one", () => {
    expect(splitText("Салам", 4096)).toEqual(["Салам"]);
    expect(splitText("", 4096)).toEqual([]);
    expect(splitText("  \n ", 4096)).toEqual([]);
  });

  it("prefers a paragraph break, then a line break, then a space", () => {
    const p = "a".repeat(30);
    expect(splitText(`${p}\n\n${p}\n${p}`, 70)).toEqual([p, `${p}\n${p}`]);
    expect(splitText(`${p}\n${p} ${p}`, 70)).toEqual([p, `${p} ${p}`]);
    // A break of a better kind close to the start would leave a tiny part: a later one wins.
    expect(splitText(`ab\n${p} ${p} ${p}`, 70)).toEqual([`ab\n${p} ${p}`, p]);
    expect(splitText(`${p} ${p} ${p}`, 70)).toEqual([`${p} ${p}`, p]);
  });

  it("does not take a paragraph break that would leave a tiny part", () => {
    const text = `Title\n\n${"word ".repeat(30).trim()}`;
    const parts = splitText(text, 100);
    expect(parts[0]!.startsWith("Title\n\nword")).toBe(true);
    expect(parts.every((p) => p.length <= 100)).toBe(true);
  });

  it("cuts hard inside a long word but never through an emoji", () => {
    expect(splitText("x".repeat(25), 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    const emoji = "😀".repeat(10); // 20 UTF-16 units
    const parts = splitText(emoji, 5);
    expect(parts.join("")).toBe(emoji);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(5);
      expect(brokenPair(part)).toBe(false);
    }
    const family = "👨‍👩‍👧".repeat(3);
    expect(splitText(family, 10).join("")).toBe(family);
  });

  it("keeps every part within the limit and loses no words, for many texts", () => {
    const words = [
      "Ысык-Көл",
      "облусу",
      "😀",
      "жыйын",
      "a".repeat(50),
      "👍🏽",
      "\n",
      "\n\n",
      "Чүй",
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 300; round++) {
      const count = 1 + (next() % 400);
      const text = Array.from({ length: count }, () => words[next() % words.length]).join(" ");
      const max = [20, 64, 100, 1024, 4096][round % 5]!;
      const parts = splitText(text, max);
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(max);
        expect(part.trim()).not.toBe("");
        expect(brokenPair(part)).toBe(false);
      }
      const squash = (s: string) => s.replace(/\s+/g, "");
      expect(squash(parts.join(""))).toBe(squash(text));
    }
  });

  it("refuses a limit that cannot hold a character", () => {
    expect(() => splitText("abc", 1)).toThrow(RangeError);
  });
});

describe("shortenLabel", () => {
  it("keeps a label that fits, with its whitespace tidied", () => {
    expect(shortenLabel("Чүй облусу", 20)).toBe("Чүй облусу");
    expect(shortenLabel("  Чүй \n облусу ", 20)).toBe("Чүй облусу");
  });

  it("cuts at a word and ends in an ellipsis that counts", () => {
    expect(shortenLabel("Жалал-Абад облусу, Сузак району", 24)).toBe("Жалал-Абад облусу…");
    expect(shortenLabel("Ысык-Көл облусу, Ак-Суу району", 20)).toBe("Ысык-Көл облусу…");
    const s = shortenLabel("Сокулук айыл аймагы", 15);
    expect(s).toBe("Сокулук айыл…");
    expect(s.length).toBeLessThanOrEqual(15);
  });

  it("cuts hard when the first word is most of the label", () => {
    expect(shortenLabel("Кара-Кулжа-Кочкор-Ата айылы", 12)).toBe("Кара-Кулжа…");
    expect(shortenLabel("Abcdefghijklmnopqrstuvwxyz", 10)).toBe("Abcdefghi…");
  });

  it("never cuts an emoji in half", () => {
    const label = `${"👍".repeat(15)} ok`;
    const s = shortenLabel(label, 20);
    expect(s.length).toBeLessThanOrEqual(20);
    expect(brokenPair(s)).toBe(false);
    expect(s.endsWith("…")).toBe(true);
  });

  it("stays within the limit for every length", () => {
    const label = "Жалал-Абад облусу, Ноокен району, Масы айыл аймагы 👍🏽";
    for (let max = 1; max <= label.length + 2; max++) {
      const s = shortenLabel(label, max);
      expect(s.length).toBeLessThanOrEqual(max);
      expect(s).not.toBe("");
      expect(brokenPair(s)).toBe(false);
    }
  });
});

describe("uniqueTitles", () => {
  it("shortens titles and numbers the ones that would repeat", () => {
    expect(
      uniqueTitles(
        ["Жалал-Абад облусу, Сузак району", "Жалал-Абад облусу, Ноокен району", "Чүй облусу"],
        24,
      ),
    ).toEqual(["Жалал-Абад облусу…", "Жалал-Абад облусу… 2", "Чүй облусу"]);
    expect(uniqueTitles(["Ооба", "Ооба", "ооба", "Ооба 2"], 20)).toEqual([
      "Ооба",
      "Ооба 2",
      "ооба 3",
      "Ооба 2 2",
    ]);
  });

  it("gives an empty label its position", () => {
    expect(uniqueTitles(["", "  ", "1"], 20)).toEqual(["1", "2", "1 2"]);
  });

  it("keeps titles unique and within the limit for long duplicate lists", () => {
    const labels = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0
        ? "Жалал-Абад облусу, Сузак району, Кара-Дарыя айыл аймагы"
        : REGION_LABELS[i % 8]!,
    );
    for (const max of [20, 24]) {
      const titles = uniqueTitles(labels, max);
      expect(titles).toHaveLength(40);
      expect(new Set(titles.map((t) => t.toLowerCase())).size).toBe(40);
      for (const t of titles) {
        expect(t.length).toBeLessThanOrEqual(max);
        expect(t.trim()).toBe(t);
        expect(t).not.toBe("");
      }
    }
  });
});
