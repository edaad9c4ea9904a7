/**
 * The first step of every staff flow that acts for a municipality (a hearing, a poll, an
 * announcement): staff of one municipality get theirs without a question; staff of several
 * pick one by button; an admin types a name and picks from what is found. Each flow keeps its
 * own button and Cancel (its wait loop ends the flow on Cancel), and its own wording.
 */
import { InlineKeyboard } from "grammy";
import type { CallbackData, CallbackField } from "../../bot/callback-data";
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { once } from "../../bot/conversation-kit";
import { findPersonByChatId } from "../../core/people";
import { isAdmin, staffMunicipalities } from "../../core/permissions";
import { displayName, getMunicipality, searchMunicipalities } from "./service";

/** What a flow's wait loop hands back, as far as the chooser cares. */
export type ChooserAnswer =
  | { kind: "button"; data: string; ctx: ConvContext }
  | { kind: "text"; text: string; ctx: ConvContext }
  | { kind: "photo" | "document"; ctx: ConvContext };

export interface MunicipalityChoice {
  id: number;
  /** In the person's language. */
  name: string;
}

export interface ChooserOptions {
  /** The flow's button carrying a municipality id. */
  button: CallbackData<{ municipalityId: CallbackField<number> }>;
  /** The flow's Cancel button's data (its wait loop handles the press). */
  abortData: string;
  /** The flow's wait loop: the next answer, `buttons` accepted besides Cancel. */
  wait: (conversation: AppConversation, buttons: RegExp) => Promise<ChooserAnswer>;
  /** The flow's wording: pick one of these; type a name (admins); nothing found. */
  text: { choose: string; type: string; notFound: string };
}

/** How many matches an admin's search shows. */
const SEARCH_RESULTS = 6;
/** Longest search query (longer names do not exist). */
const MAX_QUERY = 100;

function keyboard(
  options: ChooserOptions,
  cancel: string,
  choices: readonly { id: number; label: string }[],
): InlineKeyboard {
  const kb = new InlineKeyboard();
  for (const c of choices) {
    kb.text(c.label, options.button.pack({ municipalityId: c.id })).row();
  }
  return kb.text(cancel, options.abortData);
}

/**
 * The municipality the flow acts for; undefined when the person may act for none (the flow
 * says so and ends). A pressed id is checked against the person's own municipalities (any
 * existing one for an admin), whatever the button claims; the service checks again at write.
 */
export async function chooseMunicipality(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
  options: ChooserOptions,
): Promise<MunicipalityChoice | undefined> {
  const chatId = ctx.chatId ?? 0;
  const cancel = ctx.t("common.cancel");
  const rights = await once(conversation, async () => {
    const person = await findPersonByChatId(deps.db, chatId);
    return person
      ? { admin: isAdmin(person.roles), ids: staffMunicipalities(person.roles) }
      : { admin: false, ids: [] as number[] };
  });
  const nameOf = (id: number) =>
    once(conversation, async () => {
      const m = await getMunicipality(deps.db, id);
      return m ? displayName(m, ctx.locale) : null;
    });
  const picked = async (data: string): Promise<MunicipalityChoice | undefined> => {
    const id = options.button.unpack(data).municipalityId;
    if (!rights.admin && !rights.ids.includes(id)) return undefined;
    const name = await nameOf(id);
    return name === null ? undefined : { id, name };
  };
  const buttons = options.button.filter();

  if (!rights.admin) {
    const [only] = rights.ids;
    if (only === undefined) return undefined;
    if (rights.ids.length === 1) {
      const name = await nameOf(only);
      return name === null ? undefined : { id: only, name };
    }
    const choices = [];
    for (const id of rights.ids) choices.push({ id, label: (await nameOf(id)) ?? String(id) });
    const markup = keyboard(options, cancel, choices);
    await ctx.reply(options.text.choose, { reply_markup: markup });
    for (;;) {
      const answer = await options.wait(conversation, buttons);
      const choice = answer.kind === "button" ? await picked(answer.data) : undefined;
      if (choice) return choice;
      await answer.ctx.reply(options.text.choose, { reply_markup: markup });
    }
  }

  await ctx.reply(options.text.type);
  for (;;) {
    const answer = await options.wait(conversation, buttons);
    if (answer.kind === "button") {
      const choice = await picked(answer.data);
      if (choice) return choice;
      continue;
    }
    if (answer.kind !== "text") {
      await answer.ctx.reply(options.text.type);
      continue;
    }
    const query = answer.text.slice(0, MAX_QUERY);
    const found = await once(conversation, async () =>
      (await searchMunicipalities(deps.db, query, SEARCH_RESULTS)).map(({ municipality: m }) => ({
        id: m.id,
        label: displayName(m, ctx.locale),
      })),
    );
    if (found.length === 0) {
      await answer.ctx.reply(options.text.notFound);
      continue;
    }
    await answer.ctx.reply(options.text.choose, {
      reply_markup: keyboard(options, cancel, found),
    });
  }
}
