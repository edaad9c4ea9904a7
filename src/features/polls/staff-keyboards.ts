/**
 * The staff's inline keyboards for polls: the list, a poll's card, confirmations, and the steps
 * of the create flow. A keyboard only offers; every press is checked again on the server.
 */
import { InlineKeyboard } from "grammy";
import type { TFunction } from "../../i18n";
import { POLL_CB } from "./callbacks";
import type { PollRow } from "./schema";
import { POLL_LIMITS } from "./types";

/** Actions of a poll's card, by state. */
export type StaffAction = "close" | "cancel" | "results" | "export";

/** What can still be done to a poll in this state (the service checks again). */
export function cardActions(poll: Pick<PollRow, "status">): StaffAction[] {
  switch (poll.status) {
    case "scheduled":
    case "open":
      return ["results", "export", "close", "cancel"];
    case "closed":
    case "cancelled":
      return ["results", "export"];
  }
}

export function cardKeyboard(t: TFunction, poll: Pick<PollRow, "id" | "status">): InlineKeyboard {
  const kb = new InlineKeyboard();
  cardActions(poll).forEach((action, i) => {
    kb.text(t(`polls.staff.btn_${action}`), POLL_CB.action.pack({ pollId: poll.id, action }));
    if (i % 2 === 1) kb.row();
  });
  return kb.row().text(t("polls.staff.btn_list"), POLL_CB.list.pack());
}

/** "Yes, close it" / "No": a close or a cancel asks once more. */
export function confirmKeyboard(
  t: TFunction,
  pollId: number,
  action: "close" | "cancel",
): InlineKeyboard {
  return new InlineKeyboard()
    .text(t(`polls.staff.btn_confirm_${action}`), POLL_CB.confirm.pack({ pollId, action }))
    .row()
    .text(t("polls.staff.btn_back"), POLL_CB.open.pack({ pollId }));
}

/** The staff list: one button per poll opening its card, then "New poll" and "Resident list". */
export function staffListKeyboard(
  t: TFunction,
  items: readonly { id: number; label: string }[],
): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const item of items) kb.text(item.label, POLL_CB.open.pack({ pollId: item.id })).row();
  return kb
    .text(t("polls.staff.btn_create"), POLL_CB.create.pack())
    .row()
    .text(t("polls.residents.btn_open"), POLL_CB.residents.pack());
}

/** "Open the poll": after the create flow, its card. */
export function openKeyboard(t: TFunction, pollId: number): InlineKeyboard {
  return new InlineKeyboard().text(t("polls.staff.btn_open"), POLL_CB.open.pack({ pollId }));
}

// ── The create flow ──────────────────────────────────────────────────────────────────────

const withCancel = (t: TFunction, kb: InlineKeyboard) =>
  kb.row().text(t("common.cancel"), POLL_CB.abort.pack());

export function cancelKeyboard(t: TFunction): InlineKeyboard {
  return withCancel(t, new InlineKeyboard());
}

export function skipKeyboard(t: TFunction): InlineKeyboard {
  return withCancel(t, new InlineKeyboard().text(t("polls.create.btn_skip"), POLL_CB.skip.pack()));
}

/** The options step: "Done" once there are enough options. */
export function optionsKeyboard(t: TFunction, count: number): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (count >= POLL_LIMITS.minOptions) kb.text(t("polls.create.btn_done"), POLL_CB.done.pack());
  return withCancel(t, kb);
}

export function modeKeyboard(t: TFunction): InlineKeyboard {
  return withCancel(
    t,
    new InlineKeyboard()
      .text(t("polls.create.btn_single"), POLL_CB.mode.pack({ mode: "single" }))
      .row()
      .text(t("polls.create.btn_multiple"), POLL_CB.mode.pack({ mode: "multiple" })),
  );
}

/** 2..options: the most a person may choose. */
export function maxChoicesKeyboard(t: TFunction, options: number): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (let max = 2; max <= options; max++) {
    kb.text(String(max), POLL_CB.maxChoices.pack({ max }));
    if ((max - 1) % 5 === 0) kb.row();
  }
  return withCancel(t, kb);
}

export function audienceKeyboard(t: TFunction): InlineKeyboard {
  return withCancel(
    t,
    new InlineKeyboard()
      .text(t("polls.create.btn_subscribers"), POLL_CB.audience.pack({ audience: "subscribers" }))
      .row()
      .text(t("polls.create.btn_verified"), POLL_CB.audience.pack({ audience: "verified" })),
  );
}

export function opensKeyboard(t: TFunction): InlineKeyboard {
  return withCancel(
    t,
    new InlineKeyboard().text(t("polls.create.btn_now"), POLL_CB.opensNow.pack()),
  );
}

/** Quick closing times, counted from the opening. */
export const CLOSE_IN_DAYS = [1, 3, 7] as const;

export function closesKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const days of CLOSE_IN_DAYS) {
    kb.text(t("polls.create.btn_in_days", { count: days }), POLL_CB.closesIn.pack({ days }));
  }
  return withCancel(t, kb);
}

export function liveKeyboard(t: TFunction): InlineKeyboard {
  return withCancel(
    t,
    new InlineKeyboard()
      .text(t("polls.create.btn_live_yes"), POLL_CB.live.pack({ live: true }))
      .row()
      .text(t("polls.create.btn_live_no"), POLL_CB.live.pack({ live: false })),
  );
}

/** Open now, or (when a later opening was typed) schedule; and Cancel. */
export function saveKeyboard(t: TFunction, scheduled: boolean): InlineKeyboard {
  const kb = new InlineKeyboard();
  if (scheduled)
    kb.text(t("polls.create.btn_schedule"), POLL_CB.save.pack({ mode: "schedule" })).row();
  kb.text(t("polls.create.btn_open_now"), POLL_CB.save.pack({ mode: "open" }));
  return withCancel(t, kb);
}
