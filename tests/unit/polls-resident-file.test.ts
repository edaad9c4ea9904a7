import { describe, expect, it } from "vitest";
import {
  PHONE_COLUMN_NAMES,
  parseResidentFile,
  RESIDENT_FILE_LIMITS,
} from "../../src/features/polls/resident-file";
import { PollError } from "../../src/features/polls/types";

/** The PollError a file is refused with (fails the test when it is accepted). */
function refusal(input: string | Uint8Array): PollError {
  try {
    parseResidentFile(input);
  } catch (error) {
    if (error instanceof PollError) return error;
    throw error;
  }
  throw new Error("the file was accepted");
}

describe("parseResidentFile: reading numbers", () => {
  it("reads a comma-separated file, other columns ignored", () => {
    const file =
      "name,phone,street\nAsel,0555 123 456,Lenina 1\nBakyt,+996 700 123 456,Toktogula 2\n";
    expect(parseResidentFile(file)).toEqual({
      phones: ["+996555123456", "+996700123456"],
      rows: 2,
    });
  });

  it("reads what Excel writes in a Russian locale: semicolons, BOM, CRLF, Russian header", () => {
    const file =
      "\uFEFFФИО;Номер телефона;Адрес\r\nИванов И.;0 (555) 12-34-56;ул. Мира, 5\r\nАсанова А.;0770123456;\r\n";
    expect(parseResidentFile(file).phones).toEqual(["+996555123456", "+996770123456"]);
  });

  it("reads tab-separated text", () => {
    const file = "Аты-жөнү\tТелефон номери\nАйбек\t555123456\nНурай\t00996990123456\n";
    expect(parseResidentFile(file).phones).toEqual(["+996555123456", "+996990123456"]);
  });

  it("reads a one-column file", () => {
    expect(parseResidentFile("Phone\n0555123456\n0700123456\n").phones).toEqual([
      "+996555123456",
      "+996700123456",
    ]);
  });

  it("reads bytes: UTF-8 with a BOM, UTF-16 (Excel's Unicode text) and Windows-1251", () => {
    const text = "ФИО;Телефон\nАсанов;0555123456\n";
    const utf8 = new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(text, "utf8")]);
    expect(parseResidentFile(utf8).phones).toEqual(["+996555123456"]);
    const utf16 = new Uint8Array([
      0xff,
      0xfe,
      ...Buffer.from(text.replace(";", "\t").replace(";", "\t"), "utf16le"),
    ]);
    expect(parseResidentFile(utf16).phones).toEqual(["+996555123456"]);
    // "Тел;ФИО" in Windows-1251, as Excel's "CSV (разделители - точка с запятой)" saves it.
    const cp1251 = new Uint8Array([
      0xd2,
      0xe5,
      0xeb,
      0x3b,
      0xd4,
      0xc8,
      0xce,
      0x0a,
      ...Buffer.from("0555123456;x\n", "ascii"),
    ]);
    expect(parseResidentFile(cp1251).phones).toEqual(["+996555123456"]);
  });

  it("finds the phone column in any case and spacing", () => {
    for (const header of [
      "  PHONE  ",
      "Phone Number",
      "ТЕЛЕФОН",
      "Тел.",
      "телефону",
      "Телефон:",
      "Mobile",
    ]) {
      expect(parseResidentFile(`id,${header}\n1,0555123456\n`).phones).toEqual(["+996555123456"]);
    }
    expect(PHONE_COLUMN_NAMES).toContain("номер телефона");
  });

  it("reads every phone column and every number of a cell", () => {
    const file = 'ФИО;Телефон;Мобильный\nА;0555123456;"0700123456, 0770 123 456"\nБ;;0990123456\n';
    expect(parseResidentFile(file).phones).toEqual([
      "+996555123456",
      "+996700123456",
      "+996770123456",
      "+996990123456",
    ]);
  });

  it("de-duplicates numbers written differently", () => {
    const file = "phone\n0555123456\n+996 555 123 456\n555-12-34-56\n0700123456\n";
    expect(parseResidentFile(file)).toEqual({
      phones: ["+996555123456", "+996700123456"],
      rows: 4,
    });
  });

  it("skips empty lines and rows with every cell empty (Excel's trailing ;;;)", () => {
    const file = "\n\nname;phone\n\nA;0555123456\n;;\n\n   \nB;0700123456\n;\n";
    expect(parseResidentFile(file)).toEqual({
      phones: ["+996555123456", "+996700123456"],
      rows: 2,
    });
  });
});

describe("parseResidentFile: refusals", () => {
  it("reports every bad row by the line a text editor shows (the header is line 1)", () => {
    const file = [
      "name,phone", // 1
      "A,0555123456", // 2
      "B,12345", // 3
      "C,0700123456", // 4
      "", // 5 (skipped)
      "D,call me", // 6
      "E,", // 7: a resident without a number
      "F,0770123456", // 8
      "G,+7 000 000 00 00", // 9
    ].join("\n");
    const error = refusal(file);
    expect(error.code).toBe("resident_file_bad_rows");
    expect(error.params).toEqual({ lines: "3, 6, 7, 9", count: 4 });
  });

  it("counts lines of a quoted cell that spans several lines", () => {
    const file = 'name,note,phone\nA,"two\nlines",0555123456\nB,x,bad\n';
    expect(refusal(file).params).toEqual({ lines: "4", count: 1 });
  });

  it("lists the first ten bad lines and counts them all", () => {
    const rows = Array.from({ length: 25 }, (_, i) => `R${i},${i % 2 ? "0555123456" : "nope"}`);
    const error = refusal(["name,phone", ...rows].join("\n"));
    expect(error.code).toBe("resident_file_bad_rows");
    expect(error.params).toEqual({ lines: "2, 4, 6, 8, 10, 12, 14, 16, 18, 20, …", count: 13 });
  });

  it("reports a row with an unclosed quote", () => {
    const error = refusal('name;phone\nA;0555123456\n\n"B;0700123456\n');
    expect(error.code).toBe("resident_file_bad_rows");
    expect(error.params.lines).toBe("4");
  });

  it("says which columns it found when none is a phone column", () => {
    const error = refusal("\uFEFFФИО;Адрес;Дата рождения\nА;Б;1990\n");
    expect(error.code).toBe("resident_file_no_phone_column");
    expect(error.params).toEqual({ columns: "ФИО, Адрес, Дата рождения" });
  });

  it("does not take a bare 'номер' (a row number) for the phone column", () => {
    expect(refusal("№;номер;ФИО\n1;0555123456;А\n").code).toBe("resident_file_no_phone_column");
  });

  it("refuses an empty file, a header alone and blank lines", () => {
    for (const file of ["", "\uFEFF", "\n\n  \n", "phone\n", "phone;name\n;;\n\n"]) {
      expect(refusal(file).code).toBe("resident_file_empty");
    }
    expect(refusal(new Uint8Array()).code).toBe("resident_file_empty");
  });

  it("refuses a file over the size or row limit before reading it all", () => {
    const big = new Uint8Array(RESIDENT_FILE_LIMITS.maxBytes + 1).fill(0x30);
    expect(refusal(big).code).toBe("resident_file_too_big");
    const many = `phone\n${"0555123456\n".repeat(RESIDENT_FILE_LIMITS.maxRows + 1)}`;
    const error = refusal(many);
    expect(error.code).toBe("resident_file_too_big");
    expect(error.params).toEqual({ max_mb: 5, max_rows: 200_000 });
  });

  it("takes exactly the row limit", () => {
    const rows = Array.from(
      { length: RESIDENT_FILE_LIMITS.maxRows },
      (_, i) => `0555${String(i).padStart(6, "0")}`,
    );
    const parsed = parseResidentFile(`phone\n${rows.join("\n")}\n`);
    expect(parsed.rows).toBe(RESIDENT_FILE_LIMITS.maxRows);
    expect(parsed.phones.length).toBe(RESIDENT_FILE_LIMITS.maxRows);
  });
});
