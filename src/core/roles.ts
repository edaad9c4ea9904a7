import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { type Role, roleGrants } from "../db/schema";
import { recordAudit } from "./audit";
import { invitableRoles } from "./permissions";

/** A role the person holds, with the municipality it applies to (none for lawyers/admins). */
export interface RoleGrant {
  role: Role;
  municipalityId: number | null;
}

export class NotAllowedError extends Error {
  constructor(message = "not allowed") {
    super(message);
    this.name = "NotAllowedError";
  }
}

export interface RevokeRequest {
  userId: number;
  role: Role;
  municipalityId: number | null;
  actor?: { userId: number; roles: readonly RoleGrant[] } | undefined;
}

/** Removes a role; returns whether there was one to remove. */
export async function revokeRole(db: Database, request: RevokeRequest): Promise<boolean> {
  const { actor } = request;
  if (actor && !invitableRoles(actor.roles, request.municipalityId).includes(request.role)) {
    throw new NotAllowedError(`may not revoke ${request.role}`);
  }
  return db.transaction(async (tx) => {
    const removed = await tx
      .delete(roleGrants)
      .where(
        and(
          eq(roleGrants.userId, request.userId),
          eq(roleGrants.role, request.role),
          request.municipalityId === null
            ? isNull(roleGrants.municipalityId)
            : eq(roleGrants.municipalityId, request.municipalityId),
        ),
      )
      .returning({ id: roleGrants.id });
    if (removed.length === 0) return false;
    await recordAudit(tx, {
      actorUserId: actor?.userId,
      actorLabel: actor ? actorLabel(actor.roles) : "cli",
      action: "role.revoke",
      municipalityId: request.municipalityId,
      details: { role: request.role, userId: request.userId },
    });
    return true;
  });
}

export async function listRoleGrants(db: Database) {
  return db.select().from(roleGrants).orderBy(roleGrants.id);
}

/** The most senior role of an actor, for the audit log. */
export function actorLabel(roles: readonly RoleGrant[]): string {
  for (const role of ["admin", "lawyer", "staff", "deputy"] as const) {
    if (roles.some((r) => r.role === role)) return role;
  }
  return "citizen";
}
