import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { displayName, getMunicipality } from "../municipalities/service";
import { hasRole, isAdmin, staffMunicipalities } from "../roles/permissions";

/**
 * What a role lets a person do, one line each in /help (locales `help.item_*`). The lists below
 * mirror the server-side checks: deputies and staff (and admins) see the deputies-only FAQ and
 * may escalate (isDeputyOrStaff); staff broadcast and invite for their municipality
 * (mayAnnounce, invitableRoles); lawyers and admins work the queue (isLawyer).
 */
type Ability =
  | "faq_private"
  | "escalate"
  | "broadcast"
  | "broadcasts"
  | "invite_staff"
  | "queue"
  | "invite_any"
  | "broadcast_any"
  | "broadcasts_all";

/** /help lists only what the person's roles allow. /privacy explains what is kept. */
export function helpFeature(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.command("help", async (ctx) => {
    const { t, roles } = ctx;
    const sections: { heading: string; abilities: Ability[] }[] = [];
    if (hasRole(roles, "deputy")) {
      sections.push({ heading: t("help.deputy"), abilities: ["faq_private", "escalate"] });
    }
    const staffOf = staffMunicipalities(roles);
    if (staffOf.length > 0) {
      const names: string[] = [];
      for (const id of staffOf) {
        const m = await getMunicipality(deps.db, id);
        if (m) names.push(displayName(m, ctx.locale));
      }
      sections.push({
        heading: t("help.staff", { municipality: names.join(", ") }),
        // Staff share the deputies' FAQ abilities; a staff member who is no deputy reads them here.
        abilities: ["broadcast", "broadcasts", "invite_staff", "faq_private", "escalate"],
      });
    }
    if (hasRole(roles, "lawyer")) {
      sections.push({ heading: t("help.lawyer"), abilities: ["queue", "faq_private"] });
    }
    if (isAdmin(roles)) {
      sections.push({
        heading: t("help.admin"),
        abilities: [
          "invite_any",
          "broadcast_any",
          "broadcasts_all",
          "queue",
          "faq_private",
          "escalate",
        ],
      });
    }
    const parts = [t("help.intro"), t("help.citizen")];
    // Each ability once, under the first of the person's roles that grants it.
    const listed = new Set<Ability>();
    for (const { heading, abilities } of sections) {
      const fresh = abilities.filter((a) => !listed.has(a));
      for (const a of fresh) listed.add(a);
      if (fresh.length > 0)
        parts.push([heading, ...fresh.map((a) => t(`help.item_${a}`))].join("\n"));
    }
    await ctx.reply(parts.join("\n\n"));
  });
  composer.command("privacy", (ctx) => ctx.reply(ctx.t("privacy.text"), { parse_mode: "HTML" }));
  return composer;
}
