import type { CliCommand, CliContext } from "../../cli/command";
import { parseFlags } from "../../cli/command";
import { createInvite, DEFAULT_INVITE_HOURS } from "../../core/invites";
import { listRoleGrants, revokeRole } from "../../core/roles";
import { ROLES, type Role } from "../../db/schema";

/** Where a newcomer redeems a code: a deep link when the bot is on Telegram. */
async function telegramLink(ctx: CliContext, code: string): Promise<string | undefined> {
  const token = ctx.config.botToken;
  if (!token) return undefined;
  try {
    const root = ctx.config.telegramApiRoot ?? "https://api.telegram.org";
    const res = await fetch(`${root}/bot${token}/getMe`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { result?: { username?: string } };
    return body.result?.username ? `https://t.me/${body.result.username}?start=${code}` : undefined;
  } catch {
    return undefined;
  }
}

async function printInvite(
  ctx: CliContext,
  role: Role,
  municipalityId: number | null,
  hours: number,
) {
  const { db } = await ctx.database();
  const invite = await createInvite(db, { role, municipalityId, hours });
  const link = await telegramLink(ctx, invite.code);
  ctx.out(`role:         ${role}${municipalityId ? ` (municipality ${municipalityId})` : ""}`);
  ctx.out(`code:         ${invite.code}`);
  ctx.out(`expires:      ${invite.expiresAt.toISOString()}`);
  ctx.out(`telegram:     ${link ?? `send "/start ${invite.code}" to the bot`}`);
  ctx.out(`web/WhatsApp: send the code ${invite.code} as a message`);
}

function hoursFlag(flags: Map<string, string | true>): number {
  const raw = flags.get("hours");
  const hours = typeof raw === "string" ? Number(raw) : DEFAULT_INVITE_HOURS;
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 30)
    throw new RangeError("--hours must be 1..720");
  return hours;
}

function municipalityFlag(flags: Map<string, string | true>): number | null {
  const raw = flags.get("municipality");
  if (raw === undefined) return null;
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0)
    throw new RangeError("--municipality takes a municipality id");
  return id;
}

export const adminCommand: CliCommand = {
  name: "admin",
  usage: ["admin create [--hours N]            one-time invite for the first (or another) admin"],
  async run(args, ctx) {
    const { positional, flags } = parseFlags(args);
    if (positional[0] !== "create") {
      ctx.err("usage: admin create [--hours N]");
      return 2;
    }
    await printInvite(ctx, "admin", null, hoursFlag(flags));
    return 0;
  },
};

export const inviteCommand: CliCommand = {
  name: "invite",
  usage: ["invite --role staff|deputy|lawyer|admin [--municipality ID] [--hours N]"],
  async run(args, ctx) {
    const { flags } = parseFlags(args);
    const role = flags.get("role");
    if (typeof role !== "string" || !ROLES.includes(role as Role)) {
      ctx.err(`--role must be one of ${ROLES.join(", ")}`);
      return 2;
    }
    try {
      await printInvite(ctx, role as Role, municipalityFlag(flags), hoursFlag(flags));
      return 0;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      ctx.err(error.message);
      return 2;
    }
  },
};

export const rolesCommand: CliCommand = {
  name: "roles",
  usage: ["roles list", "roles revoke --user ID --role ROLE [--municipality ID]"],
  async run(args, ctx) {
    const { positional, flags } = parseFlags(args);
    const { db } = await ctx.database();
    if (positional[0] === "list") {
      for (const g of await listRoleGrants(db)) {
        ctx.out(
          `user ${g.userId}\t${g.role}\t${g.municipalityId ?? "-"}\t${g.grantedAt.toISOString()}`,
        );
      }
      return 0;
    }
    if (positional[0] === "revoke") {
      const userId = Number(flags.get("user"));
      const role = flags.get("role") as Role;
      if (!Number.isInteger(userId) || !ROLES.includes(role)) {
        ctx.err("usage: roles revoke --user ID --role ROLE [--municipality ID]");
        return 2;
      }
      const removed = await revokeRole(db, {
        userId,
        role,
        municipalityId: municipalityFlag(flags),
      });
      ctx.out(removed ? "revoked" : "no such role");
      return removed ? 0 : 1;
    }
    ctx.err("usage: roles list | roles revoke --user ID --role ROLE [--municipality ID]");
    return 2;
  },
};
