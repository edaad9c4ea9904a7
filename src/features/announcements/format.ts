import type { MessageEntity } from "grammy/types";
import { escapeHtml } from "../../i18n";

/**
 * How a staff member's text becomes the announcement residents receive. One rule everywhere
 * (preview, Telegram, web chat): what they typed is shown exactly as typed — `<b>` typed as
 * characters stays `<b>` — and the formatting they applied in their messenger (bold, italic, a
 * link… Telegram sends it as message entities, not as markup) is kept, as Telegram HTML.
 */

/** A typed text and the formatting entities the messenger sent with it. */
export interface FormattedText {
  text: string;
  entities?: readonly MessageEntity[];
}

function escapeAttribute(value: string): string {
  return escapeHtml(value).replace(/"/g, "&quot;");
}

/** Opening and closing tags for an entity; undefined for entities that are not formatting. */
function tagsOf(e: MessageEntity): [string, string] | undefined {
  switch (e.type) {
    case "bold":
      return ["<b>", "</b>"];
    case "italic":
      return ["<i>", "</i>"];
    case "underline":
      return ["<u>", "</u>"];
    case "strikethrough":
      return ["<s>", "</s>"];
    case "spoiler":
      return ["<tg-spoiler>", "</tg-spoiler>"];
    case "code":
      return ["<code>", "</code>"];
    case "pre":
      return e.language
        ? [`<pre><code class="language-${escapeAttribute(e.language)}">`, "</code></pre>"]
        : ["<pre>", "</pre>"];
    case "blockquote":
      return ["<blockquote>", "</blockquote>"];
    case "expandable_blockquote":
      return ["<blockquote expandable>", "</blockquote>"];
    case "text_link":
      // Only web links: a tg:// or javascript: link has no business in an announcement.
      return /^https?:\/\//i.test(e.url)
        ? [`<a href="${escapeAttribute(e.url)}">`, "</a>"]
        : undefined;
    default:
      // Mentions, hashtags, URLs and the like are recognised by the recipient's app anyway.
      return undefined;
  }
}

/** Renders text[start, end) with the entities inside it (sorted: by offset, outer first). */
function render(text: string, entities: readonly MessageEntity[], start: number, end: number) {
  let out = "";
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const e = entities[i]!;
    // Telegram nests entities properly; anything overlapping is clipped rather than trusted.
    const from = Math.max(e.offset, pos);
    const to = Math.min(e.offset + e.length, end);
    let j = i + 1;
    while (j < entities.length && entities[j]!.offset < to) j++;
    if (to > from) {
      out += escapeHtml(text.slice(pos, from));
      const inner = render(text, entities.slice(i + 1, j), from, to);
      const tags = tagsOf(e);
      out += tags ? `${tags[0]}${inner}${tags[1]}` : inner;
      pos = to;
    }
    i = to > from ? j : i + 1;
  }
  return out + escapeHtml(text.slice(pos, end));
}

/** Telegram HTML for a typed text: the characters escaped, the messenger's formatting kept. */
export function toHtml({ text, entities = [] }: FormattedText): string {
  const sorted = [...entities]
    .filter((e) => e.length > 0 && e.offset >= 0 && e.offset < text.length)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  return render(text, sorted, 0, text.length);
}

/** Trims surrounding white space, moving the entities with the text. */
export function trimFormatted({ text, entities = [] }: FormattedText): FormattedText {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const moved: MessageEntity[] = [];
  for (const e of entities) {
    const from = Math.max(e.offset - lead, 0);
    const to = Math.min(e.offset - lead + e.length, trimmed.length);
    if (to > from) moved.push({ ...e, offset: from, length: to - from });
  }
  return moved.length > 0 ? { text: trimmed, entities: moved } : { text: trimmed };
}
