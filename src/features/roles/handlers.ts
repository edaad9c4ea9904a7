import { Composer } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { createInvite, DEFAULT_INVITE_HOURS } from "../../core/invites";
import { invitableRoles, isMunicipalRole } from "../../core/permissions";
import { NotAllowedError } from "../../core/roles";
import { escapeHtml } from "../../i18n";
import { displayName, getMunicipality } from "../municipalities/service";
import { looksLikeInviteCode, redeem, redemptionText } from "./invite-redemption";
import { CB, inviteRoleKeyboard } from "./keyboards";

/** Deep-link payloads that are invite codes: "K7M2-QX9P-3HTR" or without dashes. */
const START_CODE = /^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$/;

export function rolesHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  async function redeemCode(ctx: AppContext, code: string): Promise<void> {
    const outcome = await redeem(deps, code, ctx);
    await ctx.reply(redemptionText(ctx.t, ctx.locale, outcome));
  }

  // `/start CODE` from a deep link. Other payloads fall through to onboarding.
  composer.command("start", async (ctx, next) => {
    const payload = ctx.match.trim();
    if (!START_CODE.test(payload)) return next();
    await redeemCode(ctx, payload);
  });

  // A code pasted as a message (WhatsApp and the web chat have no deep links).
  composer.on("message:text", async (ctx, next) => {
    if (!looksLikeInviteCode(ctx.message.text)) return next();
    await redeemCode(ctx, ctx.message.text);
  });

  composer.command("invite", async (ctx) => {
    const municipalityId = ctx.user.municipalityId;
    const allowed = invitableRoles(ctx.roles, municipalityId);
    if (allowed.length === 0) {
      await ctx.reply(ctx.t("errors.not_allowed"));
      return;
    }
    await ctx.reply(ctx.t("invite.choose_role"), {
      reply_markup: inviteRoleKeyboard(ctx.t, allowed),
    });
  });

  // An unknown role ("invite:xyz") matches no definition and is answered as stale by the fallback.
  composer.callbackQuery(CB.invite.filter(), async (ctx) => {
    const { role } = CB.invite.unpack(ctx.callbackQuery.data);
    // The button is only a shortcut: the role and municipality are checked again here.
    if (invitableRoles(ctx.roles, ctx.user.municipalityId).length === 0) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const municipalityId = isMunicipalRole(role) ? ctx.user.municipalityId : null;
    if (isMunicipalRole(role) && municipalityId === null) {
      return ctx.answerCallbackQuery({ text: ctx.t("invite.no_municipality"), show_alert: true });
    }
    try {
      const invite = await createInvite(deps.db, {
        role,
        municipalityId,
        creator: { userId: ctx.user.id, roles: ctx.roles },
      });
      await ctx.answerCallbackQuery();
      const m = municipalityId ? await getMunicipality(deps.db, municipalityId) : undefined;
      const params = {
        role: ctx.t(`roles.${role}`),
        municipality: m ? escapeHtml(displayName(m, ctx.locale)) : "—",
        hours: ctx.t("common.hours", { count: DEFAULT_INVITE_HOURS }),
        code: invite.code,
        link: deps.botUsername ? `https://t.me/${deps.botUsername}?start=${invite.code}` : "",
      };
      await ctx.editMessageText(
        ctx.t(deps.botUsername ? "invite.created" : "invite.created_no_link", params),
        {
          parse_mode: "HTML",
        },
      );
    } catch (error) {
      if (!(error instanceof NotAllowedError)) throw error;
      await ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
  });

  return composer;
}
