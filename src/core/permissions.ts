import type { Role } from "../db/schema";
import type { RoleGrant } from "./roles";

/** Pure checks on what a set of roles allows. Every server-side staff check goes through here. */

export function hasRole(roles: readonly RoleGrant[], role: Role): boolean {
  return roles.some((r) => r.role === role);
}

export function isAdmin(roles: readonly RoleGrant[]): boolean {
  return hasRole(roles, "admin");
}

/** Staff of that municipality, or an admin. */
export function canManageMunicipality(
  roles: readonly RoleGrant[],
  municipalityId: number,
): boolean {
  return (
    isAdmin(roles) || roles.some((r) => r.role === "staff" && r.municipalityId === municipalityId)
  );
}

/** Municipalities where these roles make the person staff. */
export function staffMunicipalities(roles: readonly RoleGrant[]): number[] {
  return roles
    .filter((r) => r.role === "staff" && r.municipalityId !== null)
    .map((r) => r.municipalityId!);
}

/** Deputies and staff see the deputies-only FAQ and may escalate to lawyers. */
export function isDeputyOrStaff(roles: readonly RoleGrant[]): boolean {
  return roles.some((r) => r.role === "deputy" || r.role === "staff" || r.role === "admin");
}

export function isLawyer(roles: readonly RoleGrant[]): boolean {
  return hasRole(roles, "lawyer") || isAdmin(roles);
}

/**
 * Which roles this person may invite others to in a municipality: admins any role anywhere;
 * staff only deputies and staff of their own municipality; everyone else nothing.
 */
export function invitableRoles(roles: readonly RoleGrant[], municipalityId: number | null): Role[] {
  if (isAdmin(roles)) return ["deputy", "staff", "lawyer", "admin"];
  if (municipalityId !== null && canManageMunicipality(roles, municipalityId))
    return ["deputy", "staff"];
  return [];
}

/** Roles that are tied to one municipality; the others work across the whole country. */
export function isMunicipalRole(role: Role): boolean {
  return role === "deputy" || role === "staff";
}
