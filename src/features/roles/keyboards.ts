import { InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import { ROLES, type Role } from "../../db/schema";
import type { TFunction } from "../../i18n";

/** Callback data of /invite: the role to create an invite for (checked again when pressed). */
export const CB = {
  invite: callbackData("invite", { role: field.oneOf(ROLES) }),
} as const;

export function inviteRoleKeyboard(t: TFunction, roles: readonly Role[]): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const role of roles) kb.text(t(`roles.${role}`), CB.invite.pack({ role })).row();
  return kb;
}
