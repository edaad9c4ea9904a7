import { describe, expect, it } from "vitest";
import { generateInviteCode, normalizeInviteCode } from "../../src/core/invites";
import { looksLikeInviteCode } from "../../src/features/roles/invite-redemption";

describe("invite codes", () => {
  it("are always recognised when pasted as a message", () => {
    // About 3 % of random codes had no digit and were taken for ordinary text.
    for (let i = 0; i < 3000; i++) {
      const code = generateInviteCode();
      expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(looksLikeInviteCode(code)).toBe(true);
      expect(looksLikeInviteCode(code.toLowerCase().replaceAll("-", " "))).toBe(true);
    }
  });

  it("does not take twelve letters of ordinary text for a code", () => {
    expect(looksLikeInviteCode("kara-balta-aa")).toBe(false);
    expect(looksLikeInviteCode("SOKU LUKA AYIL")).toBe(false);
    expect(normalizeInviteCode(" k7m2-qx9p-3htr ")).toBe("K7M2QX9P3HTR");
  });
});
