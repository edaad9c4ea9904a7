import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { displayName, getMunicipality } from "../municipalities/service";
import { hasRole, isAdmin, isLawyer } from "../roles/permissions";

/** /help lists only what the person's roles allow. /privacy explains what is kept. */
export function helpFeature(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.command("help", async (ctx) => {
    const { t, roles } = ctx;
    const parts = [t("help.intro"), t("help.citizen")];
    if (hasRole(roles, "deputy") || hasRole(roles, "staff")) parts.push(t("help.deputy"));
    const staffOf = roles.find((r) => r.role === "staff" && r.municipalityId !== null);
    if (staffOf?.municipalityId) {
      const m = await getMunicipality(deps.db, staffOf.municipalityId);
      parts.push(t("help.staff", { municipality: m ? displayName(m, ctx.locale) : "" }));
    }
    if (isLawyer(roles)) parts.push(t("help.lawyer"));
    if (isAdmin(roles)) parts.push(t("help.admin"));
    await ctx.reply(parts.join("\n\n"));
  });
  composer.command("privacy", (ctx) => ctx.reply(ctx.t("privacy.text"), { parse_mode: "HTML" }));
  return composer;
}
