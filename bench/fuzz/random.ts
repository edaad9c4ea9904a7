import { rng } from "../lib/random";

/** A seeded source of random choices: the same seed gives the same inputs in the same order. */
export class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** One of `choices` by weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [w, value] of choices) {
      roll -= w;
      if (roll < 0) return value;
    }
    return choices[choices.length - 1]?.[1] as T;
  }
  /** Printable ASCII without quotes: what may stand in an HTTP header. */
  headerJunk(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += String.fromCharCode(this.int(0x21, 0x7e));
    return out;
  }
  /** A string of `length` characters drawn from awkward corners of Unicode and ASCII. */
  junk(length: number): string {
    const alphabets = [
      "abcdefghijklmnopqrstuvwxyz0123456789 ",
      "абвгдеёжзийклмнопрстуфхцчшщъыьэюяөүң ",
      "<>&\"'`/\\{}[]$%;:=?#@!*",
      "\u0000\u0001\u0007\u001b\u200b\u200e\u202e\ufeff\ud800",
      "😀👍🏽🇰🇬\u0301\u0308",
    ];
    let out = "";
    for (let i = 0; i < length; i++) {
      const alphabet = this.pick(alphabets);
      out += alphabet[this.int(0, alphabet.length - 1)];
    }
    return out;
  }
}
