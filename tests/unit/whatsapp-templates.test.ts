import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadTemplates,
  parseTemplates,
  TemplateFileError,
  templateParameterText,
  WhatsAppTemplates,
} from "../../src/channels/whatsapp/templates";
import type { WaTemplate } from "../../src/channels/whatsapp/types";
import type { MessageKind } from "../../src/db/schema";
import { MESSAGE_KINDS } from "../../src/db/schema";
import {
  type MessageContent,
  type RenderedMessage,
  renderForRecipient,
  validateContent,
} from "../../src/delivery/content";
import { contentOf } from "../../src/features/announcements/service";
import { answerContent } from "../../src/features/faq/escalation";
import {
  cancelledContent,
  changedContent,
  noticeContent,
  reminderContent,
  rescheduledContent,
} from "../../src/features/hearings/notices";
import type { HearingRow } from "../../src/features/hearings/schema";
import { openingContent, resultContent } from "../../src/features/polls/notices";
import type { PollRow } from "../../src/features/polls/schema";

const EXAMPLE = join(__dirname, "../../config/whatsapp-templates.example.json");

/** The problems parseTemplates reports for `json` (fails the test when it accepts it). */
function problemsOf(json: unknown): string[] {
  try {
    parseTemplates(json, "WHATSAPP_TEMPLATES");
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateFileError);
    return (error as TemplateFileError).problems;
  }
  throw new Error("the template file was accepted");
}

const valid = {
  name: "aimak_hearing_notice",
  language: { ky: "ky_KG", ru: "ru", en: "en_US" },
  body: ["title", "date", "place"],
};

function parameters(template: WaTemplate | undefined, type: "header" | "body"): string[] {
  return template?.components?.find((c) => c.type === type)?.parameters.map((p) => p.text) ?? [];
}

describe("the template file", () => {
  it("accepts the example file, which covers every proactive kind", async () => {
    const templates = await loadTemplates(EXAMPLE);
    // Every kind that reaches people except "system" (staff alerts go only inside the window).
    expect(templates.kinds()).toEqual(MESSAGE_KINDS.filter((kind) => kind !== "system"));
    expect(templates.has("system")).toBe(false);
    expect(templates.spec("hearing_notice")?.language).toEqual({ ky: "ky_KG", ru: "ru", en: "en" });
  });

  it("names the path of every problem, one line each", () => {
    const problems = problemsOf({
      hearing_notice: { ...valid, body: ["title", "Place!"] },
      hearing_notic: valid,
      poll_opened: { language: { ky: "ky_KG", fr: "fr", ru: "russian" }, body: "question" },
      poll_result: { name: "aimak_poll_result", language: {}, header: ["a", "b"], bdy: [] },
      faq_answer: "aimak_faq_answer",
      _comment: "ignored",
    });
    expect(problems).toEqual([
      'WHATSAPP_TEMPLATES: hearing_notice.body[1]: must be "text" or a parameter name (a-z and _, at most 32)',
      "WHATSAPP_TEMPLATES: hearing_notic: unknown message kind (one of announcement, hearing_notice, hearing_reminder, hearing_minutes, hearing_update, hearing_nudge, poll_opened, poll_result, faq_answer, faq_escalation, faq_reminder, system)",
      "WHATSAPP_TEMPLATES: poll_opened.name: is missing",
      "WHATSAPP_TEMPLATES: poll_opened.language.fr: is not a locale of Aimak (ky, ru, en)",
      'WHATSAPP_TEMPLATES: poll_opened.language.ru: must be a Meta language code like "ky_KG", "ru" or "en_US"',
      "WHATSAPP_TEMPLATES: poll_opened.body: must be a list of parameter names",
      "WHATSAPP_TEMPLATES: poll_result.bdy: unknown key (one of name, language, header, body)",
      "WHATSAPP_TEMPLATES: poll_result.language: needs a code for at least one of ky, ru, en",
      "WHATSAPP_TEMPLATES: poll_result.header: a header takes at most one parameter",
      "WHATSAPP_TEMPLATES: faq_answer: must be an object with name, language and body",
    ]);
    for (const p of problems) expect(p).not.toContain("\n");
  });

  it("refuses a missing language, a bad template name and a file that is not an object", () => {
    expect(problemsOf({ announcement: { name: "aimak_announcement" } })).toEqual([
      "WHATSAPP_TEMPLATES: announcement.language: is missing",
    ]);
    expect(problemsOf({ announcement: { ...valid, name: "Aimak Announcement" } })).toEqual([
      "WHATSAPP_TEMPLATES: announcement.name: must be the template's name in WhatsApp Manager (a-z, 0-9, _)",
    ]);
    expect(problemsOf([valid])).toEqual([
      'WHATSAPP_TEMPLATES: must be an object of templates by message kind (e.g. "hearing_notice")',
    ]);
  });

  it("says which file cannot be read or is not JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aimak-templates-"));
    const missing = join(dir, "missing.json");
    await expect(loadTemplates(missing)).rejects.toThrow(
      `WHATSAPP_TEMPLATES (${missing}): cannot read the file (ENOENT)`,
    );
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{ "announcement": ');
    await expect(loadTemplates(broken)).rejects.toThrow(
      new RegExp(`^WHATSAPP_TEMPLATES \\(${broken.replace(/[.\\/]/g, "\\$&")}\\): not valid JSON`),
    );
    const wrong = join(dir, "wrong.json");
    writeFileSync(wrong, JSON.stringify({ announcement: { ...valid, body: ["TEXT"] } }));
    await expect(loadTemplates(wrong)).rejects.toBeInstanceOf(TemplateFileError);
  });
});

describe("building a template message", () => {
  const templates = parseTemplates(
    {
      hearing_notice: { ...valid, header: ["municipality"] },
      announcement: { name: "aimak_announcement", language: { ru: "ru" }, body: ["text"] },
      system: { name: "aimak_ping", language: { en: "en" } },
    },
    "test",
  );
  const rendered: RenderedMessage = {
    text: "<b>Слушание</b>",
    parseMode: "HTML",
    templateParams: {
      title: "Бюджет",
      date: "11 марта 2030 г., 10:00",
      municipality: "Айыл окмоту",
    },
  };

  it("fills header and body in order, a missing parameter with a dash", () => {
    expect(templates.build("hearing_notice", "ru", rendered)).toEqual({
      name: "aimak_hearing_notice",
      language: { code: "ru" },
      components: [
        { type: "header", parameters: [{ type: "text", text: "Айыл окмоту" }] },
        {
          type: "body",
          parameters: [
            { type: "text", text: "Бюджет" },
            { type: "text", text: "11 марта 2030 г., 10:00" },
            { type: "text", text: "—" },
          ],
        },
      ],
    });
    expect(templates.build("hearing_reminder", "ru", rendered)).toBeUndefined();
    expect(WhatsAppTemplates.none.build("hearing_notice", "ru", rendered)).toBeUndefined();
    expect(WhatsAppTemplates.none.kinds()).toEqual([]);
    // A template without parameters has no components.
    expect(templates.build("system", "ky", { text: "ping" })).toEqual({
      name: "aimak_ping",
      language: { code: "en" },
    });
  });

  it("picks the reader's language, else ky, ru, en", () => {
    const code = (kind: MessageKind, locale: string | null) =>
      templates.build(kind, locale, rendered)?.language.code;
    expect(code("hearing_notice", "en")).toBe("en_US");
    expect(code("hearing_notice", "ky")).toBe("ky_KG");
    expect(code("hearing_notice", null)).toBe("ky_KG");
    expect(code("hearing_notice", "de")).toBe("ky_KG");
    expect(code("announcement", "ky")).toBe("ru");
  });

  it("uses the visible text for text: no markup, entities decoded, on one line", () => {
    const html: RenderedMessage = {
      text: "📢 <b>Айыл окмоту</b>\n\nВода &lt;горячая&gt; &amp; холодная\n\n\tс 10:00      до 12:00",
      parseMode: "HTML",
    };
    expect(parameters(templates.build("announcement", "ru", html), "body")).toEqual([
      "📢 Айыл окмоту · Вода <горячая> & холодная · с 10:00 до 12:00",
    ]);
    // A plain text is taken as written: "<b>" typed by someone stays.
    const plain: RenderedMessage = { text: "Тег <b> как есть" };
    expect(parameters(templates.build("announcement", "ru", plain), "body")).toEqual([
      "Тег <b> как есть",
    ]);
  });
});

describe("templateParameterText", () => {
  it("makes any value legal for Meta", () => {
    expect(templateParameterText("  a\r\n\r\nb\tc     d \u2028 e ")).toBe("a · b c d · e");
    expect(templateParameterText(" \n\t ")).toBe("—");
    expect(templateParameterText("")).toBe("—");
    for (const value of ["x\ny", "x\ty", "x      y", " x "]) {
      const text = templateParameterText(value);
      expect(text).not.toMatch(/[\n\t]| {5}/);
      expect(text).toBe(text.trim());
    }
  });

  it("cuts a long value at a word with an ellipsis, and a long word hard", () => {
    const words = "слово ".repeat(300);
    const cut = templateParameterText(words);
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect(cut).toMatch(/слово…$/);
    expect(templateParameterText("a".repeat(2000), 60)).toBe(`${"a".repeat(59)}…`);
    // Never half of an emoji.
    const emoji = templateParameterText(`${"a".repeat(58)}😀😀`, 60);
    expect(emoji).toBe(`${"a".repeat(58)}…`);
    expect(emoji).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it("keeps a header parameter within Meta's 60 characters", () => {
    const header = parseTemplates(
      { announcement: { name: "a", language: { ru: "ru" }, header: ["municipality"] } },
      "test",
    ).build("announcement", "ru", {
      text: "",
      templateParams: { municipality: "Союз ".repeat(30) },
    });
    const [value] = parameters(header, "header");
    expect(value?.length).toBeLessThanOrEqual(60);
    expect(value).toMatch(/Союз…$/);
  });
});

describe("the example file and the features' messages", () => {
  const START = new Date("2030-06-12T04:00:00Z");
  const now = new Date("2030-06-01T04:00:00Z");
  const sender = {
    ky: "Ала-Тоо айыл өкмөтү",
    ru: "Айыл окмоту Ала-Тоо",
    en: "Ala-Too Aiyl Okmotu",
  };
  const ctx = { sender, publicUrl: "https://aimak.example", timezone: "Asia/Bishkek" };
  const hearing: HearingRow = {
    id: 5,
    municipalityId: 1,
    kind: "draft_budget",
    status: "published",
    title: { ru: "Бюджет <2031> & план" },
    agenda: { ru: "1. Доходы\n2. Расходы" },
    startsAt: START,
    durationMin: 90,
    place: { ky: "Клуб", ru: "Клуб" },
    onlineUrl: null,
    documents: [],
    reminderOffsets: [1440],
    sequence: 0,
    cancelReason: "Нет кворума",
    minutesText: null,
    minutesDocument: null,
    createdByUserId: null,
    publishedAt: now,
    cancelledAt: null,
    heldAt: null,
    minutesPublishedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const poll: PollRow = {
    id: 9,
    municipalityId: 1,
    question: { ky: "Кайсы көчө?", ru: "Какая улица?" },
    options: [{ ru: "Ленина" }, { ru: "Токтогула" }],
    maxChoices: 1,
    audience: "subscribers",
    liveResults: false,
    status: "open",
    opensAt: now,
    closesAt: START,
    createdByUserId: null,
    openedAt: now,
    closedAt: null,
    cancelledAt: null,
    burstWarnedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const messages: [MessageKind, MessageContent][] = [
    ["announcement", contentOf({ municipalityId: 1, text: { ru: "Воду отключат" } }, sender)],
    ["hearing_notice", noticeContent(hearing, ctx)],
    ["hearing_reminder", reminderContent(hearing, 1440, ctx)],
    ["hearing_update", changedContent(hearing, ctx)],
    [
      "hearing_update",
      rescheduledContent(
        hearing,
        { startsAt: new Date(START.getTime() - 86_400_000), durationMin: 90 },
        ctx,
      ),
    ],
    ["hearing_update", cancelledContent(hearing, ctx)],
    ["poll_opened", openingContent(poll, { sender, timezone: "Asia/Bishkek" })],
    [
      "poll_result",
      resultContent(poll, { counts: [3, 1], voters: 4 }, { sender, timezone: "Asia/Bishkek" }),
    ],
    [
      "faq_answer",
      answerContent({ text: "Как получить справку?", lang: "ru" }, "В айыл окмоту.", "ru"),
    ],
  ];

  it("has every parameter the example file names, in plain text, in each language", async () => {
    const templates = await loadTemplates(EXAMPLE);
    for (const [kind, content] of messages) {
      expect(() => validateContent(content), kind).not.toThrow();
      for (const locale of ["ky", "ru", "en"] as const) {
        const template = templates.build(kind, locale, renderForRecipient(content, locale));
        const values = [...parameters(template, "header"), ...parameters(template, "body")];
        expect(values.length, `${kind} ${locale}`).toBeGreaterThan(0);
        for (const value of values) {
          expect(value, `${kind} ${locale}`).not.toBe("—");
          expect(value, `${kind} ${locale}`).not.toMatch(/<\/?[a-z]+>|&(?:lt|gt|amp);|\n/);
        }
      }
    }
  });

  it("fills a hearing notice with its facts", async () => {
    const templates = await loadTemplates(EXAMPLE);
    const ru = renderForRecipient(noticeContent(hearing, ctx), "ru");
    const template = templates.build("hearing_notice", "ru", ru);
    expect(template?.language.code).toBe("ru");
    expect(parameters(template, "header")).toEqual(["Айыл окмоту Ала-Тоо"]);
    const [headline, title, date, place] = parameters(template, "body");
    expect(headline).toBe("Публичные слушания по проекту местного бюджета");
    expect(title).toBe("Бюджет <2031> & план");
    expect(ru.text).toContain(date);
    expect(place).toBe("Клуб");
    const cancelled = renderForRecipient(cancelledContent(hearing, ctx), "en");
    expect(parameters(templates.build("hearing_update", "en", cancelled), "body")[0]).toBe(
      "The hearing has been cancelled. Reason: Нет кворума",
    );
  });
});
