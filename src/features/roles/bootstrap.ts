/**
 * The first admin, without the command line: while nobody holds the admin role, the app makes a
 * one-time admin invite at start and prints it for whoever started it.
 *
 * Codes are stored only as hashes, so an invite cannot be shown twice. A restart while an admin
 * invite is still unused and valid therefore makes no new one (codes would pile up in the
 * terminal history); it says until when that one is valid and how to get another.
 */
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { createInvite, DEFAULT_INVITE_HOURS } from "../../core/invites";
import type { Database } from "../../db/client";
import { invites, roleGrants } from "../../db/schema";
import type { Logger } from "../../logger";

export type FirstAdminState =
  | { kind: "has-admin" }
  | { kind: "created"; code: string; expiresAt: Date; hours: number }
  | { kind: "pending"; createdAt: Date; expiresAt: Date };

/** Makes the first admin invite when there is neither an admin nor a valid admin invite. */
export async function ensureFirstAdminInvite(
  db: Database,
  hours = DEFAULT_INVITE_HOURS,
): Promise<FirstAdminState> {
  const admin = await db
    .select({ id: roleGrants.id })
    .from(roleGrants)
    .where(eq(roleGrants.role, "admin"))
    .limit(1);
  if (admin.length > 0) return { kind: "has-admin" };
  const [pending] = await db
    .select({ createdAt: invites.createdAt, expiresAt: invites.expiresAt })
    .from(invites)
    .where(
      and(eq(invites.role, "admin"), isNull(invites.usedAt), gt(invites.expiresAt, new Date())),
    )
    .orderBy(desc(invites.expiresAt))
    .limit(1);
  if (pending) return { kind: "pending", ...pending };
  // The same path as `admin create`, audit-logged as the app's own.
  const invite = await createInvite(db, {
    role: "admin",
    municipalityId: null,
    hours,
    auditLabel: "first-start",
  });
  return { kind: "created", code: invite.code, expiresAt: invite.expiresAt, hours };
}

export interface NoticeOptions {
  /** Where the web chat is, e.g. http://127.0.0.1:3000/ */
  webUrl: string;
  /** The Telegram bot's username, when the bot is connected. */
  botUsername: string | undefined;
  timezone: string;
}

const RULE = "=".repeat(72);

/** The block printed to the terminal; undefined when there is nothing to say. */
export function firstAdminNotice(
  state: FirstAdminState,
  options: NoticeOptions,
): string | undefined {
  if (state.kind === "has-admin") return undefined;
  const at = (d: Date) =>
    new Intl.DateTimeFormat("en-GB", {
      timeZone: options.timezone,
      dateStyle: "medium",
      timeStyle: "short",
    }).format(d);
  const tz = options.timezone;
  const another = "Lost it? `npm run cli -- admin create` makes another (safe while the app runs).";
  if (state.kind === "pending") {
    return block([
      `Aimak has no admin yet. An admin invite made on ${at(state.createdAt)} is still valid`,
      `until ${at(state.expiresAt)} (${tz}). Its code was printed then; it is kept only as a`,
      "hash, so it cannot be shown again.",
      another,
    ]);
  }
  const { code } = state;
  return block([
    "Aimak has no admin yet. One-time admin invite:",
    "",
    `  Code:      ${code}`,
    `  Valid:     ${state.hours} hours, until ${at(state.expiresAt)} (${tz}); it works once`,
    `  Telegram:  ${
      options.botUsername
        ? `https://t.me/${options.botUsername}?start=${code}`
        : "not connected (no BOT_TOKEN)"
    }`,
    `  Web chat:  open ${options.webUrl} and send the message  /start ${code}`,
    "",
    "Whoever uses it becomes the admin and can then invite others with /invite.",
    another,
  ]);
}

function block(lines: string[]): string {
  return `\n${RULE}\n${lines.map((l) => (l ? `  ${l}` : "")).join("\n")}\n${RULE}\n\n`;
}

export interface AnnounceOptions {
  /** Where the HTTP server listens. */
  host: string;
  port: number;
  botUsername: string | undefined;
  timezone: string;
  logger: Logger;
  print(text: string): void;
}

/** At start: makes the first admin invite if needed and prints it. Never fails the start. */
export async function announceFirstAdmin(db: Database, options: AnnounceOptions): Promise<void> {
  try {
    const state = await ensureFirstAdminInvite(db);
    if (state.kind === "has-admin") return;
    // A wildcard address is not one to type into a browser; this machine's name is.
    const host = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
    const notice = firstAdminNotice(state, {
      webUrl: `http://${host.includes(":") ? `[${host}]` : host}:${options.port}/`,
      botUsername: options.botUsername,
      timezone: options.timezone,
    });
    if (notice) options.print(notice);
    // The log says that there is an invite, never its code (logs travel further than terminals).
    options.logger.info(
      { state: state.kind, expiresAt: state.expiresAt },
      state.kind === "created"
        ? "no admin yet: printed a one-time admin invite"
        : "no admin yet: an admin invite is still valid",
    );
  } catch (error) {
    options.logger.error({ err: error }, "could not prepare the first admin invite");
  }
}
