import { Composer, InlineKeyboard } from "grammy";
import type { AppContext, BotDeps } from "../../bot/context";
import { ROLES, type Role } from "../../db/schema";
import { escapeHtml } from "../../i18n";
import { displayName, getMunicipality } from "../municipalities/service";
import { redeem, redemptionText } from "./invite-redemption";
import { invitableRoles, isMunicipalRole } from "./permissions";
import {
  createInvite,
  DEFAULT_INVITE_HOURS,
  looksLikeInviteCode,
  NotAllowedError,
} from "./service";

/** Deep-link payloads that are invite codes: "K7M2-QX9P-3HTR" or without dashes. */
const START_CODE = /^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$/;

export function rolesFeature(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  async function redeemCode(ctx: AppContext, code: string): Promise<void> {
    const outcome = await redeem(deps, code, ctx.user.id);
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
    const kb = new InlineKeyboard();
    for (const role of allowed) kb.text(ctx.t(`roles.${role}`), `invite:${role}`).row();
    await ctx.reply(ctx.t("invite.choose_role"), { reply_markup: kb });
  });

  composer.callbackQuery(/^invite:([a-z]+)$/, async (ctx) => {
    const role = ctx.match[1] as Role;
    // The button is only a shortcut: the role and municipality are checked again here.
    if (!ROLES.includes(role)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.stale_button") });
    }
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
