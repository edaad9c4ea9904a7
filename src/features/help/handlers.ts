import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import type { Feature, HelpRole } from "../../bot/feature";
import { hasRole, isAdmin, staffMunicipalities } from "../../core/permissions";
import { displayName, getMunicipality } from "../municipalities/service";

/** Sections of /help after the citizen's, in this order; each ability once, under the first. */
const SECTIONS: readonly Exclude<HelpRole, "citizen">[] = ["deputy", "staff", "lawyer", "admin"];

/**
 * /help lists only what the person's roles allow: every feature names its lines per role
 * (locales `help.item_*`), mirroring its own server-side checks.
 */
export function helpHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  const features: readonly Feature[] = deps.features ?? [];
  const linesOf = (role: HelpRole) => features.flatMap((f) => f.help?.[role] ?? []);

  composer.command("help", async (ctx) => {
    const { t, roles } = ctx;
    const staffOf = staffMunicipalities(roles);
    const holds: Record<(typeof SECTIONS)[number], boolean> = {
      deputy: hasRole(roles, "deputy"),
      staff: staffOf.length > 0,
      lawyer: hasRole(roles, "lawyer"),
      admin: isAdmin(roles),
    };
    const everyone = linesOf("citizen").map((item) => t(`help.item_${item}`));
    const parts = [t("help.intro"), [t("help.citizen"), ...everyone].join("\n")];
    const listed = new Set<string>();
    for (const role of SECTIONS) {
      if (!holds[role]) continue;
      const fresh = linesOf(role).filter((item) => !listed.has(item));
      for (const item of fresh) listed.add(item);
      if (fresh.length === 0) continue;
      let heading = t(`help.${role}`);
      if (role === "staff") {
        const names: string[] = [];
        for (const id of staffOf) {
          const m = await getMunicipality(deps.db, id);
          if (m) names.push(displayName(m, ctx.locale));
        }
        heading = t("help.staff", { municipality: names.join(", ") });
      }
      parts.push([heading, ...fresh.map((item) => t(`help.item_${item}`))].join("\n"));
    }
    await ctx.reply(parts.join("\n\n"));
  });
  return composer;
}
