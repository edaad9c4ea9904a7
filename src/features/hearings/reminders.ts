/**
 * Reminders of a hearing: which moments to remind at (pure), and the scheduled outgoing
 * messages that carry them. Each reminder is its own scheduled message with a dedupe key of the
 * hearing's sequence, so several app instances and restarts create it once and the scheduler
 * starts it once; a change of the hearing cancels the old sequence's reminders and plans anew.
 */
import type { Executor } from "../../db/client";
import { cancelByKeyPrefix, createOutgoingMessage, type MessageContent } from "../../delivery";
import { hearingReminderAudience } from "./audiences";
import type { HearingRow } from "./schema";

export interface PlannedReminder {
  /** Minutes before the start. */
  offsetMin: number;
  /** When it goes. */
  at: Date;
  /**
   * If it has not started by then (every instance was down), it is dropped: halfway to the next
   * later reminder (or the start), past which that one is the closer, better message.
   */
  expiresAt: Date;
}

/**
 * The reminders still ahead for a start and offsets (minutes before it), earliest first. Offsets
 * are de-duplicated; moments at or before `now` are left out.
 */
export function planReminders(
  startsAt: Date,
  offsetsMin: readonly number[],
  now: Date,
): PlannedReminder[] {
  const start = startsAt.getTime();
  const offsets = [...new Set(offsetsMin)].filter((o) => o > 0).sort((a, b) => b - a);
  const out: PlannedReminder[] = [];
  offsets.forEach((offsetMin, i) => {
    const at = start - offsetMin * 60_000;
    if (at <= now.getTime()) return;
    const nextOffset = offsets[i + 1];
    const next = nextOffset === undefined ? start : start - nextOffset * 60_000;
    out.push({ offsetMin, at: new Date(at), expiresAt: new Date(at + (next - at) / 2) });
  });
  return out;
}

/** The key prefix of every message of a hearing. */
export function hearingKeyPrefix(hearingId: number): string {
  return `hearing:${hearingId}:`;
}

/** The key prefix of the reminders of one sequence of a hearing. */
export function reminderKeyPrefix(hearingId: number, sequence: number): string {
  return `hearing:${hearingId}:s${sequence}:reminder:`;
}

export function reminderKey(hearingId: number, sequence: number, offsetMin: number): string {
  return `${reminderKeyPrefix(hearingId, sequence)}${offsetMin}`;
}

/**
 * Schedules the reminders of a published hearing at its current sequence (in the caller's
 * transaction). Idempotent: planning twice finds the same keys. Returns what was planned.
 */
export async function scheduleReminders(
  tx: Executor,
  hearing: HearingRow,
  now: Date,
  contentFor: (offsetMin: number) => MessageContent,
  createdByUserId: number | null,
): Promise<PlannedReminder[]> {
  const plan = planReminders(hearing.startsAt, hearing.reminderOffsets, now);
  for (const r of plan) {
    await createOutgoingMessage(tx, {
      kind: "hearing_reminder",
      municipalityId: hearing.municipalityId,
      createdByUserId,
      content: contentFor(r.offsetMin),
      audience: hearingReminderAudience({ hearingId: hearing.id }),
      scheduledAt: r.at,
      expiresAt: r.expiresAt,
      dedupeKey: reminderKey(hearing.id, hearing.sequence, r.offsetMin),
    });
  }
  return plan;
}

/** Cancels the not-yet-sent reminders of one sequence. Returns how many. */
export async function cancelReminders(
  tx: Executor,
  hearingId: number,
  sequence: number,
): Promise<number> {
  return cancelByKeyPrefix(tx, reminderKeyPrefix(hearingId, sequence));
}
