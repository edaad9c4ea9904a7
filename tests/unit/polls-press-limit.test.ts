import { describe, expect, it } from "vitest";
import { PressLimit } from "../../src/features/polls/press-limit";

describe("PressLimit", () => {
  it("lets a person press up to the limit per window, then again in the next window", () => {
    const limit = new PressLimit(3, 1000);
    const at = 10_000;
    expect([1, 2, 3, 4].map(() => limit.take(7, at))).toEqual([true, true, true, false]);
    // Another person has their own window.
    expect(limit.take(8, at + 10)).toBe(true);
    expect(limit.take(7, at + 999)).toBe(false);
    expect(limit.take(7, at + 1000)).toBe(true);
  });

  it("forgets ended windows, so a person is never limited by a window long gone", () => {
    const limit = new PressLimit(1, 1000);
    for (let id = 0; id < 5000; id++) limit.take(id, 0);
    expect(limit.take(1, 500)).toBe(false);
    // A new window much later: the old ones are swept and the person starts afresh.
    expect(limit.take(1, 5000)).toBe(true);
    expect(limit.take(2, 5001)).toBe(true);
    expect(limit.take(2, 5002)).toBe(false);
  });
});
