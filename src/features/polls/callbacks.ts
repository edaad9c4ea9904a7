import { callbackData, field } from "../../bot/callback-data";

/**
 * Callback data of the polls feature. The residents' buttons ride on delivered poll messages
 * for the whole time a poll is open, so their format must not change. A multiple-choice
 * keyboard carries the presser's current selection as a bit mask in its own buttons: toggling
 * needs no server state, and every instance reads the same. Every press is re-checked on the
 * server (the poll, its times, the presser's municipality, the option and the choice count).
 */
export const POLL_CB = {
  // On residents' poll messages.
  /** Single choice: this option is the vote. */
  vote: callbackData("pv", { pollId: field.int(), option: field.int({ maxDigits: 2 }) }),
  /** Multiple choice: toggle an option in the selection `mask`. */
  toggle: callbackData("pt", {
    pollId: field.int(),
    mask: field.int({ maxDigits: 4 }),
    option: field.int({ maxDigits: 2 }),
  }),
  /** Multiple choice: the selection `mask` is the vote. */
  submit: callbackData("ps", { pollId: field.int(), mask: field.int({ maxDigits: 4 }) }),
  /** Under /polls: show this poll's card with its buttons. */
  show: callbackData("pl:show", { pollId: field.int() }),
  /** Share the phone number to verify (a verified-residents poll). */
  verify: callbackData("pl:verify"),
  // Staff.
  open: callbackData("pm:open", { pollId: field.int() }),
  action: callbackData("pm:act", {
    pollId: field.int(),
    action: field.oneOf(["close", "cancel", "results", "export", "chart"]),
  }),
  confirm: callbackData("pm:yes", {
    pollId: field.int(),
    action: field.oneOf(["close", "cancel"]),
  }),
  list: callbackData("pm:list"),
  create: callbackData("pm:new"),
  /** The resident list: its state, and (on Telegram) a new file to import. */
  residents: callbackData("pm:res"),
  // Steps of the resident list flow.
  residentsMunicipality: callbackData("pr:mun", { municipalityId: field.int() }),
  residentsAbort: callbackData("pr:abort"),
  // Steps of the staff create flow.
  municipality: callbackData("pc:mun", { municipalityId: field.int() }),
  pick: callbackData("pc:pick", { value: field.oneOf(["a", "b", "c", "d", "e", "f"]) }),
  skip: callbackData("pc:skip"),
  abort: callbackData("pc:abort"),
  save: callbackData("pc:save", { mode: field.oneOf(["open", "schedule"]) }),
  /** The options step: no more options. */
  done: callbackData("pc:done"),
  /** Single or multiple choice. */
  mode: callbackData("pc:mode", { mode: field.oneOf(["single", "multiple"]) }),
  /** The most options a person may choose (multiple choice). */
  maxChoices: callbackData("pc:max", { max: field.int({ maxDigits: 2 }) }),
  audience: callbackData("pc:aud", { audience: field.oneOf(["subscribers", "verified"]) }),
  /** The opening: now. */
  opensNow: callbackData("pc:now"),
  /** The closing: this many days after the opening. */
  closesIn: callbackData("pc:in", { days: field.int({ maxDigits: 2 }) }),
  live: callbackData("pc:live", { live: field.flag() }),
} as const;

/** The options chosen in a selection mask (bit i: option i), ascending. */
export function maskChoices(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 31; i++) if (mask & (1 << i)) out.push(i);
  return out;
}

export function choicesMask(choices: readonly number[]): number {
  return choices.reduce((m, i) => m | (1 << i), 0);
}
