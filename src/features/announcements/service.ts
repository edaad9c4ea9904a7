import { and, desc, eq, inArray } from "drizzle-orm";
import type { MessageEntity } from "grammy/types";
import { recordAudit } from "../../core/audit";
import { canManageMunicipality, isAdmin, staffMunicipalities } from "../../core/permissions";
import type { RoleGrant } from "../../core/roles";
import type { Database } from "../../db/client";
import { type OutgoingMessageRow, outgoingMessages, type Role, type Topic } from "../../db/schema";
import {
  type Audience,
  cancelMessage,
  countAudience,
  createOutgoingMessage,
  getMessageProgress,
  getProgressMany,
  type MessageContent,
  type MessageProgress,
  pickText,
  type RenderedMessage,
  renderForRecipient,
  scheduleMessage,
  setProgressMessage,
  startMessage,
  visibleText,
} from "../../delivery";
import { escapeHtml, translator } from "../../i18n";
import { LOCALES, type Locale } from "../../locales";
import { displayName, getMunicipality } from "../municipalities/service";
import { toHtml, trimFormatted } from "./format";

/**
 * Staff announcements, channel-free. Every call takes the acting person and checks, on the
 * server, that they may act for the municipality concerned: staff only for their own
 * municipality, admins for any. Every action is audit-logged.
 */

export class AnnouncementNotAllowedError extends Error {
  constructor(message = "not allowed") {
    super(message);
    this.name = "AnnouncementNotAllowedError";
  }
}

export class AnnouncementStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AnnouncementStateError";
  }
}

export interface Actor {
  userId: number;
  roles: readonly RoleGrant[];
}

/** Roles an announcement may be narrowed to (residents with that role in the municipality). */
export const AUDIENCE_ROLES = ["deputy", "staff"] as const satisfies readonly Role[];

/** Staff write announcements in Kyrgyz and Russian; English readers fall back to those. */
export type AnnouncementLocale = Exclude<Locale, "en">;
export const ANNOUNCEMENT_LOCALES = LOCALES.filter((l): l is AnnouncementLocale => l !== "en");

export interface AnnouncementInput {
  municipalityId: number;
  /** As typed: shown to residents character for character (`<b>` stays `<b>`). */
  text: Partial<Record<AnnouncementLocale, string>>;
  /** The messenger's formatting of each text (Telegram message entities), kept as formatting. */
  entities?: Partial<Record<AnnouncementLocale, readonly MessageEntity[]>>;
  photo?: string;
  document?: string;
  /** Narrow the audience: a role (deputies / staff of the municipality), a topic. */
  role?: (typeof AUDIENCE_ROLES)[number];
  /** Default "announcements": residents who subscribed to announcements. */
  topic?: Topic | null;
}

function actorLabel(actor: Actor): string {
  return isAdmin(actor.roles) ? "admin" : "staff";
}

function assertMayManage(actor: Actor, municipalityId: number | null): void {
  if (municipalityId === null) {
    if (!isAdmin(actor.roles)) throw new AnnouncementNotAllowedError();
    return;
  }
  if (!canManageMunicipality(actor.roles, municipalityId)) throw new AnnouncementNotAllowedError();
}

/** Whether this person may send announcements at all. */
export function mayAnnounce(roles: readonly RoleGrant[]): boolean {
  return isAdmin(roles) || staffMunicipalities(roles).length > 0;
}

export function audienceOf(input: Pick<AnnouncementInput, "municipalityId" | "role" | "topic">) {
  const audience: Audience = { municipalityId: input.municipalityId };
  if (input.role) audience.role = input.role;
  const topic = input.topic === undefined ? "announcements" : input.topic;
  if (topic) audience.topic = topic;
  return audience;
}

/**
 * The body that sends an announcement, per language: the municipality's aiyl okmotu or mayor's
 * office, or, for an announcement to every municipality, the Union of Local Self-Governments.
 */
export async function senderNames(
  db: Database,
  municipalityId: number | null,
): Promise<Record<Locale, string>> {
  const m = municipalityId === null ? undefined : await getMunicipality(db, municipalityId);
  const names = {} as Record<Locale, string>;
  for (const locale of LOCALES) {
    const t = translator(locale);
    names[locale] = m
      ? t(m.kind === "city" ? "announcements.sender_city" : "announcements.sender_aiyl_aimak", {
          name: displayName(m, locale),
        })
      : t("announcements.sender_union");
  }
  return names;
}

/** The first line of every announcement: who sends it. */
export function senderLine(sender: string): string {
  return `📢 <b>${escapeHtml(sender)}</b>`;
}

/**
 * What residents receive (Telegram HTML): the sender line, then the text as typed with the
 * messenger's formatting. Each language carries its own sender line.
 */
export function contentOf(
  input: AnnouncementInput,
  sender: Record<Locale, string>,
): MessageContent {
  const text: MessageContent["text"] = {};
  for (const l of ANNOUNCEMENT_LOCALES) {
    const typed = input.text[l];
    if (!typed?.trim()) continue;
    const body = trimFormatted({ text: typed, entities: input.entities?.[l] ?? [] });
    text[l] = `${senderLine(sender[l])}\n\n${toHtml(body)}`;
  }
  // For a WhatsApp template (outside the 24-hour window): who speaks, the aiyl okmotu or the Union.
  const content: MessageContent = {
    text,
    parseMode: "HTML",
    templateParams: { municipality: sender },
  };
  if (input.photo) content.photo = input.photo;
  if (input.document) content.document = input.document;
  return content;
}

/** An announcement's text as its sender typed it (no sender line, no markup), for lists. */
export function typedText(content: MessageContent, locale: string): string {
  const text = pickText(content.text, locale);
  if (content.parseMode !== "HTML") return text;
  const split = text.indexOf("\n\n");
  const body = text.startsWith("📢 <b>") && split >= 0 ? text.slice(split + 2) : text;
  return visibleText(body);
}

/** Exactly what a recipient with this locale will receive, and how many people will. */
export async function previewAnnouncement(
  db: Database,
  actor: Actor,
  input: AnnouncementInput,
  locale: string,
): Promise<{ rendered: RenderedMessage; recipients: number }> {
  assertMayManage(actor, input.municipalityId);
  const sender = await senderNames(db, input.municipalityId);
  return {
    rendered: renderForRecipient(contentOf(input, sender), locale),
    recipients: await countAudience(db, audienceOf(input)),
  };
}

/** How many people the chosen audience reaches now (checked like every other action). */
export async function audienceSize(
  db: Database,
  actor: Actor,
  input: Pick<AnnouncementInput, "municipalityId" | "role" | "topic">,
): Promise<number> {
  assertMayManage(actor, input.municipalityId);
  return countAudience(db, audienceOf(input));
}

/**
 * Creates the announcement and sends it now, or schedules it for `at`. `progress` is the
 * sender's chat message that the engine keeps edited while it runs.
 */
export async function createAnnouncement(
  db: Database,
  actor: Actor,
  input: AnnouncementInput,
  options: { at?: Date; progress?: { chatId: number; messageId: number } } = {},
): Promise<OutgoingMessageRow> {
  assertMayManage(actor, input.municipalityId);
  if (options.at && options.at.getTime() <= Date.now()) {
    throw new AnnouncementStateError("the time is in the past");
  }
  const audience = audienceOf(input);
  const content = contentOf(input, await senderNames(db, input.municipalityId));
  const message = await db.transaction(async (tx) => {
    const m = await createOutgoingMessage(tx, {
      kind: "announcement",
      municipalityId: input.municipalityId,
      createdByUserId: actor.userId,
      content,
      audience,
      ...(options.at ? { scheduledAt: options.at } : {}),
    });
    if (options.progress) {
      await setProgressMessage(tx, m.id, options.progress.chatId, options.progress.messageId);
    }
    await recordAudit(tx, {
      actorUserId: actor.userId,
      actorLabel: actorLabel(actor),
      action: options.at ? "announcement.schedule" : "announcement.send",
      municipalityId: input.municipalityId,
      details: {
        messageId: m.id,
        audience,
        languages: Object.keys(m.content.text),
        media: input.photo ? "photo" : input.document ? "document" : null,
        ...(options.at ? { at: options.at.toISOString() } : {}),
      },
    });
    return m;
  });
  if (!options.at) await startMessage(db, message.id);
  return (await loadOwned(db, actor, message.id)).message;
}

async function loadOwned(
  db: Database,
  actor: Actor,
  messageId: number,
): Promise<{ message: OutgoingMessageRow }> {
  const [message] = await db
    .select()
    .from(outgoingMessages)
    .where(and(eq(outgoingMessages.id, messageId), eq(outgoingMessages.kind, "announcement")));
  if (!message) throw new AnnouncementNotAllowedError("no such announcement");
  assertMayManage(actor, message.municipalityId);
  return { message };
}

/** Moves a scheduled announcement to another time. */
export async function rescheduleAnnouncement(
  db: Database,
  actor: Actor,
  messageId: number,
  at: Date,
): Promise<void> {
  const { message } = await loadOwned(db, actor, messageId);
  if (at.getTime() <= Date.now()) throw new AnnouncementStateError("the time is in the past");
  if (!(await scheduleMessage(db, messageId, at))) {
    throw new AnnouncementStateError("only a scheduled announcement can be moved");
  }
  await recordAudit(db, {
    actorUserId: actor.userId,
    actorLabel: actorLabel(actor),
    action: "announcement.reschedule",
    municipalityId: message.municipalityId,
    details: { messageId, at: at.toISOString() },
  });
}

/** Cancels a scheduled or running announcement. Returns false when it had already ended. */
export async function cancelAnnouncement(
  db: Database,
  actor: Actor,
  messageId: number,
): Promise<boolean> {
  const { message } = await loadOwned(db, actor, messageId);
  const cancelled = await cancelMessage(db, messageId);
  await recordAudit(db, {
    actorUserId: actor.userId,
    actorLabel: actorLabel(actor),
    action: "announcement.cancel",
    municipalityId: message.municipalityId,
    details: { messageId, previousStatus: message.status, cancelled },
  });
  return cancelled;
}

export interface AnnouncementSummary {
  message: OutgoingMessageRow;
  progress: MessageProgress;
}

/** One announcement with its counts (checked like every other action). */
export async function getAnnouncement(
  db: Database,
  actor: Actor,
  messageId: number,
): Promise<AnnouncementSummary> {
  const { message } = await loadOwned(db, actor, messageId);
  return { message, progress: await getMessageProgress(db, messageId) };
}

/** Recent announcements the actor may see (staff: their municipalities; admins: all). */
export async function listAnnouncements(
  db: Database,
  actor: Actor,
  limit = 10,
): Promise<AnnouncementSummary[]> {
  const own = staffMunicipalities(actor.roles);
  if (!isAdmin(actor.roles) && own.length === 0) throw new AnnouncementNotAllowedError();
  const where = isAdmin(actor.roles)
    ? eq(outgoingMessages.kind, "announcement")
    : and(eq(outgoingMessages.kind, "announcement"), inArray(outgoingMessages.municipalityId, own));
  const messages = await db
    .select()
    .from(outgoingMessages)
    .where(where)
    .orderBy(desc(outgoingMessages.createdAt), desc(outgoingMessages.id))
    .limit(limit);
  const progress = await getProgressMany(
    db,
    messages.map((m) => m.id),
  );
  return messages.map((message) => ({ message, progress: progress.get(message.id)! }));
}

/** Seconds left at the channel's pace (Telegram ~29/s), for the ETA in progress messages. */
export function etaSeconds(progress: MessageProgress, perSecond = 29): number {
  return Math.ceil((progress.pending + progress.sending) / perSecond);
}
