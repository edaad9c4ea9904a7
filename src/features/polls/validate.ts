/**
 * What staff type for a poll, checked and put into its stored form: the same rules for the chat
 * flow and the command line. Throws PollError naming the first problem.
 */
import type { PollText } from "./schema";
import { POLL_LIMITS, PollError, type PollInput } from "./types";

const DAY_MS = 86_400_000;

function trimmed(text: PollText): PollText {
  const out: PollText = {};
  const ky = text.ky?.replace(/\s+/g, " ").trim();
  const ru = text.ru?.replace(/\s+/g, " ").trim();
  if (ky) out.ky = ky;
  if (ru) out.ru = ru;
  return out;
}

function languagesOf(text: PollText): ("ky" | "ru")[] {
  return (["ky", "ru"] as const).filter((l) => Boolean(text[l]));
}

export function validateQuestion(question: PollText): PollText {
  const q = trimmed(question);
  if (!q.ky && !q.ru) throw new PollError("question_empty");
  for (const l of languagesOf(q)) {
    if ((q[l] ?? "").length > POLL_LIMITS.question) {
      throw new PollError("question_too_long", { max: POLL_LIMITS.question });
    }
  }
  return q;
}

/**
 * One option: in the question's languages, or one text used for all of them. An option in a
 * language the question lacks is kept as typed (a Kyrgyz question may have a Russian-only
 * option name, e.g. a street name).
 */
function validateOption(option: PollText, question: PollText, n: number): PollText {
  const o = trimmed(option);
  const given = languagesOf(o);
  if (given.length === 0) throw new PollError("option_empty", { n });
  for (const l of given) {
    if ((o[l] ?? "").length > POLL_LIMITS.option) {
      throw new PollError("option_too_long", { n, max: POLL_LIMITS.option });
    }
  }
  if (given.length === 1) {
    const only = o[given[0] as "ky" | "ru"] as string;
    const out: PollText = {};
    for (const l of languagesOf(question)) out[l] = only;
    return languagesOf(out).length ? out : o;
  }
  return o;
}

export function validateOptions(options: readonly PollText[], question: PollText): PollText[] {
  if (options.length < POLL_LIMITS.minOptions) {
    throw new PollError("too_few_options", { min: POLL_LIMITS.minOptions });
  }
  if (options.length > POLL_LIMITS.maxOptions) {
    throw new PollError("too_many_options", { max: POLL_LIMITS.maxOptions });
  }
  const out = options.map((o, i) => validateOption(o, question, i + 1));
  for (const l of ["ky", "ru"] as const) {
    const seen = new Set<string>();
    for (const o of out) {
      const key = o[l]?.toLocaleLowerCase("ru");
      if (!key) continue;
      if (seen.has(key)) throw new PollError("option_duplicate", { text: o[l] ?? "" });
      seen.add(key);
    }
  }
  return out;
}

export function validateMaxChoices(maxChoices: number | undefined, options: number): number {
  const max = maxChoices ?? 1;
  if (!Number.isInteger(max) || max < 1 || max > options) {
    throw new PollError("max_choices_bad", { max: options });
  }
  return max;
}

/** Opening now when no time is given or it has passed; closing after the opening, in time. */
export function validateTimes(
  opensAt: Date | null | undefined,
  closesAt: Date,
  now: Date,
): { opensAt: Date; opensNow: boolean; closesAt: Date } {
  if (Number.isNaN(closesAt.getTime()) || (opensAt && Number.isNaN(opensAt.getTime()))) {
    throw new PollError("time_bad");
  }
  const opensNow = !opensAt || opensAt.getTime() <= now.getTime();
  const opens = opensNow ? now : (opensAt as Date);
  if (closesAt.getTime() <= now.getTime()) throw new PollError("closes_past");
  if (closesAt.getTime() <= opens.getTime()) throw new PollError("closes_before_opens");
  if (closesAt.getTime() - opens.getTime() > POLL_LIMITS.maxOpenDays * DAY_MS) {
    throw new PollError("too_long_open", { days: POLL_LIMITS.maxOpenDays });
  }
  return { opensAt: opens, opensNow, closesAt };
}

/** The whole input, validated. */
export function validatePollInput(input: PollInput, now: Date) {
  const question = validateQuestion(input.question);
  const options = validateOptions(input.options, question);
  const maxChoices = validateMaxChoices(input.maxChoices, options.length);
  const times = validateTimes(input.opensAt, input.closesAt, now);
  return { question, options, maxChoices, ...times };
}

/**
 * A ballot's choices: distinct option indexes, ascending, between 1 and the poll's maximum.
 * Forged or stale presses (an option that does not exist, too many) are refused here.
 */
export function validateChoices(
  choices: readonly number[],
  poll: { options: readonly unknown[]; maxChoices: number },
): number[] {
  const unique = [...new Set(choices)].sort((a, b) => a - b);
  if (unique.length === 0) throw new PollError("no_choice");
  if (unique.some((c) => !Number.isInteger(c) || c < 0 || c >= poll.options.length)) {
    throw new PollError("choice_bad");
  }
  if (unique.length > poll.maxChoices) {
    throw new PollError("too_many_choices", { max: poll.maxChoices });
  }
  return unique;
}
