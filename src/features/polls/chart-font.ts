/**
 * The metrics of the chart's fonts (the DejaVu files shipped in assets/fonts/), read from their
 * TrueType tables: each character's advance width (hmtx, through the Unicode cmap) for line
 * breaking, and which characters the fonts draw at all. resvg renders with the same files.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FONT_FILES = {
  regular: fileURLToPath(new URL("../../../assets/fonts/DejaVuSans.ttf", import.meta.url)),
  bold: fileURLToPath(new URL("../../../assets/fonts/DejaVuSans-Bold.ttf", import.meta.url)),
} as const;

export type Weight = keyof typeof FONT_FILES;

/** The family inside both files: what the SVG names and resvg falls back to. */
export const FONT_FAMILY = "DejaVu Sans";

/** What line breaking needs from a font: each character's advance width, in font units. */
interface FontMetrics {
  unitsPerEm: number;
  /** Code point → glyph index; absent: the font has no glyph (resvg would draw a box). */
  glyphs: Map<number, number>;
  advances: number[];
}

/** The offsets of a TrueType file's tables by tag ("cmap", "hmtx", …). */
function tableOffsets(font: Buffer): Map<string, number> {
  const offsets = new Map<string, number>();
  const count = font.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const record = 12 + 16 * i;
    offsets.set(font.toString("latin1", record, record + 4), font.readUInt32BE(record + 8));
  }
  return offsets;
}

function table(offsets: Map<string, number>, tag: string): number {
  const at = offsets.get(tag);
  if (at === undefined) throw new Error(`font has no ${tag} table`);
  return at;
}

/**
 * The Unicode cmap (platform 3, encoding 10, format 12: groups of consecutive code points).
 * DejaVu has it; a font without it is refused loudly rather than measured wrongly.
 */
function readGlyphs(font: Buffer, cmap: number): Map<number, number> {
  const subtables = font.readUInt16BE(cmap + 2);
  for (let i = 0; i < subtables; i++) {
    const record = cmap + 4 + 8 * i;
    const sub = cmap + font.readUInt32BE(record + 4);
    const full = font.readUInt16BE(record) === 3 && font.readUInt16BE(record + 2) === 10;
    if (!full || font.readUInt16BE(sub) !== 12) continue;
    const glyphs = new Map<number, number>();
    const groups = font.readUInt32BE(sub + 12);
    for (let g = 0; g < groups; g++) {
      const group = sub + 16 + 12 * g;
      const [first, last, glyph] = [0, 4, 8].map((o) => font.readUInt32BE(group + o)) as [
        number,
        number,
        number,
      ];
      for (let cp = first; cp <= last; cp++) glyphs.set(cp, glyph + cp - first);
    }
    return glyphs;
  }
  throw new Error("font has no format 12 Unicode cmap");
}

function readMetrics(path: string): FontMetrics {
  const font = readFileSync(path);
  const offsets = tableOffsets(font);
  const longMetrics = font.readUInt16BE(table(offsets, "hhea") + 34);
  const hmtx = table(offsets, "hmtx");
  const advances = Array.from({ length: longMetrics }, (_, i) => font.readUInt16BE(hmtx + 4 * i));
  return {
    unitsPerEm: font.readUInt16BE(table(offsets, "head") + 18),
    glyphs: readGlyphs(font, table(offsets, "cmap")),
    advances,
  };
}

const metricsCache = new Map<Weight, FontMetrics>();

/** Read once per process (a few milliseconds), on the first chart. */
function metrics(weight: Weight): FontMetrics {
  let m = metricsCache.get(weight);
  if (!m) {
    m = readMetrics(FONT_FILES[weight]);
    metricsCache.set(weight, m);
  }
  return m;
}

/** Whether both fonts draw this character (else resvg would draw a missing-glyph box). */
export function fontHasGlyph(codePoint: number): boolean {
  return metrics("regular").glyphs.has(codePoint) && metrics("bold").glyphs.has(codePoint);
}

/**
 * The width of a line in pixels. Kerning is ignored: it only ever narrows DejaVu's pairs, so
 * a line measured here is never wider on the image.
 */
export function textWidth(text: string, size: number, weight: Weight): number {
  const m = metrics(weight);
  let units = 0;
  for (const ch of text) {
    const glyph = m.glyphs.get(ch.codePointAt(0) ?? 0) ?? 0;
    // Glyphs past the long metrics share the last advance (TrueType's monospaced tail).
    units += m.advances[Math.min(glyph, m.advances.length - 1)] ?? 0;
  }
  return (units * size) / m.unitsPerEm;
}
