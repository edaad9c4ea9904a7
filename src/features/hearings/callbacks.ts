import { callbackData, field } from "../../bot/callback-data";

/**
 * Callback data of the hearings feature, one definition per button. The residents' buttons ride
 * on delivered notices and reminders for weeks, so their format must not change. Every press is
 * re-checked on the server (hearing exists, its status, the presser's municipality and role).
 */
export const HEARING_CB = {
  // On residents' notices and reminders.
  going: callbackData("hr:go", { hearingId: field.int() }),
  notGoing: callbackData("hr:no", { hearingId: field.int() }),
  ask: callbackData("hr:ask", { hearingId: field.int() }),
  calendar: callbackData("hr:ics", { hearingId: field.int() }),
  // Staff's hearing card.
  open: callbackData("hs:open", { hearingId: field.int() }),
  action: callbackData("hs:act", {
    hearingId: field.int(),
    action: field.oneOf([
      "publish",
      "edit",
      "reschedule",
      "reminders",
      "cancel",
      "held",
      "minutes",
      "questions",
      "export",
    ]),
  }),
  // Steps of the staff flows.
  pick: callbackData("hs:pick", { value: field.oneOf(["a", "b", "c", "d", "e", "f"]) }),
  skip: callbackData("hs:skip"),
  abort: callbackData("hs:abort"),
  // Added with the staff flows (bot helper): one definition per kind of step, so a button left
  // on an earlier step's message never answers a later step.
  /** "New hearing" under the staff list. */
  create: callbackData("hs:new"),
  /** Back from a card to the list. */
  list: callbackData("hs:list"),
  /** The municipality a new hearing is for (several staff municipalities, or an admin's search). */
  municipality: callbackData("hs:mun", { municipalityId: field.int() }),
  kind: callbackData("hs:kind", { kind: field.oneOf(["draft_budget", "budget_report", "other"]) }),
  duration: callbackData("hs:dur", { minutes: field.oneOf(["60", "120", "180"]) }),
  /** The end of the documents step. */
  done: callbackData("hs:done"),
  /** After the preview: publish now or keep as a draft. */
  save: callbackData("hs:save", { mode: field.oneOf(["publish", "draft"]) }),
  /** What to edit on a hearing. */
  field: callbackData("hs:fld", {
    field: field.oneOf(["title", "agenda", "place", "link", "duration"]),
  }),
} as const;
