/**
 * The poll result chart: the SVG we write, and the PNG resvg renders from it with the shipped
 * fonts. Fit and glyph checks ask resvg itself (its bounding boxes and pixels), not the chart
 * module's own font measurements.
 */
import { fileURLToPath } from "node:url";
import { Resvg } from "@resvg/resvg-js";
import { describe, expect, it } from "vitest";
import {
  CHART_WIDTH,
  type ChartInput,
  chartSvg,
  fontHasGlyph,
  percentOf,
  pollChart,
  pollChartInput,
  renderChartPng,
  wrapText,
} from "../../src/features/polls/chart";
import type { PollRow, PollTally } from "../../src/features/polls/types";

const TZ = "Asia/Bishkek";
// 14:30 in Bishkek (UTC+6).
const CLOSED_AT = new Date("2026-11-23T08:30:00Z");

function poll(overrides: Partial<PollRow> = {}): PollRow {
  return {
    id: 7,
    municipalityId: 1,
    question: { ky: "Кайсы долбоорду каржылайбыз?", ru: "Какой проект профинансируем?" },
    options: [
      { ky: "Мектептин чатыры", ru: "Крыша школы" },
      { ky: "Көчө чырактары", ru: "Уличные фонари" },
      { ky: "Ичүүчү суу", ru: "Питьевая вода" },
    ],
    maxChoices: 1,
    audience: "subscribers",
    liveResults: false,
    status: "closed",
    opensAt: new Date("2026-11-01T03:00:00Z"),
    closesAt: CLOSED_AT,
    createdByUserId: null,
    openedAt: new Date("2026-11-01T03:00:00Z"),
    closedAt: CLOSED_AT,
    cancelledAt: null,
    burstWarnedAt: null,
    createdAt: new Date("2026-10-30T03:00:00Z"),
    updatedAt: CLOSED_AT,
    ...overrides,
  };
}

const LONG_KY_LABELS = [
  "Айылдагы орто мектептин чатырын толугу менен алмаштыруу жана терезелерин жылуулоо",
  "Балдар бакчасынын короосуна жаңы оюн аянтчасын куруу жана көлөкө үчүн дарак отургузуу",
  "Борбордук көчөлөргө күн панелдүү чырактарды орнотуу жана эски зымдарды алмаштыруу",
  "Жаңы-Жер кыштагына ичүүчү суу түтүгүн өткөрүү жана суу сактагычты оңдоо иштери",
  "Маданият үйүнүн көрүү залын оңдоп, үн күчөткүч жабдууларды сатып алуу",
  "Стадиондун жанына жаштар үчүн ачык спорт аянтчасын жана машыгуу жабдууларын коюу",
  "Дарыянын үстүндөгү көпүрөнү калыбына келтирүү жана кыштакка чейинки жолду шагылдоо",
  "Таштандыларды чыгаруу үчүн контейнерлерди жана атайын унааны сатып алуу маселеси",
  "Фельдшердик-акушердик пунктка медициналык жабдууларды жана дары-дармектерди алуу",
  "Мектептеги жаштар үчүн компьютер классын ачып, интернетке туташтыруу жана окутуу",
];

function tenLongOptions(): ChartInput {
  return {
    title:
      "2027-жылы айылдын бюджетинен кайсы демилгелерди биринчи кезекте каржылоо керек деп ойлойсуз?",
    bars: LONG_KY_LABELS.map((label, i) => ({
      label,
      count: 1000 + i * 1111,
      percent: 10 + i * 9,
    })),
    footer:
      "11 084 адам добуш берди · Добуш берүү аяктады: 2026-ж., 23-ноябрь 14:30 (Бишкек убактысы)",
    locale: "ky",
  };
}

/** The width and height in a PNG's IHDR chunk (right after the 8-byte signature). */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function svgHeight(svg: string): number {
  const m = /<svg[^>]*\sheight="(\d+)"/.exec(svg);
  if (!m) throw new Error("no height on <svg>");
  return Number(m[1]);
}

/** Every <text> element of an SVG, as written. */
function textElements(svg: string): string[] {
  return svg.match(/<text\b[^>]*>[^<]*<\/text>/g) ?? [];
}

/** What resvg says one element covers, drawn alone at its place in the chart. */
function bboxOf(element: string, height: number) {
  const alone = `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" font-family="DejaVu Sans">${element}</svg>`;
  const box = new Resvg(alone, {
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: "DejaVu Sans" },
  }).getBBox();
  if (!box) throw new Error(`nothing drawn for ${element}`);
  return box;
}

function fontFiles(): string[] {
  return ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) =>
    fileURLToPath(new URL(`../../assets/fonts/${f}`, import.meta.url)),
  );
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The filled bars (not the grey tracks behind them, not the background). */
function barRects(svg: string): Box[] {
  return [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*fill="(#[0-9a-f]+)"/g,
    ),
  ]
    .filter((m) => m[5] === "#3b82f6" || m[5] === "#1e3a8a")
    .map((m) => ({ x: Number(m[1]), y: Number(m[2]), width: Number(m[3]), height: Number(m[4]) }));
}

describe("chart PNG", () => {
  it("is a PNG 1000 px wide and as tall as the SVG says", () => {
    const svg = chartSvg(tenLongOptions());
    const png = renderChartPng(svg);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: svgHeight(svg) });
  });

  it("grows with the number of options", () => {
    const bars = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ label: `Вариант ${i + 1}`, count: i, percent: i }));
    const two = svgHeight(chartSvg({ title: "Q", bars: bars(2), footer: "F" }));
    const ten = svgHeight(chartSvg({ title: "Q", bars: bars(10), footer: "F" }));
    expect(ten).toBeGreaterThan(two + 8 * 50);
    const png = pollChart(poll(), { counts: [3, 1, 0], voters: 4 }, "ky", TZ);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(png).width).toBe(CHART_WIDTH);
  });
});

describe("chart SVG", () => {
  it("escapes user text, so a label cannot break out of its element", () => {
    const svg = chartSvg({
      title: `Q <b> & "quoted"`,
      bars: [
        { label: `a<b & "c" </text><image href="http://x"/>`, count: 1, percent: 50 },
        { label: "'single'", count: 1, percent: 50 },
      ],
      footer: "<footer> & more",
    });
    expect(svg).toContain("a&lt;b &amp; &quot;c&quot; &lt;/text&gt;&lt;image href=&quot;http");
    expect(svg).toContain("Q &lt;b&gt; &amp; &quot;quoted&quot;");
    expect(svg).toContain("&lt;footer&gt; &amp; more");
    expect(svg).not.toMatch(/<image|<b>|<footer>/);
    // Well-formed: resvg parses it and draws every text element.
    expect(() => renderChartPng(svg)).not.toThrow();
    expect(textElements(svg).length).toBeGreaterThanOrEqual(6);
  });

  it("wraps ten long Kyrgyz labels to two lines and keeps all text inside the image", () => {
    const input = tenLongOptions();
    const svg = chartSvg(input);
    const height = svgHeight(svg);
    for (const bar of input.bars) {
      const lines = wrapText(bar.label, { size: 24, weight: "bold" }, CHART_WIDTH - 96, 2);
      expect(lines).toHaveLength(2);
      // The whole label is on the chart, its first word starting a line and its last ending one.
      const words = bar.label.split(" ");
      expect(svg).toMatch(new RegExp(`>${words[0]} `));
      expect(svg).toMatch(new RegExp(` ${words.at(-1)}</text>`));
    }
    // Two lines per label (labels are drawn at 24 px), and no more for one that needs three.
    expect(svg.match(/font-size="24"/g)).toHaveLength(20);
    const tooLong = chartSvg({
      ...input,
      bars: [{ ...input.bars[0]!, label: LONG_KY_LABELS.join(" ") }, ...input.bars.slice(1)],
    });
    expect(tooLong.match(/font-size="24"/g)).toHaveLength(20);
    expect(tooLong).toMatch(/font-size="24"[^>]*>[^<]*…<\/text>/);
    const texts = textElements(svg);
    const boxes = texts.map((t) => bboxOf(t, height));
    for (const [i, box] of boxes.entries()) {
      expect(box.x, texts[i]).toBeGreaterThanOrEqual(40);
      expect(box.x + box.width, texts[i]).toBeLessThanOrEqual(CHART_WIDTH - 40);
      expect(box.y + box.height, texts[i]).toBeLessThanOrEqual(height - 20);
    }
    // No two texts overlap, and no text lies on a bar.
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        expect(overlap(boxes[i]!, boxes[j]!), `${texts[i]} / ${texts[j]}`).toBe(false);
      }
      for (const bar of barRects(svg)) expect(overlap(boxes[i]!, bar), texts[i]).toBe(false);
    }
    expect(barRects(svg)).toHaveLength(10);
  });

  it("cuts what does not fit in two lines with an ellipsis, and splits an over-long word", () => {
    const style = { size: 24, weight: "regular" } as const;
    const lines = wrapText(LONG_KY_LABELS.join(" "), style, 904, 2);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/…$/);
    const word = wrapText("ө".repeat(200), style, 904, 5);
    expect(word.length).toBeGreaterThan(2);
    expect(word.join("")).toBe("ө".repeat(200));
  });

  it("leaves out characters the fonts cannot draw instead of drawing boxes", () => {
    expect(fontHasGlyph(0x1f3eb)).toBe(false); // 🏫
    const svg = chartSvg({
      title: "Q",
      bars: [
        { label: "🏫 Мектеп", count: 1, percent: 100 },
        { label: "Жол\uE000", count: 0, percent: 0 },
      ],
      footer: "F",
    });
    expect(svg).toContain(">Мектеп</text>");
    expect(svg).toContain(">Жол</text>");
  });
});

describe("Kyrgyz letters", () => {
  /** The PNG of one character alone, drawn large by the chart's own renderer and fonts. */
  function glyphImage(ch: string): Buffer {
    return renderChartPng(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="120"><rect width="100%" height="100%" fill="#fff"/><text x="20" y="90" font-size="80" font-family="DejaVu Sans">${ch}</text></svg>`,
    );
  }

  // U+E000 is a private-use code point DejaVu has no glyph for: what a missing letter looks like.
  const missing = glyphImage("\uE000");

  it("draws a missing glyph the same way for any missing character (the check can fail)", () => {
    expect(glyphImage("\uE001").equals(missing)).toBe(true);
    expect(glyphImage("\uE000").equals(glyphImage(" "))).toBe(false);
  });

  it.each(["ө", "ү", "ң", "Ө", "Ү", "Ң"])("renders %s as its own glyph", (ch) => {
    const image = glyphImage(ch);
    expect(image.equals(missing)).toBe(false);
    expect(image.equals(glyphImage(" "))).toBe(false);
    expect(fontHasGlyph(ch.codePointAt(0) ?? 0)).toBe(true);
  });

  it("draws ң and н differently (no fallback to the plain letter)", () => {
    expect(glyphImage("ң").equals(glyphImage("н"))).toBe(false);
    expect(glyphImage("ө").equals(glyphImage("о"))).toBe(false);
    expect(glyphImage("ү").equals(glyphImage("у"))).toBe(false);
  });
});

describe("a poll's chart for a reader", () => {
  const tally: PollTally = { counts: [3, 1, 0], voters: 4 };

  it("shows percentages of the people who voted", () => {
    const input = pollChartInput(poll(), tally, "ky", TZ);
    expect(input.bars.map((b) => b.percent)).toEqual([75, 25, 0]);
    const svg = chartSvg(input);
    expect(svg).toContain(">3 · 75%</text>");
    expect(svg).toContain(">1 · 25%</text>");
    expect(svg).toContain(">0 · 0%</text>");
  });

  it("shows 0% and no NaN when nobody voted", () => {
    expect(percentOf(0, 0)).toBe(0);
    const input = pollChartInput(poll(), { counts: [0, 0, 0], voters: 0 }, "ru", TZ);
    expect(input.bars.map((b) => b.percent)).toEqual([0, 0, 0]);
    const svg = chartSvg(input);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg.match(/>0 · 0%<\/text>/g)).toHaveLength(3);
    // Nobody leads an empty poll: no bar is drawn at all.
    expect(barRects(svg)).toHaveLength(0);
    expect(svg).toContain("Проголосовали 0 человек");
  });

  it("lets multiple-choice percentages add up past 100 and says why", () => {
    const input = pollChartInput(
      poll({ maxChoices: 2 }),
      { counts: [3, 3, 2], voters: 4 },
      "ky",
      TZ,
    );
    expect(input.bars.map((b) => b.percent)).toEqual([75, 75, 50]);
    expect(input.note).toContain("2 жоопко чейин");
    expect(pollChartInput(poll(), tally, "ky", TZ).note).toBeUndefined();
  });

  it("writes a share under 1% as <1%, and groups thousands per language", () => {
    const big: PollTally = { counts: [1083, 1, 0], voters: 1084 };
    expect(chartSvg(pollChartInput(poll(), big, "en", TZ))).toContain(">1 · &lt;1%</text>");
    expect(chartSvg(pollChartInput(poll(), big, "en", TZ))).toContain(">1,083 · 100%</text>");
    expect(chartSvg(pollChartInput(poll(), big, "ru", TZ))).toContain(">1\u00a0083 · 100%</text>");
  });

  it("picks the Russian texts for ru, Kyrgyz for ky, and Kyrgyz else Russian for en", () => {
    const ru = pollChartInput(poll(), tally, "ru", TZ);
    expect(ru.title).toBe("Какой проект профинансируем?");
    expect(ru.bars.map((b) => b.label)).toEqual(["Крыша школы", "Уличные фонари", "Питьевая вода"]);
    const ky = pollChartInput(poll(), tally, "ky", TZ);
    expect(ky.title).toBe("Кайсы долбоорду каржылайбыз?");
    expect(ky.bars[0]?.label).toBe("Мектептин чатыры");
    expect(pollChartInput(poll(), tally, "en", TZ).title).toBe("Кайсы долбоорду каржылайбыз?");
    const ruOnly = poll({
      question: { ru: "Только по-русски?" },
      options: [{ ru: "Да" }, { ru: "Нет" }],
    });
    expect(pollChartInput(ruOnly, { counts: [1, 0], voters: 1 }, "en", TZ).title).toBe(
      "Только по-русски?",
    );
    expect(pollChartInput(ruOnly, { counts: [1, 0], voters: 1 }, "ky", TZ).bars[0]?.label).toBe(
      "Да",
    );
  });

  it("writes turnout with plural forms and the closing time in Bishkek", () => {
    const footer = (voters: number, locale: "ky" | "ru" | "en") =>
      pollChartInput(poll(), { counts: [voters, 0, 0], voters }, locale, TZ).footer;
    expect(footer(1, "ru")).toMatch(
      /^Проголосовал 1 человек · Голосование завершено 23 ноября 2026 г\.? в 14:30/,
    );
    expect(footer(3, "ru")).toMatch(/^Проголосовали 3 человека ·/);
    expect(footer(5, "ru")).toMatch(/^Проголосовали 5 человек ·/);
    expect(footer(21, "ru")).toMatch(/^Проголосовал 21 человек ·/);
    expect(footer(1, "en")).toMatch(/^1 person voted · Voting closed 23 November 2026 at 14:30/);
    expect(footer(1084, "en")).toMatch(/^1,084 people voted ·/);
    expect(footer(5, "ky")).toMatch(/^5 адам добуш берди · Добуш берүү аяктады: .*23.*14:30/);
    expect(footer(5, "ky")).toContain("(Бишкек убактысы)");
  });

  it("says the counts are so far while the poll is still open", () => {
    const open = poll({ status: "open", closedAt: null });
    const now = new Date("2026-11-20T06:00:00Z"); // 12:00 in Bishkek
    const input = pollChartInput(open, tally, "ru", TZ, now);
    expect(input.footer).toMatch(/Промежуточные итоги на 20 ноября 2026 г\.? в 12:00/);
  });
});
