/**
 * The hearings' inline keyboards in the chat. Every button is re-checked on the server when
 * pressed: the keyboard only offers, it never decides.
 */
import { InlineKeyboard } from "grammy";
import { pickText } from "../../delivery";
import type { TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { HEARING_CB } from "./callbacks";
import { residentButtons } from "./notices";
import type { HearingKind, HearingRow } from "./schema";

/** Actions of the staff card, in the order they are offered. */
export type CardAction =
  | "publish"
  | "edit"
  | "reschedule"
  | "reminders"
  | "cancel"
  | "held"
  | "minutes"
  | "questions"
  | "export";

/** What a hearing in this state can still have done to it (the service checks again). */
export function cardActions(h: Pick<HearingRow, "status" | "startsAt">, now: Date): CardAction[] {
  const started = h.startsAt.getTime() <= now.getTime();
  switch (h.status) {
    case "draft":
      return started
        ? ["reschedule", "cancel"]
        : ["publish", "edit", "reschedule", "reminders", "cancel"];
    case "published":
      return started
        ? ["held", "questions", "export"]
        : ["edit", "reschedule", "reminders", "cancel", "questions", "export"];
    case "held":
      return ["minutes", "questions", "export"];
    case "cancelled":
      return ["questions", "export"];
  }
}

export function cardKeyboard(
  t: TFunction,
  h: Pick<HearingRow, "id" | "status" | "startsAt">,
  now: Date,
): InlineKeyboard {
  const kb = new InlineKeyboard();
  const actions = cardActions(h, now);
  actions.forEach((action, i) => {
    kb.text(t(`hearings.staff.btn_${action}`), HEARING_CB.action.pack({ hearingId: h.id, action }));
    if (i % 2 === 1) kb.row();
  });
  if (actions.length % 2 === 1) kb.row();
  return kb.text(t("hearings.staff.btn_list"), HEARING_CB.list.pack());
}

/** "Open the hearing": after a flow, back to the card. */
export function openKeyboard(t: TFunction, hearingId: number): InlineKeyboard {
  return new InlineKeyboard().text(
    t("hearings.staff.btn_open"),
    HEARING_CB.open.pack({ hearingId }),
  );
}

/** The staff list: one button per hearing opening its card, then "New hearing". */
export function staffListKeyboard(
  t: TFunction,
  items: readonly { id: number; label: string }[],
): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const item of items) kb.text(item.label, HEARING_CB.open.pack({ hearingId: item.id })).row();
  return kb.text(t("hearings.staff.btn_create"), HEARING_CB.create.pack());
}

/** Going / not going / ask / calendar: the very buttons of the notices, in the reader's language. */
export function residentKeyboard(hearingId: number, locale: Locale): InlineKeyboard {
  return InlineKeyboard.from(
    residentButtons(hearingId).map((row) =>
      row.map((b) => InlineKeyboard.text(pickText(b.text, locale), b.callbackData ?? "")),
    ),
  );
}

const abortRow = (t: TFunction, kb: InlineKeyboard) =>
  kb.row().text(t("common.cancel"), HEARING_CB.abort.pack());

/** Only "Cancel": a step that waits for typed text. */
export function abortKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard().text(t("common.cancel"), HEARING_CB.abort.pack());
}

/** A button that moves on without an answer ("Skip", "No link", "Keep as is"), and Cancel. */
export function skipKeyboard(t: TFunction, label: string): InlineKeyboard {
  return abortRow(t, new InlineKeyboard().text(label, HEARING_CB.skip.pack()));
}

export function doneKeyboard(t: TFunction): InlineKeyboard {
  return abortRow(
    t,
    new InlineKeyboard().text(t("hearings.staff.btn_done"), HEARING_CB.done.pack()),
  );
}

export function kindKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const kind of ["draft_budget", "budget_report", "other"] as const satisfies HearingKind[]) {
    kb.text(t(`hearings.kind.${kind}`), HEARING_CB.kind.pack({ kind })).row();
  }
  return kb.text(t("common.cancel"), HEARING_CB.abort.pack());
}

export function durationKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const minutes of ["60", "120", "180"] as const) {
    kb.text(
      t("common.hours", { count: Number(minutes) / 60 }),
      HEARING_CB.duration.pack({ minutes }),
    );
  }
  return abortRow(t, kb);
}

export function saveKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard()
    .text(t("hearings.staff.btn_publish_now"), HEARING_CB.save.pack({ mode: "publish" }))
    .row()
    .text(t("hearings.staff.btn_save_draft"), HEARING_CB.save.pack({ mode: "draft" }))
    .row()
    .text(t("common.cancel"), HEARING_CB.abort.pack());
}

export type EditField = "title" | "agenda" | "place" | "link" | "duration";

export function fieldKeyboard(t: TFunction): InlineKeyboard {
  const kb = new InlineKeyboard();
  const fields: EditField[] = ["title", "agenda", "place", "link", "duration"];
  fields.forEach((field, i) => {
    kb.text(t(`hearings.staff.field_${field}`), HEARING_CB.field.pack({ field }));
    if (i % 2 === 1) kb.row();
  });
  return abortRow(t, kb);
}
