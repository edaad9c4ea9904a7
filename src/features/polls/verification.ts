/**
 * A person's verified phone number (channel-free). A number counts as verified only when the
 * person proved it is theirs: on Telegram their own shared contact, on WhatsApp the number they
 * write from. `users.phone` is never set from anything a person merely typed.
 */
import { eq, sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { type UserRow, users } from "../../db/schema";
import { PollError } from "./types";

/** E.164: "+", a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;

/** Stores the person's proven number (E.164) and when it was proven. */
export async function recordVerifiedPhone(
  db: Executor,
  userId: number,
  e164: string,
): Promise<void> {
  if (!E164.test(e164)) throw new PollError("phone_bad");
  await db
    .update(users)
    .set({ phone: e164, phoneVerifiedAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(users.id, userId));
}

/** The person's number when it is verified, else null (a number without proof does not count). */
export function verifiedPhoneOf(user: Pick<UserRow, "phone" | "phoneVerifiedAt">): string | null {
  return user.phone && user.phoneVerifiedAt ? user.phone : null;
}
