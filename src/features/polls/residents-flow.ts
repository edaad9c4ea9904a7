/**
 * "Resident list" (staff, /polls): municipality → the list's state and the file's format → the
 * CSV file as a document, imported whole or not at all (a refused file can be sent again,
 * corrected). On Telegram only: the web chat takes no uploads, so there the button says where
 * the list is imported instead. The size is checked before the download; the import re-reads
 * the person and their roles, and the service checks them again.
 */
import { InlineKeyboard } from "grammy";
import { anyOf } from "../../bot/callback-data";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import { isSyntheticChatId } from "../../channels/types";
import { staffMunicipalities } from "../../core/permissions";
import type { TFunction } from "../../i18n";
import { chooseMunicipality } from "../municipalities/chooser";
import { displayName, getMunicipality } from "../municipalities/service";
import { actorOf, attempt, isPollStaff, refusalText, serviceOf } from "./bot-common";
import { POLL_CB } from "./callbacks";
import { RESIDENT_FILE_LIMITS } from "./resident-file";
import { importResidentUpload, type UploadResult } from "./resident-upload";
import { importedText, introText, type ListState, stateLine, webText } from "./residents-texts";

export const POLL_RESIDENTS = "pollResidents";

/** Refusals after which sending another file cannot help: the flow ends. */
const FINAL_CODES = new Set(["not_allowed", "no_such_municipality"]);
/** Own municipalities listed on the web chat. */
const WEB_LISTS = 5;
/** Matches nothing: the file step has no buttons of its own (Cancel still works). */
const NO_BUTTONS = /^(?!)/;

/** Thrown inside the flow when the person presses Cancel: ends it quietly. */
class Aborted extends Error {}

type Input =
  | { kind: "button"; data: string; ctx: ConvContext }
  | { kind: "text"; text: string; ctx: ConvContext }
  | { kind: "document"; fileId: string; size: number | undefined; ctx: ConvContext };

function cancelKeyboard(t: TFunction): InlineKeyboard {
  return new InlineKeyboard().text(t("common.cancel"), POLL_CB.residentsAbort.pack());
}

/** The next answer: a button of `buttons`, typed text or a document; Cancel ends the flow. */
async function next(conversation: AppConversation, buttons: RegExp): Promise<Input> {
  const answer = await ask(conversation, {
    buttons: anyOf(POLL_CB.residentsAbort, buttons),
    clearKeyboard: true,
    acceptText: true,
    acceptFiles: "documents",
    onOther: (ctx) =>
      ctx.reply(ctx.t("polls.residents.send_document"), { reply_markup: cancelKeyboard(ctx.t) }),
  });
  if (answer.kind === "button" && POLL_CB.residentsAbort.filter().test(answer.data)) {
    await answer.ctx.reply(answer.ctx.t("polls.residents.aborted"));
    throw new Aborted();
  }
  if (answer.kind === "aside") throw new Error("no aside in this flow");
  // acceptFiles "documents" never hands over a photo (it gets onOther).
  if (answer.kind === "photo") throw new Error("no photos in this flow");
  if (answer.kind === "document") {
    const size = answer.ctx.message?.document?.file_size;
    return { kind: "document", fileId: answer.fileId, size, ctx: answer.ctx };
  }
  return answer;
}

/** The list's state now, or the refusal's code (the person may no longer be staff). */
async function listState(
  conversation: AppConversation,
  deps: BotDeps,
  chatId: number,
  municipalityId: number,
) {
  return once(conversation, async () => {
    const actor = await actorOf(deps, chatId);
    if (!actor) return { ok: false as const, code: "not_allowed", params: {} };
    return attempt(async (): Promise<ListState | null> => {
      const list = await serviceOf(deps).residentList(actor, municipalityId);
      return list ? { numbers: list.numbers, importedAt: list.importedAt.getTime() } : null;
    });
  });
}

async function run(conversation: AppConversation, ctx: ConvContext, deps: BotDeps) {
  const t = ctx.t;
  const chatId = ctx.chatId ?? 0;
  const municipality = await chooseMunicipality(conversation, ctx, deps, {
    button: POLL_CB.residentsMunicipality,
    abortData: POLL_CB.residentsAbort.pack(),
    wait: next,
    text: {
      choose: t("polls.residents.choose_municipality"),
      type: t("polls.create.type_municipality"),
      notFound: t("polls.create.municipality_not_found"),
    },
  });
  if (!municipality) {
    await ctx.reply(refusalText(t, "not_allowed"));
    return;
  }
  const state = await listState(conversation, deps, chatId, municipality.id);
  if (!state.ok) {
    await ctx.reply(refusalText(t, state.code, state.params));
    return;
  }
  const tz = deps.config.timezone;
  await ctx.reply(introText(t, ctx.locale, tz, municipality.name, state.value), {
    parse_mode: "HTML",
    reply_markup: cancelKeyboard(t),
  });
  for (;;) {
    const answer = await next(conversation, NO_BUTTONS);
    if (answer.kind !== "document") {
      await answer.ctx.reply(t("polls.residents.send_document"), {
        reply_markup: cancelKeyboard(t),
      });
      continue;
    }
    // Refused before the download: Telegram says the size with the document.
    if (answer.size !== undefined && answer.size > RESIDENT_FILE_LIMITS.maxBytes) {
      const tooBig = refusalText(t, "resident_file_too_big", {
        max_mb: RESIDENT_FILE_LIMITS.maxBytes / (1024 * 1024),
        max_rows: RESIDENT_FILE_LIMITS.maxRows,
      });
      await answer.ctx.reply(`${tooBig}\n\n${t("polls.residents.try_again")}`, {
        reply_markup: cancelKeyboard(t),
      });
      continue;
    }
    await answer.ctx.reply(t("polls.residents.checking"));
    const upload = { chatId, municipalityId: municipality.id, fileId: answer.fileId };
    const result = await conversation.external(
      (outside): Promise<UploadResult> => importResidentUpload(deps, outside.api, upload),
    );
    if (result.kind === "imported") {
      await answer.ctx.reply(importedText(t, ctx.locale, result.numbers, state.value !== null));
      return;
    }
    if (result.kind === "refused" && FINAL_CODES.has(result.code)) {
      await answer.ctx.reply(refusalText(t, result.code, result.params));
      return;
    }
    const why =
      result.kind === "refused"
        ? refusalText(t, result.code, result.params)
        : t("polls.residents.download_failed");
    await answer.ctx.reply(`${why}\n\n${t("polls.residents.try_again")}`, {
      reply_markup: cancelKeyboard(t),
    });
  }
}

/** The resident list flow, ended quietly by Cancel. */
export function pollResidentsConversation(deps: BotDeps) {
  return async function pollResidents(conversation: AppConversation, ctx: ConvContext) {
    try {
      await run(conversation, ctx, deps);
    } catch (error) {
      if (error instanceof Aborted) return;
      throw error;
    }
  };
}

/** The web chat's answer to the button: the import is done on Telegram or with the CLI. */
async function explainOnWeb(ctx: AppContext, deps: BotDeps): Promise<void> {
  const service = serviceOf(deps);
  const actor = { userId: ctx.user.id, roles: ctx.roles };
  const lists = [];
  for (const id of staffMunicipalities(ctx.roles).slice(0, WEB_LISTS)) {
    const m = await getMunicipality(deps.db, id);
    const list = await service.residentList(actor, id);
    const state = list ? { numbers: list.numbers, importedAt: list.importedAt.getTime() } : null;
    lists.push({
      id,
      name: m ? displayName(m, ctx.locale) : String(id),
      state: stateLine(ctx.t, ctx.locale, deps.config.timezone, state),
    });
  }
  await ctx.reply(webText(ctx.t, lists), { parse_mode: "HTML" });
}

/**
 * The "Resident list" button under /polls (its data may be forged: only staff and admins get
 * on, and the flow and the service check the municipality again).
 */
export async function openResidentList(ctx: AppContext, deps: BotDeps): Promise<void> {
  if (!isPollStaff(ctx.roles)) {
    await ctx.answerCallbackQuery({ text: refusalText(ctx.t, "not_allowed"), show_alert: true });
    return;
  }
  await ctx.answerCallbackQuery();
  if (ctx.user.channel !== "telegram" || isSyntheticChatId(ctx.chatId ?? 0)) {
    await explainOnWeb(ctx, deps);
    return;
  }
  await ctx.conversation.exitAll();
  await ctx.conversation.enter(POLL_RESIDENTS);
}
