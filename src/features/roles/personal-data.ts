/**
 * What roles keep about a person: the roles granted to them, and the invite codes they made or
 * used. /forgetme: the roles go; invites stay (they are the inviter's record) without them.
 */
import { eq, or, sql } from "drizzle-orm";
import type { PersonalDataHolder } from "../../bot/feature";
import { invites, roleGrants } from "../../db/schema/roles";
import { escapeHtml } from "../../i18n";
import { displayName, getMunicipality } from "../municipalities/service";

export const rolesPersonalData: PersonalDataHolder = {
  async collect(deps, person, t, locale) {
    const grants = await deps.db
      .select()
      .from(roleGrants)
      .where(eq(roleGrants.userId, person.id))
      .orderBy(roleGrants.grantedAt);
    const made = await deps.db
      .select({ id: invites.id })
      .from(invites)
      .where(eq(invites.createdByUserId, person.id));
    const roles = [];
    for (const g of grants) {
      const m =
        g.municipalityId === null ? undefined : await getMunicipality(deps.db, g.municipalityId);
      roles.push({
        role: g.role,
        municipality: m ? displayName(m, locale) : null,
        grantedAt: g.grantedAt.toISOString(),
      });
    }
    const lines =
      roles.length === 0
        ? []
        : [
            t("privacy.roles", {
              roles: roles
                .map((r) =>
                  r.municipality
                    ? `${t(`roles.${r.role}`)} (${escapeHtml(r.municipality)})`
                    : t(`roles.${r.role}`),
                )
                .join(", "),
            }),
          ];
    if (made.length > 0) lines.push(t("privacy.invites", { count: made.length }));
    return [{ key: "roles", lines, data: { roles, invitesCreated: made.length } }];
  },

  async forget(tx, person) {
    const grants = await tx
      .delete(roleGrants)
      .where(eq(roleGrants.userId, person.id))
      .returning({ id: roleGrants.id });
    const touched = await tx
      .update(invites)
      .set({
        createdByUserId: sql`case when ${invites.createdByUserId} = ${person.id} then null
          else ${invites.createdByUserId} end`,
        usedByUserId: sql`case when ${invites.usedByUserId} = ${person.id} then null
          else ${invites.usedByUserId} end`,
      })
      .where(or(eq(invites.createdByUserId, person.id), eq(invites.usedByUserId, person.id)))
      .returning({ id: invites.id });
    return { role_grants: grants.length, invites: touched.length };
  },
};
