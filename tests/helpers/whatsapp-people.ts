import { eq, sql } from "drizzle-orm";
import ru from "../../locales/ru.json";
import { updateUserSettings } from "../../src/core/people";
import { conversationState, type Topic, type UserRow, users } from "../../src/db/schema";
import {
  buttonsOf,
  type OfferedButton,
  type Person,
  type SentMessage,
  textOf,
} from "../fixtures/fake-graph-api/server";
import { waitFor } from "./wait";
import type { RunningWhatsApp } from "./whatsapp";

/**
 * What people on WhatsApp do and see in tests against the app of tests/helpers/whatsapp.ts:
 * answers to what they do, the options they tap, and residents set up as if onboarded.
 */

/** Kyrgyzstan's regions as people see them in lists: labels of a realistic length and script. */
export const REGION_LABELS = [
  "Ысык-Көл облусу",
  "Жалал-Абад облусу",
  "Чүй облусу",
  "Баткен облусу",
  "Нарын облусу",
  "Ош облусу",
  "Талас облусу",
  "Бишкек шаары",
];

/** Resolves once every message the app accepted so far is processed (its replies sent). */
export async function drainInbound(wa: RunningWhatsApp): Promise<void> {
  const channel = wa.app.whatsapp;
  if (!channel) throw new Error("the WhatsApp channel is off");
  await channel.inbound.drain();
}

/**
 * Runs what a person does and resolves with the messages the app sent them in answer. The
 * webhook is answered once the message is stored and queued, so draining the inbound queue
 * afterwards means every reply has been sent.
 */
export async function answerTo(
  wa: RunningWhatsApp,
  p: Person,
  act: () => Promise<unknown>,
): Promise<SentMessage[]> {
  const before = wa.fake.messagesTo(p).length;
  await act();
  await drainInbound(wa);
  return wa.fake.messagesTo(p).slice(before);
}

/** The one option labelled `label` (a shortened title carries the full label as description). */
export function option(message: SentMessage | undefined, label: string): OfferedButton {
  const found = message
    ? buttonsOf(message).find((b) => b.title === label || b.description === label)
    : undefined;
  if (!found) {
    const offered = message ? buttonsOf(message).map((b) => b.title) : [];
    throw new Error(`no option "${label}" in ${JSON.stringify(offered)}`);
  }
  return found;
}

/** Taps an option the way WhatsApp sends it: a list row or a reply button. */
export function choose(
  wa: RunningWhatsApp,
  p: Person,
  message: SentMessage,
  choice: OfferedButton,
) {
  const type = (message.body.interactive as { type?: string } | undefined)?.type;
  return type === "list" ? wa.fake.pickRow(p, choice) : wa.fake.pressButton(p, choice);
}

/** The first message to `p` after the `after` first ones that passes `test`, once it is there. */
export function nextMessage(
  wa: RunningWhatsApp,
  p: Person,
  after: number,
  test: (m: SentMessage) => boolean,
  what: string,
): Promise<SentMessage> {
  return waitFor(() => wa.fake.messagesTo(p).slice(after).find(test), undefined, what);
}

/** A newcomer greets the app and picks a language: the replies to the language's button. */
export async function greetAndChoose(
  wa: RunningWhatsApp,
  p: Person,
  greeting: string,
  languageName: string,
): Promise<SentMessage[]> {
  const [welcome] = await answerTo(wa, p, () => wa.fake.sendText(p, greeting));
  return answerTo(wa, p, () => wa.fake.pressButton(p, option(welcome, languageName)));
}

/** The person's row in users (by their number). */
export async function userOf(wa: RunningWhatsApp, p: Person): Promise<UserRow> {
  const [row] = await wa.app.database.db
    .select()
    .from(users)
    .where(eq(users.channelUserId, p.waId ?? ""));
  if (!row) throw new Error(`no user for ${p.waId ?? p.userId}`);
  return row;
}

/**
 * Onboards a person through the real flow, in Russian, to the first municipality found for
 * "Сокулук", with the topics as offered and consent given.
 */
export async function onboardInRussian(
  wa: RunningWhatsApp,
  p: Person,
): Promise<{ userId: number; municipalityId: number }> {
  await greetAndChoose(wa, p, "Салам", ru.language.name);
  const [found] = await answerTo(wa, p, () => wa.fake.sendText(p, "Сокулук"));
  const [, topics] = await answerTo(wa, p, () => choose(wa, p, found!, buttonsOf(found!)[0]!));
  const [, consent] = await answerTo(wa, p, () =>
    choose(wa, p, topics!, option(topics, ru.common.done)),
  );
  const finished = await answerTo(wa, p, () =>
    wa.fake.pressButton(p, option(consent, ru.onboarding.consent_agree)),
  );
  if (!finished.map(textOf).join("\n").includes(ru.onboarding.finished.slice(0, 6))) {
    throw new Error(`onboarding did not finish: ${JSON.stringify(finished.map(textOf))}`);
  }
  const row = await userOf(wa, p);
  if (row.municipalityId === null) throw new Error(`${p.name} has no municipality`);
  return { userId: row.id, municipalityId: row.municipalityId };
}

export interface SettledResident {
  p: Person;
  /** Their row as their first message created it (before the settings were written). */
  user: UserRow;
  userId: number;
  /** How many messages the app had sent them once settled (the welcome). */
  seen: number;
}

/**
 * A WhatsApp resident set up as if they had finished onboarding, without walking through it:
 * their first message creates them (and opens the 24-hour window); the settings are then written
 * directly and the onboarding flow their message started is ended.
 */
export async function settledResident(
  wa: RunningWhatsApp,
  resident: {
    name: string;
    waId: string;
    topics: Topic[];
    /** The app's first municipality unless given. */
    municipalityId?: number;
  },
): Promise<SettledResident> {
  const db = wa.app.database.db;
  const p = wa.person(resident.name, resident.waId);
  await wa.fake.sendText(p, "Салам");
  await wa.fake.waitForMessages(p, 1);
  const user = await userOf(wa, p);
  await updateUserSettings(db, user.id, {
    locale: "ky",
    municipalityId: resident.municipalityId ?? wa.municipalityId,
    topics: resident.topics,
    consentAt: new Date(),
  });
  // The flow's state is stored once the welcome has gone: wait for it, then end the flow.
  const key = eq(conversationState.key, String(user.chatId));
  await waitFor(async () => (await db.select().from(conversationState).where(key)).length > 0);
  await db.delete(conversationState).where(key);
  return { p, user, userId: user.id, seen: wa.fake.messagesTo(p).length };
}

/** The person last wrote two days ago, for Meta and for the app: their window is closed. */
export async function lastWroteLongAgo(
  wa: RunningWhatsApp,
  resident: { p: Person; userId: number },
): Promise<void> {
  wa.fake.closeWindow(resident.p);
  await wa.app.database.db
    .update(users)
    .set({ lastMessageAt: sql`now() - interval '2 days'` })
    .where(eq(users.id, resident.userId));
}

/**
 * The helpers above bound to one running app. `app` is read at each call, so a describe block can
 * bind them before its beforeAll starts the app.
 */
export function peopleOf(app: () => RunningWhatsApp) {
  const bound =
    <A extends unknown[], R>(helper: (wa: RunningWhatsApp, ...args: A) => R) =>
    (...args: A): R =>
      helper(app(), ...args);
  return {
    drainInbound: bound(drainInbound),
    answerTo: bound(answerTo),
    option,
    choose: bound(choose),
    nextMessage: bound(nextMessage),
    greetAndChoose: bound(greetAndChoose),
    userOf: bound(userOf),
    onboardInRussian: bound(onboardInRussian),
    settledResident: bound(settledResident),
    lastWroteLongAgo: bound(lastWroteLongAgo),
  };
}
