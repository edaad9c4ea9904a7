/**
 * A feature's refusal of what someone asked for (a poll closing before it opens, a hearing
 * cancelled twice): a code that is a key under `<feature>.errors.` in the locales, and the values
 * its text needs. Each feature has its own subclass (HearingError, PollError), so a handler
 * catches only the refusals of the feature it serves; the chat and the command line turn any of
 * them into text the same way (src/bot/refusals.ts, src/cli/args.ts).
 */
export type FeatureErrorParams = Record<string, string | number>;

export class FeatureError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    readonly params: FeatureErrorParams = {},
  ) {
    super(code);
    this.name = "FeatureError";
  }
}
