/**
 * The polls feature's domain types: what the service takes and returns. Channel-free; the bot,
 * the CLI, the HTTP routes and the benchmark all speak these.
 */
import { FeatureError, type FeatureErrorParams } from "../../core/errors";
import type { RoleGrant } from "../../core/roles";
import type { PollAudience, PollRow, PollStatus, PollText } from "./schema";

export type { PollAudience, PollRow, PollStatus, PollText };

/** Who acts: a person with their roles (re-read from the database), or the command line. */
export interface PollActor {
  /** undefined for the command line, which acts as an administrator. */
  userId: number | undefined;
  roles: readonly RoleGrant[];
}

/** The command line's actor: an administrator without a user row, audited as "cli". */
export const CLI_ACTOR: PollActor = {
  userId: undefined,
  roles: [{ role: "admin", municipalityId: null }],
};

export const POLL_LIMITS = {
  question: 300,
  /** What a button shows on a phone without cutting it (with the ✅ of a chosen option). */
  option: 40,
  minOptions: 2,
  maxOptions: 10,
  /** The longest a poll may stay open. */
  maxOpenDays: 90,
  /** Vote presses one person may make per minute (the rest are told to slow down). */
  votesPerMinute: 20,
  /** New-account votes within BURST_WINDOW_MIN that make a burst warning. */
  burstVotes: 20,
  burstWindowMin: 10,
} as const;

/** What staff (or the CLI) give to create a poll. */
export interface PollInput {
  municipalityId: number;
  question: PollText;
  /** 2–10, each in the question's languages or one text for both. */
  options: PollText[];
  /** 1 (default): single choice; 2..options: multiple choice with at most this many. */
  maxChoices?: number;
  audience: PollAudience;
  /** Absent or not after now: opens now. */
  opensAt?: Date | null;
  closesAt: Date;
  liveResults?: boolean;
}

/** Votes per option (same order as the poll's options) and how many people voted. */
export interface PollTally {
  counts: number[];
  /** People who voted (ballots); with multiple choice, less than the sum of counts. */
  voters: number;
}

export interface PollSummary {
  poll: PollRow;
  tally: PollTally;
}

/** A resident's view of an open poll: the poll and what they chose (undefined: not yet). */
export interface ResidentPoll {
  poll: PollRow;
  myChoices: number[] | undefined;
  /** Only when the poll shows live results. */
  tally?: PollTally;
}

/** What a vote did: first vote, a change, or the same choices again (nothing changed). */
export type VoteOutcome = "new" | "changed" | "same";

export interface VoteResult {
  outcome: VoteOutcome;
  poll: PollRow;
  choices: number[];
  /** Only when the poll shows live results. */
  tally?: PollTally;
}

/** Who is voting: the person's row fields the service needs. */
export interface Voter {
  userId: number;
  municipalityId: number | null;
  channel: "telegram" | "web" | "whatsapp";
  /** E.164, only when verified (users.phone_verified_at set). */
  verifiedPhone: string | null;
  /** When the account was created (burst warnings). */
  createdAt: Date;
}

/**
 * Why an action was refused: `code` is the key under `polls.errors.` in locales/ (the bot says it
 * in the person's language, the CLI in English), `params` its interpolation values.
 */
export type PollErrorCode =
  | "not_allowed"
  | "not_found"
  | "no_such_municipality"
  | "question_empty"
  | "question_too_long"
  | "too_few_options"
  | "too_many_options"
  | "option_empty"
  | "option_too_long"
  | "option_duplicate"
  /** An option lacks a language the question has, while another option has it. */
  | "option_language"
  | "max_choices_bad"
  | "time_bad"
  | "closes_past"
  | "closes_before_opens"
  | "too_long_open"
  // Voting.
  | "not_open_yet"
  | "closed"
  | "cancelled"
  | "other_municipality"
  | "no_municipality"
  | "choice_bad"
  | "too_many_choices"
  | "no_choice"
  /** A verified-residents poll and the person has no verified phone. */
  | "verify_needed"
  /** Verified, but the number is not on the municipality's resident list. */
  | "not_resident"
  /** The municipality has not imported a resident list yet. */
  | "no_resident_list"
  | "slow_down"
  // Residents and verification.
  | "phone_bad"
  | "contact_not_own"
  | "resident_file_empty"
  | "resident_file_no_phone_column"
  | "resident_file_bad_rows"
  | "resident_file_too_big"
  // Staff actions on a poll's state.
  | "already_closed"
  | "already_cancelled"
  | "not_closed";

export class PollError extends FeatureError<PollErrorCode> {
  constructor(code: PollErrorCode, params: FeatureErrorParams = {}) {
    super(code, params);
    this.name = "PollError";
  }
}

/** The voter behind a person's row: a phone counts only once verified. */
export function voterOf(user: {
  id: number;
  municipalityId: number | null;
  channel: Voter["channel"];
  phone: string | null;
  phoneVerifiedAt: Date | null;
  createdAt: Date;
}): Voter {
  return {
    userId: user.id,
    municipalityId: user.municipalityId,
    channel: user.channel,
    verifiedPhone: user.phoneVerifiedAt ? user.phone : null,
    createdAt: user.createdAt,
  };
}
