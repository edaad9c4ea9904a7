/**
 * The hearings feature's domain types: what the service takes and returns. Channel-free; the
 * bot, the CLI, the HTTP routes and the benchmark all speak these.
 */
import { FeatureError, type FeatureErrorParams } from "../../core/errors";
import type { RoleGrant } from "../../core/roles";
import type {
  HearingDocument,
  HearingKind,
  HearingQuestionRow,
  HearingRow,
  HearingText,
} from "./schema";

export type { HearingDocument, HearingKind, HearingQuestionRow, HearingRow, HearingText };

/** Who acts: a person with their roles (re-read from the database), or the command line. */
export interface HearingActor {
  /** undefined for the command line, which acts as an administrator. */
  userId: number | undefined;
  roles: readonly RoleGrant[];
}

/** The command line's actor: an administrator without a user row, audited as "cli". */
export const CLI_ACTOR: HearingActor = {
  userId: undefined,
  roles: [{ role: "admin", municipalityId: null }],
};

/** Limits of what staff type (characters). */
export const HEARING_LIMITS = {
  title: 200,
  agenda: 3000,
  place: 300,
  question: 1000,
  /** Questions and proposals one person may send to one hearing. */
  questionsPerPerson: 3,
  minutes: 3500,
  cancelReason: 500,
  documents: 5,
  minDurationMin: 15,
  maxDurationMin: 1440,
} as const;

/** What staff (or the CLI) give to create a hearing or change it. */
export interface HearingInput {
  municipalityId: number;
  kind: HearingKind;
  title: HearingText;
  agenda?: HearingText;
  startsAt: Date;
  /** Default 120. */
  durationMin?: number;
  place: HearingText;
  /** https only. */
  onlineUrl?: string | null;
  documents?: HearingDocument[];
  /** Minutes before the start, largest first; default the deployment's HEARING_REMINDERS. */
  reminderOffsets?: number[];
}

/** What can be edited on an existing hearing (not its municipality; start: reschedule). */
export type HearingPatch = Partial<
  Pick<
    HearingInput,
    "kind" | "title" | "agenda" | "durationMin" | "place" | "onlineUrl" | "documents"
  >
>;

export interface HearingCounts {
  going: number;
  notGoing: number;
  questions: number;
}

export interface HearingSummary {
  hearing: HearingRow;
  counts: HearingCounts;
}

/**
 * Why an action was refused: `code` is the key under `hearings.errors.` in locales/ (the bot
 * says it in the person's language, the CLI in English), `params` its interpolation values.
 */
export type HearingErrorCode =
  | "not_allowed"
  | "not_found"
  | "time_bad"
  | "time_past"
  | "duration_bad"
  | "no_title"
  | "title_too_long"
  | "agenda_too_long"
  | "no_place"
  | "place_too_long"
  | "link_not_https"
  | "too_many_documents"
  | "reminders_bad"
  | "cancelled"
  | "started"
  | "not_published"
  | "already_published"
  | "not_held"
  | "already_held"
  /** Marking as held a hearing whose start has not come yet. */
  | "not_started"
  /** The minutes of this hearing were already published. */
  | "minutes_published"
  | "other_municipality"
  | "question_empty"
  | "question_too_long"
  | "question_limit"
  | "minutes_empty"
  | "minutes_too_long"
  | "reason_empty"
  | "reason_too_long"
  | "same_time";

export class HearingError extends FeatureError<HearingErrorCode> {
  constructor(code: HearingErrorCode, params: FeatureErrorParams = {}) {
    super(code, params);
    this.name = "HearingError";
  }
}

/** Settings of the deployment the feature needs (from Config). */
export interface HearingSettings {
  /** TIMEZONE (Asia/Bishkek): how times are typed and shown. */
  timezone: string;
  /** PUBLIC_URL: base of the calendar links put into messages. */
  publicUrl: string;
  /** HEARING_REMINDERS in minutes before the start, largest first. */
  defaultReminders: readonly number[];
}

/**
 * The feature's settings from the parsed configuration. `publicUrl` is read when used: an app
 * started on PORT=0 (tests) learns its address only once it listens.
 */
export function hearingSettingsOf(config: {
  timezone: string;
  publicUrl: string;
  hearingReminders: readonly number[];
}): HearingSettings {
  return {
    timezone: config.timezone,
    get publicUrl() {
      return config.publicUrl;
    },
    defaultReminders: config.hearingReminders,
  };
}
