/**
 * Budget hearings, channel-free (SPEC §5): the lifecycle, residents' answers and questions,
 * lists and counts, the CSV export. Every staff method checks on the server that the actor may
 * act for the hearing's municipality (staff of it, or an admin), makes its transition with a
 * conditional update, and writes the audit log in the same transaction.
 *
 * The messages of a hearing all carry dedupe keys starting `hearing:{id}:`; the announcement,
 * its documents and its reminders also carry the hearing's sequence (`…:s{sequence}:…`), which
 * grows with each change residents are told of, so a change cancels the old sequence's
 * reminders and plans the new ones.
 */
import { and, asc, desc, eq, gt, inArray, isNotNull, type SQL, sql } from "drizzle-orm";
import { recordAudit } from "../../core/audit";
import { canManageMunicipality, isAdmin, staffMunicipalities } from "../../core/permissions";
import { type Database, type Executor, rowsOf } from "../../db/client";
import { users } from "../../db/schema";
import {
  cancelByKeyPrefix,
  createOutgoingMessage,
  findMessageByKey,
  type MessageContent,
  type StoredAudience,
  sendToUsers,
  startMessage,
} from "../../delivery";
import { senderNames } from "../announcements/service";
import { hearingToldAudience } from "./audiences";
import { type CsvRow, hearingsCsv } from "./csv";
import {
  cancelledContent,
  changedContent,
  documentContent,
  minutesContents,
  type NoticeContext,
  noticeContent,
  nudgeContent,
  reminderContent,
  rescheduledContent,
} from "./notices";
import {
  cancelReminders,
  hearingKeyPrefix,
  type PlannedReminder,
  scheduleReminders,
} from "./reminders";
import {
  type HearingDocument,
  type HearingRow,
  type HearingStatus,
  hearingQuestions,
  hearingRsvps,
  hearings,
  type RsvpAnswer,
} from "./schema";
import {
  HEARING_LIMITS,
  type HearingActor,
  type HearingCounts,
  HearingError,
  type HearingInput,
  type HearingPatch,
  type HearingQuestionRow,
  type HearingSettings,
  type HearingSummary,
  type HearingText,
} from "./types";

const DAY_MS = 86_400_000;
/** Nudges to staff about missing minutes, days after the hearing was held (largest first). */
export const NUDGE_DAYS = [7, 3] as const;
const MAX_REMINDER_MIN = 366 * 1440;
const MAX_REMINDERS = 10;

const ZERO: HearingCounts = { going: 0, notGoing: 0, questions: 0 };

function actorLabel(actor: HearingActor): string {
  if (actor.userId === undefined) return "cli";
  return isAdmin(actor.roles) ? "admin" : "staff";
}

function trimmedText(text: HearingText | undefined): HearingText {
  const out: HearingText = {};
  const ky = text?.ky?.trim();
  const ru = text?.ru?.trim();
  if (ky) out.ky = ky;
  if (ru) out.ru = ru;
  return out;
}

function tooLong(text: HearingText, max: number): boolean {
  return (text.ky?.length ?? 0) > max || (text.ru?.length ?? 0) > max;
}

/** Longer links are not links staff mean to give residents (and would crowd the message). */
const MAX_URL = 1000;

function isHttps(url: string): boolean {
  if (url.length > MAX_URL) return false;
  try {
    return new URL(url).protocol === "https:";
  } catch {
    return false;
  }
}

/** Reminder offsets: 1..10 of them, each 1 minute .. 366 days; largest first, no repeats. */
export function validateOffsets(offsets: readonly number[]): number[] {
  const ok =
    offsets.length >= 1 &&
    offsets.length <= MAX_REMINDERS &&
    offsets.every((o) => Number.isInteger(o) && o >= 1 && o <= MAX_REMINDER_MIN);
  if (!ok) throw new HearingError("reminders_bad", { max: MAX_REMINDERS });
  return [...new Set(offsets)].sort((a, b) => b - a);
}

function validateDocuments(documents: readonly HearingDocument[]): HearingDocument[] {
  if (documents.length > HEARING_LIMITS.documents) {
    throw new HearingError("too_many_documents", { max: HEARING_LIMITS.documents });
  }
  return documents.map((d) => {
    if (d.kind === "link") {
      const url = d.url.trim();
      if (!isHttps(url)) throw new HearingError("link_not_https");
      const title = d.title?.trim();
      if (title && title.length > HEARING_LIMITS.title) {
        throw new HearingError("title_too_long", { max: HEARING_LIMITS.title });
      }
      return { kind: "link", url, ...(title ? { title } : {}) };
    }
    const name = d.name?.trim().slice(0, HEARING_LIMITS.title);
    return { kind: "file", fileId: d.fileId, ...(name ? { name } : {}) };
  });
}

/** The stored form of a hearing's fields, validated; throws HearingError on bad input. */
interface ValidFields {
  kind: HearingRow["kind"];
  title: HearingText;
  agenda: HearingText;
  durationMin: number;
  place: HearingText;
  onlineUrl: string | null;
  documents: HearingDocument[];
}

function validateFields(input: Omit<HearingInput, "municipalityId" | "startsAt">): ValidFields {
  const title = trimmedText(input.title);
  if (!title.ky && !title.ru) throw new HearingError("no_title");
  if (tooLong(title, HEARING_LIMITS.title)) {
    throw new HearingError("title_too_long", { max: HEARING_LIMITS.title });
  }
  const agenda = trimmedText(input.agenda);
  if (tooLong(agenda, HEARING_LIMITS.agenda)) {
    throw new HearingError("agenda_too_long", { max: HEARING_LIMITS.agenda });
  }
  const durationMin = input.durationMin ?? 120;
  if (
    !Number.isInteger(durationMin) ||
    durationMin < HEARING_LIMITS.minDurationMin ||
    durationMin > HEARING_LIMITS.maxDurationMin
  ) {
    throw new HearingError("duration_bad", {
      min: HEARING_LIMITS.minDurationMin,
      max: HEARING_LIMITS.maxDurationMin,
    });
  }
  const place = trimmedText(input.place);
  if (!place.ky && !place.ru) throw new HearingError("no_place");
  if (tooLong(place, HEARING_LIMITS.place)) {
    throw new HearingError("place_too_long", { max: HEARING_LIMITS.place });
  }
  const onlineUrl = input.onlineUrl?.trim() || null;
  if (onlineUrl && !isHttps(onlineUrl)) throw new HearingError("link_not_https");
  return {
    kind: input.kind,
    title,
    agenda,
    durationMin,
    place,
    onlineUrl,
    documents: validateDocuments(input.documents ?? []),
  };
}

/** The refusal that fits a hearing's state when a transition's condition did not hold. */
function stateError(h: HearingRow, now: Date, wanted: HearingStatus[]): HearingError {
  if (h.status === "cancelled") return new HearingError("cancelled");
  if (h.status === "held") return new HearingError("already_held");
  if (h.status === "draft" && !wanted.includes("draft")) return new HearingError("not_published");
  if (h.status === "published" && !wanted.includes("published")) {
    return new HearingError("already_published");
  }
  if (h.startsAt.getTime() <= now.getTime()) return new HearingError("started");
  return new HearingError("not_found");
}

/** A change residents are told of grows the sequence (the .ics SEQUENCE, reminder keys). */
const SEQUENCE_IF_PUBLISHED = sql`${hearings.sequence} + case when ${hearings.status} = 'published' then 1 else 0 end`;

export class HearingsService {
  constructor(
    readonly db: Database,
    readonly settings: HearingSettings,
    /** The clock (tests move it). */
    readonly now: () => Date = () => new Date(),
  ) {}

  // ── helpers ────────────────────────────────────────────────────────────────────────────

  private nowSql(): SQL {
    return sql`${this.now().toISOString()}::timestamptz`;
  }

  /**
   * Writes `set` to a draft or a published hearing that has not started (conditional: else the
   * error says why), growing a published one's sequence.
   */
  private async change(
    tx: Executor,
    h: HearingRow,
    set: Partial<typeof hearings.$inferInsert>,
  ): Promise<HearingRow> {
    const [updated] = await tx
      .update(hearings)
      .set({ ...set, sequence: SEQUENCE_IF_PUBLISHED, updatedAt: this.nowSql() })
      .where(and(eq(hearings.id, h.id), this.stillChangeable()))
      .returning();
    if (!updated) {
      throw stateError((await this.load(tx, h.id)) ?? h, this.now(), ["draft", "published"]);
    }
    return updated;
  }

  /** SQL: a draft, or a published hearing that has not started (what edits may change). */
  private stillChangeable(): SQL {
    return sql`(${hearings.status} = 'draft' or (${hearings.status} = 'published' and ${hearings.startsAt} > ${this.nowSql()}))`;
  }

  private async load(db: Executor, id: number): Promise<HearingRow | undefined> {
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    const rows = await db.select().from(hearings).where(eq(hearings.id, id));
    return rows[0];
  }

  /** The hearing, when the actor may manage it. */
  private async loadManaged(actor: HearingActor, id: number, db: Executor = this.db) {
    const h = await this.load(db, id);
    if (!h) throw new HearingError("not_found");
    if (!canManageMunicipality(actor.roles, h.municipalityId)) {
      throw new HearingError("not_allowed");
    }
    return h;
  }

  private async context(municipalityId: number): Promise<NoticeContext> {
    return {
      sender: await senderNames(this.db, municipalityId),
      publicUrl: this.settings.publicUrl,
      timezone: this.settings.timezone,
    };
  }

  private audit(
    tx: Executor,
    actor: HearingActor,
    action: string,
    h: HearingRow,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    return recordAudit(tx, {
      actorUserId: actor.userId,
      actorLabel: actorLabel(actor),
      action: `hearing.${action}`,
      municipalityId: h.municipalityId,
      details: { hearingId: h.id, ...details },
    });
  }

  /** Creates a message of the hearing and starts it now (in the caller's transaction). */
  private async send(
    tx: Executor,
    actor: HearingActor,
    h: HearingRow,
    kind: "hearing_notice" | "hearing_update" | "hearing_minutes",
    content: MessageContent,
    audience: StoredAudience,
    dedupeKey: string,
  ): Promise<number> {
    const m = await createOutgoingMessage(tx, {
      kind,
      municipalityId: h.municipalityId,
      createdByUserId: actor.userId ?? null,
      content,
      audience,
      dedupeKey,
    });
    await startMessage(tx, m.id);
    return m.id;
  }

  private plan(
    tx: Executor,
    actor: HearingActor,
    h: HearingRow,
    ctx: NoticeContext,
  ): Promise<PlannedReminder[]> {
    return scheduleReminders(
      tx,
      h,
      this.now(),
      (offset) => reminderContent(h, offset, ctx),
      actor.userId ?? null,
    );
  }

  /** Moves the reminders of a published hearing from its previous sequence to its current one. */
  private async replan(
    tx: Executor,
    actor: HearingActor,
    h: HearingRow,
    previousSequence: number,
    ctx: NoticeContext,
  ): Promise<PlannedReminder[]> {
    await cancelReminders(tx, h.id, previousSequence);
    return h.status === "published" ? this.plan(tx, actor, h, ctx) : [];
  }

  // ── staff ──────────────────────────────────────────────────────────────────────────────

  /** Validates and stores a draft. Throws HearingError (bad input, not allowed). */
  async create(actor: HearingActor, input: HearingInput): Promise<HearingRow> {
    if (!canManageMunicipality(actor.roles, input.municipalityId)) {
      throw new HearingError("not_allowed");
    }
    const fields = validateFields(input);
    if (!(input.startsAt instanceof Date) || Number.isNaN(input.startsAt.getTime())) {
      throw new HearingError("time_bad");
    }
    if (input.startsAt.getTime() <= this.now().getTime()) throw new HearingError("time_past");
    const reminderOffsets = validateOffsets(
      input.reminderOffsets ?? this.settings.defaultReminders,
    );
    return this.db.transaction(async (tx) => {
      const [h] = await tx
        .insert(hearings)
        .values({
          municipalityId: input.municipalityId,
          ...fields,
          startsAt: input.startsAt,
          reminderOffsets,
          createdByUserId: actor.userId ?? null,
        })
        .returning();
      if (!h) throw new Error("hearing insert returned nothing");
      await this.audit(tx, actor, "create", h, { startsAt: h.startsAt.toISOString() });
      return h;
    });
  }

  /**
   * Edits a draft or a published hearing that has not started. A published one grows its
   * sequence; a change of place or online link is told to everyone who was told (hearing_update).
   */
  async edit(actor: HearingActor, id: number, patch: HearingPatch): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    const fields = validateFields({
      kind: patch.kind ?? h.kind,
      title: patch.title ?? h.title,
      agenda: patch.agenda ?? h.agenda,
      durationMin: patch.durationMin ?? h.durationMin,
      place: patch.place ?? h.place,
      onlineUrl: patch.onlineUrl === undefined ? h.onlineUrl : patch.onlineUrl,
      documents: patch.documents ?? h.documents,
    });
    const ctx = await this.context(h.municipalityId);
    return this.db.transaction(async (tx) => {
      const updated = await this.change(tx, h, fields);
      const told =
        updated.status === "published" &&
        (JSON.stringify(updated.place) !== JSON.stringify(h.place) ||
          updated.onlineUrl !== h.onlineUrl ||
          updated.durationMin !== h.durationMin);
      if (updated.status === "published") {
        await this.replan(tx, actor, updated, updated.sequence - 1, ctx);
        if (told) {
          await this.send(
            tx,
            actor,
            updated,
            "hearing_update",
            changedContent(updated, ctx),
            hearingToldAudience({ hearingId: id }),
            `hearing:${id}:s${updated.sequence}:update`,
          );
        }
      }
      await this.audit(tx, actor, "edit", updated, {
        fields: Object.keys(patch),
        sequence: updated.sequence,
        told,
      });
      return updated;
    });
  }

  /**
   * draft → published: announces it (kind hearing_notice, audience: the municipality's
   * subscribers to "hearings") with the RSVP/ask/calendar buttons, plus one message per file
   * document, and plans its reminders. Refused when its start has passed.
   */
  async publish(actor: HearingActor, id: number): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    const ctx = await this.context(h.municipalityId);
    return this.db.transaction(async (tx) => {
      const [published] = await tx
        .update(hearings)
        .set({ status: "published", publishedAt: this.nowSql(), updatedAt: this.nowSql() })
        .where(
          and(
            eq(hearings.id, id),
            eq(hearings.status, "draft"),
            gt(hearings.startsAt, this.nowSql()),
          ),
        )
        .returning();
      if (!published) {
        const current = (await this.load(tx, id)) ?? h;
        if (current.status === "draft") throw new HearingError("time_past");
        throw stateError(current, this.now(), ["draft"]);
      }
      const prefix = `hearing:${id}:s${published.sequence}`;
      const audience = { municipalityId: published.municipalityId, topic: "hearings" as const };
      const noticeId = await this.send(
        tx,
        actor,
        published,
        "hearing_notice",
        noticeContent(published, ctx),
        audience,
        `${prefix}:notice`,
      );
      let index = 0;
      for (const doc of published.documents) {
        index++;
        if (doc.kind !== "file") continue;
        await this.send(
          tx,
          actor,
          published,
          "hearing_notice",
          documentContent(published, doc, ctx),
          audience,
          `${prefix}:doc:${index}`,
        );
      }
      const reminders = await this.plan(tx, actor, published, ctx);
      await this.audit(tx, actor, "publish", published, {
        messageId: noticeId,
        reminders: reminders.map((r) => ({ offsetMin: r.offsetMin, at: r.at.toISOString() })),
      });
      return published;
    });
  }

  /**
   * Moves a draft or published hearing to a new start (future): sequence grows, the reminders
   * move (not-yet-sent ones re-planned for the new time; ones already sent come again at their
   * offset before the new time if that is still ahead), and a published hearing's told people
   * get the old and the new time (hearing_update).
   */
  async reschedule(actor: HearingActor, id: number, startsAt: Date): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    if (!(startsAt instanceof Date) || Number.isNaN(startsAt.getTime())) {
      throw new HearingError("time_bad");
    }
    if (startsAt.getTime() <= this.now().getTime()) throw new HearingError("time_past");
    // Say what is wrong with the hearing (cancelled, held) before what is wrong with the time.
    if (h.status !== "draft" && h.status !== "published") {
      throw stateError(h, this.now(), ["draft", "published"]);
    }
    if (startsAt.getTime() === h.startsAt.getTime()) throw new HearingError("same_time");
    const ctx = await this.context(h.municipalityId);
    return this.db.transaction(async (tx) => {
      // Locked, so the previous start told to residents is the one this update replaces.
      const [before] = await tx.select().from(hearings).where(eq(hearings.id, id)).for("update");
      const [updated] = await tx
        .update(hearings)
        .set({ startsAt, sequence: sql`${hearings.sequence} + 1`, updatedAt: this.nowSql() })
        .where(and(eq(hearings.id, id), this.stillChangeable()))
        .returning();
      if (!before || !updated) {
        throw stateError(before ?? h, this.now(), ["draft", "published"]);
      }
      const previous = { startsAt: before.startsAt, durationMin: before.durationMin };
      const reminders = await this.replan(tx, actor, updated, updated.sequence - 1, ctx);
      if (updated.status === "published") {
        await this.send(
          tx,
          actor,
          updated,
          "hearing_update",
          rescheduledContent(updated, previous, ctx),
          hearingToldAudience({ hearingId: id }),
          `hearing:${id}:s${updated.sequence}:update`,
        );
      }
      await this.audit(tx, actor, "reschedule", updated, {
        from: previous.startsAt.toISOString(),
        to: updated.startsAt.toISOString(),
        sequence: updated.sequence,
        reminders: reminders.length,
      });
      return updated;
    });
  }

  /** Changes the reminder offsets of one hearing (minutes before the start) and re-plans them. */
  async setReminders(actor: HearingActor, id: number, offsets: number[]): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    const reminderOffsets = validateOffsets(offsets);
    const ctx = await this.context(h.municipalityId);
    return this.db.transaction(async (tx) => {
      // A published hearing's sequence grows so its reminders get fresh keys.
      const updated = await this.change(tx, h, { reminderOffsets });
      const planned =
        updated.status === "published"
          ? await this.replan(tx, actor, updated, updated.sequence - 1, ctx)
          : [];
      await this.audit(tx, actor, "reminders", updated, {
        offsets: reminderOffsets,
        planned: planned.map((r) => r.offsetMin),
      });
      return updated;
    });
  }

  /**
   * Cancels a draft or published hearing with a reason: its reminders are cancelled; a published
   * one's told people get the reason (hearing_update).
   */
  async cancel(actor: HearingActor, id: number, reason: string): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    const why = reason.trim();
    if (!why) throw new HearingError("reason_empty");
    if (why.length > HEARING_LIMITS.cancelReason) {
      throw new HearingError("reason_too_long", { max: HEARING_LIMITS.cancelReason });
    }
    const ctx = await this.context(h.municipalityId);
    return this.db.transaction(async (tx) => {
      const [cancelled] = await tx
        .update(hearings)
        .set({
          status: "cancelled",
          cancelReason: why,
          cancelledAt: this.nowSql(),
          sequence: sql`${hearings.sequence} + 1`,
          updatedAt: this.nowSql(),
        })
        .where(and(eq(hearings.id, id), inArray(hearings.status, ["draft", "published"])))
        .returning();
      if (!cancelled)
        throw stateError((await this.load(tx, id)) ?? h, this.now(), ["draft", "published"]);
      // Everything of this hearing not yet sent: reminders, a notice still going out.
      const stopped = await cancelByKeyPrefix(tx, hearingKeyPrefix(id));
      if (h.status === "published") {
        await this.send(
          tx,
          actor,
          cancelled,
          "hearing_update",
          cancelledContent(cancelled, ctx),
          hearingToldAudience({ hearingId: id }),
          `hearing:${id}:cancel`,
        );
      }
      await this.audit(tx, actor, "cancel", cancelled, {
        reason: why,
        previousStatus: h.status,
        messagesCancelled: stopped,
      });
      return cancelled;
    });
  }

  /** published → held (only once its start has come). */
  async markHeld(actor: HearingActor, id: number): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    return this.db.transaction(async (tx) => {
      const [held] = await tx
        .update(hearings)
        .set({ status: "held", heldAt: this.nowSql(), updatedAt: this.nowSql() })
        .where(
          and(
            eq(hearings.id, id),
            eq(hearings.status, "published"),
            sql`${hearings.startsAt} <= ${this.nowSql()}`,
          ),
        )
        .returning();
      if (!held) {
        const current = (await this.load(tx, id)) ?? h;
        if (current.status === "published") throw new HearingError("not_started");
        throw stateError(current, this.now(), ["published"]);
      }
      // A reminder cannot be due any more; drop any still scheduled.
      await cancelReminders(tx, id, held.sequence);
      await this.audit(tx, actor, "held", held);
      return held;
    });
  }

  /** Publishes the minutes of a held hearing (text and/or a document) to its told people. */
  async publishMinutes(
    actor: HearingActor,
    id: number,
    minutes: { text?: string; document?: { fileId: string; name?: string } | { url: string } },
  ): Promise<HearingRow> {
    const h = await this.loadManaged(actor, id);
    const text = minutes.text?.trim() || null;
    if (text && text.length > HEARING_LIMITS.minutes) {
      throw new HearingError("minutes_too_long", { max: HEARING_LIMITS.minutes });
    }
    let document: HearingDocument | null = null;
    if (minutes.document && "url" in minutes.document) {
      const url = minutes.document.url.trim();
      if (!isHttps(url)) throw new HearingError("link_not_https");
      document = { kind: "link", url };
    } else if (minutes.document) {
      const name = minutes.document.name?.trim();
      document = { kind: "file", fileId: minutes.document.fileId, ...(name ? { name } : {}) };
    }
    if (!text && !document) throw new HearingError("minutes_empty");
    const ctx = await this.context(h.municipalityId);
    return this.db.transaction(async (tx) => {
      const [done] = await tx
        .update(hearings)
        .set({
          minutesText: text,
          minutesDocument: document,
          minutesPublishedAt: this.nowSql(),
          updatedAt: this.nowSql(),
        })
        .where(
          and(
            eq(hearings.id, id),
            eq(hearings.status, "held"),
            sql`${hearings.minutesPublishedAt} is null`,
          ),
        )
        .returning();
      if (!done) {
        const current = (await this.load(tx, id)) ?? h;
        if (current.status === "held") throw new HearingError("minutes_published");
        if (current.status === "cancelled") throw new HearingError("cancelled");
        throw new HearingError("not_held");
      }
      const contents = minutesContents(done, ctx);
      const audience = hearingToldAudience({ hearingId: id });
      const ids: number[] = [];
      if (contents.text) {
        ids.push(
          await this.send(
            tx,
            actor,
            done,
            "hearing_minutes",
            contents.text,
            audience,
            `hearing:${id}:minutes`,
          ),
        );
      }
      if (contents.document) {
        ids.push(
          await this.send(
            tx,
            actor,
            done,
            "hearing_minutes",
            contents.document,
            audience,
            `hearing:${id}:minutes:doc`,
          ),
        );
      }
      await this.audit(tx, actor, "minutes", done, {
        messageIds: ids,
        text: Boolean(text),
        document: document?.kind ?? null,
      });
      return done;
    });
  }

  /** One hearing with its counts (checked like every staff action). */
  async get(actor: HearingActor, id: number): Promise<HearingSummary> {
    const hearing = await this.loadManaged(actor, id);
    return { hearing, counts: (await this.counts([id])).get(id) ?? { ...ZERO } };
  }

  /**
   * Hearings the actor manages, newest start first: staff their municipalities, admins all (or
   * one municipality when given).
   */
  async list(
    actor: HearingActor,
    options: { municipalityId?: number; limit?: number } = {},
  ): Promise<HearingSummary[]> {
    const conditions: SQL[] = [];
    if (options.municipalityId !== undefined) {
      if (!canManageMunicipality(actor.roles, options.municipalityId)) {
        throw new HearingError("not_allowed");
      }
      conditions.push(eq(hearings.municipalityId, options.municipalityId));
    } else if (!isAdmin(actor.roles)) {
      const own = staffMunicipalities(actor.roles);
      if (own.length === 0) throw new HearingError("not_allowed");
      conditions.push(inArray(hearings.municipalityId, own));
    }
    const rows = await this.db
      .select()
      .from(hearings)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(hearings.startsAt), desc(hearings.id))
      .limit(options.limit ?? 50);
    return this.summaries(rows);
  }

  /** The questions and proposals sent to a hearing, oldest first. */
  async questions(actor: HearingActor, id: number): Promise<HearingQuestionRow[]> {
    await this.loadManaged(actor, id);
    return this.db
      .select()
      .from(hearingQuestions)
      .where(eq(hearingQuestions.hearingId, id))
      .orderBy(asc(hearingQuestions.createdAt), asc(hearingQuestions.id));
  }

  /**
   * The RSVPs and questions as CSV for the protocol: UTF-8 with a BOM (Excel shows Cyrillic),
   * cells that start with =, +, -, @ escaped. Columns named in `locale`.
   */
  async exportCsv(actor: HearingActor, id: number, locale = "ru"): Promise<string> {
    const h = await this.loadManaged(actor, id);
    const rsvps = await this.db
      .select({
        answer: hearingRsvps.answer,
        at: hearingRsvps.updatedAt,
        userId: hearingRsvps.userId,
        name: users.firstName,
        channel: users.channel,
      })
      .from(hearingRsvps)
      .leftJoin(users, eq(users.id, hearingRsvps.userId))
      .where(eq(hearingRsvps.hearingId, id))
      .orderBy(asc(hearingRsvps.updatedAt), asc(hearingRsvps.userId));
    const questions = await this.db
      .select({
        text: hearingQuestions.text,
        at: hearingQuestions.createdAt,
        userId: hearingQuestions.userId,
        name: users.firstName,
        channel: users.channel,
      })
      .from(hearingQuestions)
      .leftJoin(users, eq(users.id, hearingQuestions.userId))
      .where(eq(hearingQuestions.hearingId, id))
      .orderBy(asc(hearingQuestions.createdAt), asc(hearingQuestions.id));
    const rows: CsvRow[] = [
      ...rsvps.map((r) => ({
        type: "rsvp" as const,
        at: r.at,
        userId: r.userId,
        name: r.name,
        channel: r.channel,
        answer: r.answer,
      })),
      ...questions.map((q) => ({
        type: "question" as const,
        at: q.at,
        userId: q.userId,
        name: q.name,
        channel: q.channel,
        text: q.text,
      })),
    ];
    const csv = hearingsCsv(rows, locale, this.settings.timezone);
    await this.audit(this.db, actor, "export", h, {
      rsvps: rsvps.length,
      questions: questions.length,
    });
    return csv;
  }

  // ── residents ──────────────────────────────────────────────────────────────────────────

  /**
   * The checks of a resident's action on a hearing: it exists and is public, it is of their
   * municipality, it is published and has not started.
   */
  private async residentCheck(db: Executor, userId: number, hearingId: number, lock = false) {
    const [user] = await db
      .select({ municipalityId: users.municipalityId })
      .from(users)
      .where(eq(users.id, userId));
    const h = lock
      ? (await db.select().from(hearings).where(eq(hearings.id, hearingId)).for("update"))[0]
      : await this.load(db, hearingId);
    if (!user || !h || h.status === "draft") throw new HearingError("not_found");
    if (user.municipalityId !== h.municipalityId) throw new HearingError("other_municipality");
    if (h.status === "cancelled") throw new HearingError("cancelled");
    if (h.status === "held" || h.startsAt.getTime() <= this.now().getTime()) {
      throw new HearingError("started");
    }
    return h;
  }

  /**
   * Going / not going, changeable until the start. Refused (HearingError) for a hearing that
   * does not exist, is not published, is cancelled, has started, or is of another municipality
   * than the person's.
   */
  async answer(userId: number, hearingId: number, answer: RsvpAnswer): Promise<HearingSummary> {
    const h = await this.residentCheck(this.db, userId, hearingId);
    // Conditional on the hearing still being open, in the same statement.
    const stored = rowsOf(
      await this.db.execute(sql`
        insert into hearing_rsvps (hearing_id, user_id, answer)
        select h.id, ${userId}, ${answer} from hearings h
        where h.id = ${hearingId} and h.status = 'published' and h.starts_at > ${this.nowSql()}
        on conflict (hearing_id, user_id)
          do update set answer = excluded.answer, updated_at = now()
        returning 1 as one`),
    );
    if (stored.length === 0) await this.residentCheck(this.db, userId, hearingId);
    return { hearing: h, counts: (await this.counts([hearingId])).get(hearingId) ?? { ...ZERO } };
  }

  /** A question or proposal (≤ 1,000 characters, at most 3 per person per hearing). */
  async ask(userId: number, hearingId: number, text: string): Promise<HearingQuestionRow> {
    const question = text.trim();
    if (!question) throw new HearingError("question_empty");
    if (question.length > HEARING_LIMITS.question) {
      throw new HearingError("question_too_long", { max: HEARING_LIMITS.question });
    }
    return this.db.transaction(async (tx) => {
      // The hearing's row is locked, so two questions at once cannot both pass the limit.
      await this.residentCheck(tx, userId, hearingId, true);
      await this.assertUnderLimit(tx, userId, hearingId);
      const [row] = await tx
        .insert(hearingQuestions)
        .values({ hearingId, userId, text: question })
        .returning();
      if (!row) throw new Error("question insert returned nothing");
      return row;
    });
  }

  private async assertUnderLimit(db: Executor, userId: number, hearingId: number): Promise<void> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(hearingQuestions)
      .where(and(eq(hearingQuestions.hearingId, hearingId), eq(hearingQuestions.userId, userId)));
    if (Number(row?.n ?? 0) >= HEARING_LIMITS.questionsPerPerson) {
      throw new HearingError("question_limit", { max: HEARING_LIMITS.questionsPerPerson });
    }
  }

  /** Checks that the person may ask now (before the flow asks them to type). */
  async assertMayAsk(userId: number, hearingId: number): Promise<HearingRow> {
    const h = await this.residentCheck(this.db, userId, hearingId);
    await this.assertUnderLimit(this.db, userId, hearingId);
    return h;
  }

  /** The person's own answer, if any. */
  async answerOf(userId: number, hearingId: number): Promise<RsvpAnswer | undefined> {
    const [row] = await this.db
      .select({ answer: hearingRsvps.answer })
      .from(hearingRsvps)
      .where(and(eq(hearingRsvps.hearingId, hearingId), eq(hearingRsvps.userId, userId)));
    return row?.answer;
  }

  /**
   * /hearings for a resident: the municipality's upcoming published hearings (soonest first),
   * and the last held ones with minutes (newest first, at most `pastLimit`).
   */
  async forResidents(
    municipalityId: number,
    pastLimit = 3,
  ): Promise<{ upcoming: HearingRow[]; past: HearingRow[] }> {
    const upcoming = await this.db
      .select()
      .from(hearings)
      .where(
        and(
          eq(hearings.municipalityId, municipalityId),
          eq(hearings.status, "published"),
          sql`${hearings.startsAt} + ${hearings.durationMin} * interval '1 minute' > ${this.nowSql()}`,
        ),
      )
      .orderBy(asc(hearings.startsAt), asc(hearings.id));
    const past =
      pastLimit > 0
        ? await this.db
            .select()
            .from(hearings)
            .where(
              and(
                eq(hearings.municipalityId, municipalityId),
                eq(hearings.status, "held"),
                isNotNull(hearings.minutesPublishedAt),
              ),
            )
            .orderBy(desc(hearings.startsAt), desc(hearings.id))
            .limit(pastLimit)
        : [];
    return { upcoming, past };
  }

  // ── public (calendar files) ────────────────────────────────────────────────────────────

  /** A hearing by id for its public calendar file: published, held or cancelled (not drafts). */
  async publicHearing(id: number): Promise<HearingRow | undefined> {
    const h = await this.load(this.db, id);
    return h && h.status !== "draft" ? h : undefined;
  }

  /** A municipality's public hearings for its calendar feed. */
  async publicHearingsOf(municipalityId: number): Promise<HearingRow[]> {
    return this.db
      .select()
      .from(hearings)
      .where(
        and(
          eq(hearings.municipalityId, municipalityId),
          inArray(hearings.status, ["published", "held", "cancelled"]),
        ),
      )
      .orderBy(asc(hearings.startsAt), asc(hearings.id));
  }

  // ── counts ─────────────────────────────────────────────────────────────────────────────

  /** Going, not going and questions of many hearings in one query. */
  async counts(ids: readonly number[]): Promise<Map<number, HearingCounts>> {
    const out = new Map<number, HearingCounts>();
    if (ids.length === 0) return out;
    const idArray = `{${ids.map((id) => Math.trunc(id)).join(",")}}`;
    const result = await this.db.execute(sql`
      select h.id, coalesce(r.going, 0) as going, coalesce(r.not_going, 0) as not_going,
        coalesce(q.n, 0) as questions
      from unnest(${idArray}::bigint[]) as h(id)
      left join lateral (select count(*) filter (where answer = 'going')::int as going,
          count(*) filter (where answer = 'not_going')::int as not_going
        from hearing_rsvps where hearing_id = h.id) r on true
      left join lateral (select count(*)::int as n from hearing_questions
        where hearing_id = h.id) q on true`);
    for (const r of rowsOf<{ id: number; going: number; not_going: number; questions: number }>(
      result,
    )) {
      out.set(Number(r.id), {
        going: Number(r.going),
        notGoing: Number(r.not_going),
        questions: Number(r.questions),
      });
    }
    return out;
  }

  private async summaries(rows: HearingRow[]): Promise<HearingSummary[]> {
    const counts = await this.counts(rows.map((h) => h.id));
    return rows.map((hearing) => ({ hearing, counts: counts.get(hearing.id) ?? { ...ZERO } }));
  }

  // ── jobs ───────────────────────────────────────────────────────────────────────────────

  /**
   * Nudges the staff of each held hearing still without minutes 3 and 7 days after it was held
   * (one message each, deduplicated by key). Returns how many nudges were started.
   */
  async nudgeMissingMinutes(): Promise<number> {
    const now = this.now().getTime();
    const due = await this.db
      .select()
      .from(hearings)
      .where(
        and(
          eq(hearings.status, "held"),
          sql`${hearings.minutesPublishedAt} is null`,
          sql`${hearings.heldAt} <= ${new Date(now - Math.min(...NUDGE_DAYS) * DAY_MS).toISOString()}::timestamptz`,
        ),
      );
    let started = 0;
    for (const h of due) {
      const heldAt = h.heldAt?.getTime() ?? now;
      // Only the latest nudge that is due: a hearing found late gets one message, not two.
      const days = NUDGE_DAYS.find((d) => heldAt <= now - d * DAY_MS);
      if (days === undefined) continue;
      const key = `hearing:${h.id}:nudge:${days}d`;
      if (await findMessageByKey(this.db, key)) continue;
      const staff = rowsOf<{ user_id: number }>(
        await this.db.execute(sql`select distinct user_id from role_grants
          where role = 'staff' and municipality_id = ${h.municipalityId}`),
      ).map((r) => Number(r.user_id));
      if (staff.length === 0) continue;
      await sendToUsers(this.db, {
        kind: "hearing_nudge",
        municipalityId: h.municipalityId,
        createdByUserId: null,
        content: nudgeContent(h, days),
        userIds: staff,
        dedupeKey: key,
      });
      started++;
    }
    return started;
  }
}
