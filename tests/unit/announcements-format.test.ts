import { describe, expect, it } from "vitest";
import { visibleText } from "../../src/delivery";
import { toHtml, trimFormatted } from "../../src/features/announcements/format";

describe("a staff member's text as Telegram HTML", () => {
  it("escapes what was typed and keeps the messenger's formatting, nested", () => {
    const text = "Жыйын <b>эртең</b> саат 10:00до & бүтүн күн";
    expect(toHtml({ text })).toBe("Жыйын &lt;b&gt;эртең&lt;/b&gt; саат 10:00до &amp; бүтүн күн");
    expect(
      toHtml({
        text: "bold italic plain",
        entities: [
          { type: "bold", offset: 0, length: 11 },
          { type: "italic", offset: 5, length: 6 },
        ],
      }),
    ).toBe("<b>bold <i>italic</i></b> plain");
  });

  it("writes links, code, spoilers and quotes; drops what is not formatting or not safe", () => {
    const text = "see site, x = 1, secret, @someone, bad";
    expect(
      toHtml({
        text,
        entities: [
          { type: "text_link", offset: 4, length: 4, url: 'https://a.kg/?q="1"&b' },
          { type: "code", offset: 10, length: 5 },
          { type: "spoiler", offset: 17, length: 6 },
          { type: "mention", offset: 25, length: 8 },
          { type: "text_link", offset: 35, length: 3, url: "javascript:alert(1)" },
        ],
      }),
    ).toBe(
      'see <a href="https://a.kg/?q=&quot;1&quot;&amp;b">site</a>, <code>x = 1</code>, ' +
        "<tg-spoiler>secret</tg-spoiler>, @someone, bad",
    );
    expect(
      toHtml({ text: "x<y", entities: [{ type: "pre", offset: 0, length: 3, language: "ts" }] }),
    ).toBe('<pre><code class="language-ts">x&lt;y</code></pre>');
  });

  it("clips entities that overlap instead of writing broken markup", () => {
    const html = toHtml({
      text: "abcdef",
      entities: [
        { type: "bold", offset: 0, length: 4 },
        { type: "italic", offset: 2, length: 4 },
      ],
    });
    expect(html).toBe("<b>ab<i>cd</i></b>ef");
    expect(visibleText(html)).toBe("abcdef");
  });

  it("moves entities along when the text is trimmed (offsets count UTF-16 units)", () => {
    const trimmed = trimFormatted({
      text: "  📢 Маанилүү  ",
      entities: [{ type: "bold", offset: 5, length: 8 }],
    });
    expect(trimmed).toEqual({
      text: "📢 Маанилүү",
      entities: [{ type: "bold", offset: 3, length: 8 }],
    });
    expect(toHtml(trimmed)).toBe("📢 <b>Маанилүү</b>");
  });

  it("counts what a reader sees", () => {
    expect(visibleText("<b>a</b> &lt;b&gt; &amp; &quot;x&quot; &#1046;")).toBe('a <b> & "x" Ж');
  });
});
