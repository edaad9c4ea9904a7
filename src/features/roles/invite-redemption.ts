import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { redeemInvite } from "../../core/invites";
import type { Role } from "../../db/schema";
import type { TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { displayName, getMunicipality } from "../municipalities/service";

/** Whether a message looks like an invite code (so it is redeemed rather than searched). */
export function looksLikeInviteCode(text: string): boolean {
  return (
    /^\s*[0-9A-Za-z]{4}[-\s]?[0-9A-Za-z]{4}[-\s]?[0-9A-Za-z]{4}\s*$/.test(text) && /\d/.test(text)
  );
}

/** What redeeming a code did, with what the reply needs (plain data: conversations store it). */
export type Redemption =
  | {
      ok: true;
      role: Role;
      municipality: { id: number; nameKy: string; nameRu: string } | null;
      /** The invite's municipality became the person's own (they had none). */
      municipalitySet: boolean;
    }
  | { ok: false; reason: "invalid" | "expired" | "used" | "already" };

/** Redeems `code` for the person behind the update (`by`: a handler's context). */
export async function redeem(
  deps: BotDeps,
  code: string,
  by: Pick<AppContext, "user" | "log">,
): Promise<Redemption> {
  const userId = by.user.id;
  const result = await redeemInvite(deps.db, code, userId);
  if (!result.ok) return result;
  const m = result.municipalityId
    ? await getMunicipality(deps.db, result.municipalityId)
    : undefined;
  by.log.info({ userId, role: result.role }, "role granted by invite");
  return {
    ok: true,
    role: result.role,
    municipality: m ? { id: m.id, nameKy: m.nameKy, nameRu: m.nameRu } : null,
    municipalitySet: result.municipalitySet,
  };
}

/** "You now have the role …", or why the code did nothing. */
export function redemptionText(t: TFunction, locale: Locale, r: Redemption): string {
  if (!r.ok) return t(`invite.${r.reason}`);
  const name = r.municipality ? displayName(r.municipality, locale) : undefined;
  const where = name ? t("invite.redeemed_where", { municipality: name }) : "";
  const text = t("invite.redeemed", { role: t(`roles.${r.role}`), where });
  return r.municipalitySet && name
    ? `${text}\n\n${t("invite.municipality_set", { municipality: name })}`
    : text;
}

/**
 * An invite code sent in the middle of a flow (onboarding, settings), where WhatsApp and web chat
 * users paste the code they were given: it is redeemed once (replays of the conversation reuse
 * the stored outcome) and answered, and the flow asks its question again. Undefined when the
 * message is not a code.
 */
export async function redeemTypedInvite(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
): Promise<Redemption | undefined> {
  const text = ctx.message?.text;
  if (!text || !looksLikeInviteCode(text)) return undefined;
  const outcome = await conversation.external((outer) => redeem(deps, text, outer));
  await ctx.reply(redemptionText(ctx.t, ctx.locale, outcome));
  return outcome;
}
