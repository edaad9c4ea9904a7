/**
 * Text formatting for WhatsApp: the bot writes Telegram HTML; WhatsApp has its own light markup
 * (*bold*, _italic_, ~strike~, `code`, ```block```, "> " quotes) and hard length limits. Pure
 * functions, no I/O.
 */

interface Element {
  tag: string;
  href?: string;
  children: Node[];
}
type Node = string | Element;

/** A tag of Telegram HTML; attribute values may hold ">" inside quotes. */
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;
const ENTITY = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([a-zA-Z]+));/g;
const NAMED_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Tags that mean the same thing in Telegram HTML, folded to one name. */
const CANONICAL: Record<string, string> = {
  strong: "b",
  em: "i",
  ins: "u",
  strike: "s",
  del: "s",
};

function decodeEntities(text: string): string {
  return text.replace(ENTITY, (raw, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name.toLowerCase()] ?? raw;
    const code = dec !== undefined ? Number(dec) : Number.parseInt(hex ?? "", 16);
    // An out-of-range number is left as written rather than thrown on.
    return Number.isInteger(code) && code >= 0 && code <= 0x10ffff
      ? String.fromCodePoint(code)
      : raw;
  });
}

function parse(html: string): Node[] {
  const root: Element = { tag: "", children: [] };
  const stack: Element[] = [root];
  const top = () => stack[stack.length - 1]!;
  const pushText = (text: string) => {
    if (text) top().children.push(decodeEntities(text));
  };
  let last = 0;
  for (const m of html.matchAll(TAG)) {
    pushText(html.slice(last, m.index));
    last = m.index + m[0].length;
    const name = m[2]!.toLowerCase();
    const tag = CANONICAL[name] ?? name;
    if (tag === "br") {
      top().children.push("\n");
    } else if (m[1] === "/") {
      // A close tag closes its open element (and any left open inside it); a stray one is dropped.
      const at = stack.findLastIndex((e, i) => i > 0 && e.tag === tag);
      if (at > 0) stack.length = at;
    } else {
      const href = HREF.exec(m[3] ?? "");
      const el: Element = { tag, children: [] };
      if (href) el.href = decodeEntities(href[1] ?? href[2] ?? href[3] ?? "");
      top().children.push(el);
      stack.push(el);
    }
  }
  pushText(html.slice(last));
  return root.children;
}

/** The plain text of nodes, as code and pre show it (no inner formatting). */
function plain(nodes: Node[]): string {
  return nodes.map((n) => (typeof n === "string" ? n : plain(n.children))).join("");
}

/**
 * Puts `marker` around the text of every line, outside its leading and trailing spaces: WhatsApp
 * ignores "* bold*", and a marker pair does not reliably span a line break. Blank lines stay bare,
 * so no "* *" is ever written.
 */
function wrap(marker: string, text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const m = /^(\s*)(.*?)(\s*)$/s.exec(line)!;
      const core = m[2]!;
      return core ? `${m[1]}${marker}${core}${marker}${m[3]}` : line;
    })
    .join("\n");
}

interface Style {
  bold: boolean;
  italic: boolean;
  strike: boolean;
}

function renderCode(text: string, block: boolean): string {
  if (!text.trim()) return text;
  if (block || text.includes("\n")) return `\`\`\`${text}\`\`\``;
  return wrap("`", text);
}

/** Bare forms of a URL, so that a label that merely repeats its link is not written twice. */
function sameLink(label: string, href: string): boolean {
  const bare = (s: string) =>
    s
      .trim()
      .replace(/^(?:https?:\/\/|mailto:|tel:)/i, "")
      .replace(/\/$/, "")
      .toLowerCase();
  return bare(label) === bare(href);
}

function renderLink(el: Element, style: Style): string {
  const label = renderNodes(el.children, style);
  const href = el.href?.trim();
  // tg:// links (mentions of Telegram users) mean nothing on WhatsApp: keep the name only.
  if (!href || /^tg:/i.test(href)) return label;
  if (!label.trim() || sameLink(plain(el.children), href)) return href;
  return `${label} (${href})`;
}

function renderElement(el: Element, style: Style): string {
  switch (el.tag) {
    case "b":
      return style.bold
        ? renderNodes(el.children, style)
        : wrap("*", renderNodes(el.children, { ...style, bold: true }));
    case "i":
      return style.italic
        ? renderNodes(el.children, style)
        : wrap("_", renderNodes(el.children, { ...style, italic: true }));
    case "s":
      return style.strike
        ? renderNodes(el.children, style)
        : wrap("~", renderNodes(el.children, { ...style, strike: true }));
    case "code":
      return renderCode(plain(el.children), false);
    case "pre":
      return renderCode(plain(el.children), true);
    case "a":
      return renderLink(el, style);
    case "blockquote": {
      const inner = renderNodes(el.children, style).replace(/^\n+|\n+$/g, "");
      return inner
        .split("\n")
        .map((line) => (line ? `> ${line}` : ">"))
        .join("\n");
    }
    default:
      // u, tg-spoiler, span, tg-emoji and anything unknown: WhatsApp has no form for them.
      return renderNodes(el.children, style);
  }
}

function renderNodes(nodes: Node[], style: Style): string {
  let out = "";
  let afterBlock = false;
  for (const node of nodes) {
    const block = typeof node !== "string" && node.tag === "blockquote";
    const piece = typeof node === "string" ? node : renderElement(node, style);
    if (!piece) continue;
    // A quote is a block of its own: it starts and ends on a line break.
    if ((block || afterBlock) && out && !out.endsWith("\n") && !piece.startsWith("\n")) out += "\n";
    out += piece;
    afterBlock = block;
  }
  return out;
}

/**
 * Telegram HTML (the subset the bot writes) → WhatsApp markup: <b> → *…*, <i> → _…_, <s> → ~…~,
 * <code> → `…`, <pre> → ```…```, <blockquote> → "> " lines, <a href="u">label</a> → "label (u)"
 * (just "u" when the label is the link), <u> and spoilers → plain text; entities decoded.
 */
export function htmlToWhatsApp(html: string): string {
  return renderNodes(parse(html), { bold: false, italic: false, strike: false });
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** How far around a cut graphemes are looked at (longer than any emoji sequence in use). */
const GRAPHEME_WINDOW = 64;

/**
 * The length (UTF-16 units) of the longest prefix of `text` that fits in `max` and ends at a
 * grapheme boundary (an emoji or a letter with its accents is never cut), falling back to a
 * code-point boundary for a single oversized grapheme. Never splits a surrogate pair.
 */
function fitLength(text: string, max: number): number {
  if (text.length <= max) return text.length;
  // Graphemes are found near the cut only: segmenting a 4096-character text for one cut is slow.
  const from = Math.max(0, max - GRAPHEME_WINDOW);
  let end = from;
  for (const { index, segment } of graphemes.segment(text.slice(from, max + GRAPHEME_WINDOW))) {
    if (from + index + segment.length > max) break;
    end = from + index + segment.length;
  }
  if (end > 0 && (end > from || from === 0)) return end;
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}

/** Where text may be cut, best first: a paragraph break, a line break, a space. */
const SEPARATORS = ["\n\n", "\n", " "] as const;

/**
 * Where to cut `text` to a first part of at most `max`: the last separator in the window, the
 * kinds tried in order. A cut in the first 30% of the window would leave a tiny part, so it is
 * taken only when no kind of separator lies later.
 */
function cutPoint(text: string, max: number): { end: number; next: number } {
  const hard = fitLength(text, max);
  const window = text.slice(0, hard + 1);
  const find = (minEnd: number) => {
    for (const sep of SEPARATORS) {
      const at = window.lastIndexOf(sep, max);
      if (at >= minEnd && at > 0) return { end: at, next: at + sep.length };
    }
    return undefined;
  };
  return find(Math.floor(max * 0.3)) ?? find(1) ?? { end: hard, next: hard };
}

/**
 * Splits text into parts of at most `max` UTF-16 units: at a paragraph break, else a line break,
 * else a space, else hard (never inside a surrogate pair or an emoji). Parts are trimmed at the
 * cut; empty parts are dropped (so "" → []).
 */
export function splitText(text: string, max: number): string[] {
  if (max < 2) throw new RangeError(`splitText: max must be at least 2, got ${max}`);
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const { end, next } = cutPoint(rest, max);
    const part = rest.slice(0, end).trimEnd();
    if (part) parts.push(part);
    rest = rest.slice(next).replace(/^\n+/, "");
  }
  if (rest.trim()) parts.push(rest);
  return parts;
}

/** Collapses whitespace (titles are one line) and trims. */
function oneLine(label: string): string {
  return label.replace(/\s+/g, " ").trim();
}

/**
 * Shortens a label to `max` characters (UTF-16 units) at a word boundary, ending in "…" (which
 * counts). A word boundary in the first half would waste the title, so then the cut is hard
 * (between graphemes). Whitespace runs become one space.
 */
export function shortenLabel(label: string, max: number): string {
  if (max < 1) throw new RangeError(`shortenLabel: max must be at least 1, got ${max}`);
  const text = oneLine(label);
  if (text.length <= max) return text;
  const room = max - 1;
  const hard = text.slice(0, fitLength(text, room));
  // A space right after the room also counts: the whole word before it fits.
  const space = text.lastIndexOf(" ", room);
  const cut = space >= Math.ceil(room / 2) ? text.slice(0, space) : hard;
  return `${cut.replace(/[\s,.;:\-–—/(]+$/u, "") || hard}…`;
}

/** Titles compared the way people read them: "Чүй" and "чүй" would look like one button. */
const titleKey = (title: string) => title.toLocaleLowerCase();

/**
 * Shortens every label to `max` and keeps them unique: a title already taken gets " 2", " 3"…
 * (the label shortened further so the number fits). An empty label becomes its position (1-based).
 */
export function uniqueTitles(labels: string[], max: number): string[] {
  if (max < 4) throw new RangeError(`uniqueTitles: max must be at least 4, got ${max}`);
  const taken = new Set<string>();
  // The next number to try per title, so that forty "Ооба" do not each count up from 2.
  const nextNumber = new Map<string, number>();
  return labels.map((label, i) => {
    const base = oneLine(label) || String(i + 1);
    const plain = shortenLabel(base, max);
    let title = plain;
    let n = nextNumber.get(titleKey(plain)) ?? 2;
    for (; taken.has(titleKey(title)); n++) {
      const suffix = ` ${n}`;
      title = `${shortenLabel(base, max - suffix.length)}${suffix}`;
    }
    if (title !== plain) nextNumber.set(titleKey(plain), n);
    taken.add(titleKey(title));
    return title;
  });
}
