import { describe, expect, it } from "vitest";
import { escapeCell, hearingsCsv } from "../../src/features/hearings/csv";

const at = new Date("2027-06-01T04:05:00Z");

/** A small RFC 4180 reader (quoted fields, doubled quotes, line breaks inside quotes). */
function parse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

describe("hearings CSV", () => {
  const csv = hearingsCsv(
    [
      { type: "rsvp", at, userId: 1, name: "Айгүл", channel: "telegram", answer: "going" },
      { type: "rsvp", at, userId: 2, name: null, channel: "web", answer: "not_going" },
      {
        type: "question",
        at,
        userId: 3,
        name: '=HYPERLINK("x")',
        channel: "telegram",
        text: "+7 сом?",
      },
      {
        type: "question",
        at,
        userId: null,
        name: null,
        channel: null,
        text: 'Дороги, "школа"\nи свет',
      },
      { type: "question", at, userId: 4, name: "\tTab", channel: "web", text: "-1; @SUM(A1)" },
    ],
    "ru",
    "Asia/Bishkek",
  );

  it("starts with a UTF-8 BOM and has localized headers and values", () => {
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    const rows = parse(csv.slice(1)) as string[][];
    expect(rows[0]).toEqual([
      "Тип",
      "Когда (время бишкекское)",
      "Имя",
      "ID пользователя",
      "Канал",
      "Ответ",
      "Вопрос или предложение",
    ]);
    expect(rows[1]).toEqual(["ответ", "2027-06-01 10:05", "Айгүл", "1", "telegram", "приду", ""]);
    expect(rows[2]?.[5]).toBe("не приду");
    expect(rows[4]?.[6]).toBe('Дороги, "школа"\nи свет');
    expect(rows).toHaveLength(6);
  });

  it("escapes cells a spreadsheet would run as formulas", () => {
    const rows = parse(csv.slice(1)) as string[][];
    expect(rows[3]?.[2]).toBe('\'=HYPERLINK("x")');
    expect(rows[3]?.[6]).toBe("'+7 сом?");
    expect(rows[5]?.[2]).toBe("'\tTab");
    expect(rows[5]?.[6]).toBe("'-1; @SUM(A1)");
    expect(escapeCell("@x")).toBe("'@x");
    expect(escapeCell("\rx")).toBe("'\rx");
    expect(escapeCell("обычный")).toBe("обычный");
  });

  it("names the columns in Kyrgyz and English too", () => {
    expect(hearingsCsv([], "ky", "Asia/Bishkek")).toContain("Түрү");
    expect(hearingsCsv([], "en", "Asia/Bishkek")).toContain("Question or proposal");
    expect(hearingsCsv([], "xx", "Asia/Bishkek")).toContain("Тип");
  });
});
