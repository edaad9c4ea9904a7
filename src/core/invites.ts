import { createHash, randomInt } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { invites, municipalities, type Role, roleGrants, users } from "../db/schema";
import { recordAudit } from "./audit";
import { invitableRoles, isMunicipalRole } from "./permissions";
import { actorLabel, NotAllowedError, type RoleGrant } from "./roles";

/**
 * One-time invite codes: the data side (make, hash, redeem). Telling a typed message is a code,
 * and the conversations around it, belong to the roles feature.
 */

const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford base32: no I, L, O, U
const CODE_GROUPS = 3;
const CODE_GROUP_LENGTH = 4;
export const DEFAULT_INVITE_HOURS = 72;

/**
 * "K7M2-QX9P-3HTR": about 60 random bits, easy to read aloud and to type on a phone. Always with
 * a digit: a pasted message is taken for a code only when it has one (twelve letters are more
 * likely a word), and about 3 % of draws have none, so those are drawn again.
 */
export function generateInviteCode(): string {
  for (;;) {
    const groups: string[] = [];
    for (let g = 0; g < CODE_GROUPS; g++) {
      let group = "";
      for (let i = 0; i < CODE_GROUP_LENGTH; i++)
        group += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
      groups.push(group);
    }
    const code = groups.join("-");
    if (/\d/.test(code)) return code;
  }
}

/** Canonical form of what a person typed: upper case, no separators, look-alikes folded. */
export function normalizeInviteCode(input: string): string {
  return input
    .trim()
    .toUpperCase()
    .replace(/[\s_-]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
}

export function hashInviteCode(code: string): string {
  return createHash("sha256").update(normalizeInviteCode(code)).digest("hex");
}

export interface InviteRequest {
  role: Role;
  municipalityId: number | null;
  hours?: number;
  /** Who creates it; undefined for the command line, which may create any invite. */
  creator?: { userId: number; roles: readonly RoleGrant[] } | undefined;
  /** The audit log's actor without a creator: "cli" unless said otherwise (e.g. "first-start"). */
  auditLabel?: string;
}

export interface CreatedInvite {
  code: string;
  role: Role;
  municipalityId: number | null;
  expiresAt: Date;
}

export async function createInvite(db: Database, request: InviteRequest): Promise<CreatedInvite> {
  const { role, creator } = request;
  const municipalityId = isMunicipalRole(role)
    ? request.municipalityId
    : (request.municipalityId ?? null);
  if (isMunicipalRole(role) && municipalityId === null) {
    throw new RangeError(`a ${role} invite needs a municipality`);
  }
  if (creator && !invitableRoles(creator.roles, municipalityId).includes(role)) {
    throw new NotAllowedError(`may not invite ${role} to municipality ${municipalityId}`);
  }
  if (municipalityId !== null) {
    const found = await db
      .select({ id: municipalities.id })
      .from(municipalities)
      .where(eq(municipalities.id, municipalityId));
    if (found.length === 0) throw new RangeError(`no municipality with id ${municipalityId}`);
  }
  const hours = request.hours ?? DEFAULT_INVITE_HOURS;
  const code = generateInviteCode();
  const expiresAt = new Date(Date.now() + hours * 3_600_000);
  await db.transaction(async (tx) => {
    await tx.insert(invites).values({
      codeHash: hashInviteCode(code),
      role,
      municipalityId,
      createdByUserId: creator?.userId ?? null,
      expiresAt,
    });
    await recordAudit(tx, {
      actorUserId: creator?.userId,
      actorLabel: creator ? actorLabel(creator.roles) : (request.auditLabel ?? "cli"),
      action: "invite.create",
      municipalityId,
      details: { role, hours },
    });
  });
  return { code, role, municipalityId, expiresAt };
}

export type RedeemResult =
  | {
      ok: true;
      role: Role;
      municipalityId: number | null;
      /** Whether the person had no municipality and now has the invite's. */
      municipalitySet: boolean;
    }
  | { ok: false; reason: "invalid" | "expired" | "used" | "already" };

/**
 * Redeems a one-time code. Anything wrong with the code changes nothing. A person without a
 * municipality who becomes staff or deputy of one now lives there as far as the bot knows (its
 * news, its office's contacts): asking them to pick it again would be odd. A municipality they
 * already chose stays; /settings changes it.
 */
export async function redeemInvite(
  db: Database,
  code: string,
  userId: number,
): Promise<RedeemResult> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(invites)
      .where(eq(invites.codeHash, hashInviteCode(code)))
      .for("update");
    const invite = rows[0];
    if (!invite) return { ok: false, reason: "invalid" } as const;
    if (invite.usedAt) return { ok: false, reason: "used" } as const;
    if (invite.expiresAt.getTime() <= Date.now()) return { ok: false, reason: "expired" } as const;
    const inserted = await tx
      .insert(roleGrants)
      .values({ userId, role: invite.role, municipalityId: invite.municipalityId })
      .onConflictDoNothing()
      .returning({ id: roleGrants.id });
    if (inserted.length === 0) return { ok: false, reason: "already" } as const;
    await tx
      .update(invites)
      .set({ usedAt: sql`now()`, usedByUserId: userId })
      .where(eq(invites.id, invite.id));
    await recordAudit(tx, {
      actorUserId: userId,
      actorLabel: "invite",
      action: "role.grant",
      municipalityId: invite.municipalityId,
      details: { role: invite.role, userId, inviteId: invite.id },
    });
    const municipalitySet =
      invite.municipalityId !== null &&
      (
        await tx
          .update(users)
          .set({ municipalityId: invite.municipalityId, updatedAt: sql`now()` })
          .where(and(eq(users.id, userId), isNull(users.municipalityId)))
          .returning({ id: users.id })
      ).length > 0;
    return {
      ok: true,
      role: invite.role,
      municipalityId: invite.municipalityId,
      municipalitySet,
    } as const;
  });
}
