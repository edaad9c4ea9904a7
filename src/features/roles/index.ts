import type { Feature } from "../../bot/feature";
import { adminCommand, inviteCommand, rolesCommand } from "./cli";
import { rolesHandlers } from "./handlers";
import { rolesPersonalData } from "./personal-data";

/** Invite codes (`/start CODE`, a pasted code), /invite, and the role CLI. */
export const roles: Feature = {
  name: "roles",
  personalData: rolesPersonalData,
  handlers: rolesHandlers,
  cli: [adminCommand, inviteCommand, rolesCommand],
  help: { staff: ["invite_staff"], admin: ["invite_any"] },
  commands: [{ command: "invite", description: "commands.invite", roles: ["staff", "admin"] }],
};
