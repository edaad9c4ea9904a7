/**
 * "New hearing" (staff): kind → title → agenda → date and time → duration → place → online link
 * → documents → the preview residents will get → publish now, save as a draft, or cancel.
 * Nothing is stored before the last step; the write re-reads the person and their roles.
 */
import type { AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { once } from "../../bot/conversation-kit";
import { sendAsDelivered } from "../../bot/preview";
import { renderForRecipient } from "../../delivery";
import { escapeHtml } from "../../i18n";
import { chooseMunicipality, type MunicipalityChoice } from "../municipalities/chooser";
import { attempt, noticeContextOf, refusalText, serviceOf } from "./bot-common";
import { HEARING_CB } from "./callbacks";
import {
  actorOfOrRefuse,
  askBilingual,
  askDuration,
  askHearingTime,
  askPlace,
  askTitle,
} from "./flow-parts";
import { doneKeyboard, kindKeyboard, openKeyboard, saveKeyboard, skipKeyboard } from "./keyboards";
import { documentContent, noticeContent } from "./notices";
import type { HearingDocument, HearingKind, HearingRow } from "./schema";
import { Aborted, isHttpsUrl, next } from "./steps";
import { HEARING_LIMITS, type HearingInput } from "./types";

export const HEARING_CREATE = "hearingCreate";

/** The municipality of the new hearing (see municipalities/chooser). */
function chooseHearingMunicipality(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
): Promise<MunicipalityChoice | undefined> {
  const t = ctx.t;
  return chooseMunicipality(conversation, ctx, deps, {
    button: HEARING_CB.municipality,
    abortData: HEARING_CB.abort.pack(),
    wait: next,
    text: {
      choose: t("hearings.staff.choose_municipality"),
      type: t("hearings.staff.type_municipality"),
      notFound: t("hearings.staff.municipality_not_found"),
    },
  });
}

/** Files (sent in the chat) or https links, one by one, until "Done" or the limit. */
async function askDocuments(
  conversation: AppConversation,
  ctx: ConvContext,
): Promise<HearingDocument[]> {
  const t = ctx.t;
  const max = HEARING_LIMITS.documents;
  const documents: HearingDocument[] = [];
  await ctx.reply(t("hearings.staff.ask_documents", { max }), { reply_markup: doneKeyboard(t) });
  while (documents.length < max) {
    const answer = await next(conversation, HEARING_CB.done.filter());
    if (answer.kind === "button") break;
    if (answer.kind === "document") {
      documents.push({
        kind: "file",
        fileId: answer.fileId,
        ...(answer.name ? { name: answer.name.slice(0, 200) } : {}),
      });
    } else if (isHttpsUrl(answer.text)) {
      documents.push({ kind: "link", url: answer.text });
    } else {
      await answer.ctx.reply(t("hearings.staff.document_bad"), { reply_markup: doneKeyboard(t) });
      continue;
    }
    if (documents.length < max) {
      await answer.ctx.reply(t("hearings.staff.document_added", { n: documents.length, max }), {
        reply_markup: doneKeyboard(t),
      });
    } else {
      await answer.ctx.reply(t("hearings.staff.documents_full", { max }));
    }
  }
  return documents;
}

/** The row the input would become, for the preview (id 0: nothing is stored yet). */
function draftRow(input: HearingInput, defaults: readonly number[]): HearingRow {
  const at = new Date(0);
  return {
    id: 0,
    municipalityId: input.municipalityId,
    kind: input.kind,
    status: "draft",
    title: input.title,
    agenda: input.agenda ?? {},
    startsAt: input.startsAt,
    durationMin: input.durationMin ?? 120,
    place: input.place,
    onlineUrl: input.onlineUrl ?? null,
    documents: input.documents ?? [],
    reminderOffsets: [...defaults],
    sequence: 0,
    cancelReason: null,
    minutesText: null,
    minutesDocument: null,
    createdByUserId: null,
    publishedAt: null,
    cancelledAt: null,
    heldAt: null,
    minutesPublishedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** Sends the preview: the notice (and each file's message) exactly as a resident gets them. */
async function preview(
  ctx: ConvContext,
  deps: BotDeps,
  conversation: AppConversation,
  input: HearingInput,
): Promise<void> {
  const chatId = ctx.chatId ?? 0;
  const notice = await once(conversation, () => noticeContextOf(deps, input.municipalityId));
  const row = draftRow(input, deps.config.hearingReminders);
  await ctx.reply(ctx.t("hearings.staff.preview_header"));
  const contents = [noticeContent(row, notice)];
  for (const doc of row.documents) {
    if (doc.kind === "file") contents.push(documentContent(row, doc, notice));
  }
  for (const content of contents) {
    await sendAsDelivered(ctx.api, chatId, renderForRecipient(content, ctx.locale));
  }
}

async function create(conversation: AppConversation, ctx: ConvContext, deps: BotDeps) {
  const t = ctx.t;
  const chatId = ctx.chatId ?? 0;
  const municipality = await chooseHearingMunicipality(conversation, ctx, deps);
  if (!municipality) {
    await ctx.reply(t("errors.not_allowed"));
    return;
  }
  await ctx.reply(t("hearings.staff.start", { municipality: escapeHtml(municipality.name) }), {
    parse_mode: "HTML",
  });

  await ctx.reply(t("hearings.staff.ask_kind"), { reply_markup: kindKeyboard(t) });
  let kindAnswer = await next(conversation, HEARING_CB.kind.filter());
  while (kindAnswer.kind !== "button") {
    await kindAnswer.ctx.reply(t("hearings.staff.ask_kind"), { reply_markup: kindKeyboard(t) });
    kindAnswer = await next(conversation, HEARING_CB.kind.filter());
  }
  const kind: HearingKind = HEARING_CB.kind.unpack(kindAnswer.data).kind;

  const title = await askTitle(conversation, ctx);
  const agenda = await askBilingual(conversation, ctx, "agenda");
  const startsAt = await askHearingTime(conversation, ctx, deps, t("hearings.staff.ask_time"));
  const durationMin = await askDuration(conversation, ctx);
  const place = await askPlace(conversation, ctx);

  let onlineUrl: string | undefined;
  const linkPrompt = t("hearings.staff.ask_link");
  const noLink = skipKeyboard(t, t("hearings.staff.btn_no_link"));
  await ctx.reply(linkPrompt, { reply_markup: noLink });
  for (;;) {
    const answer = await next(conversation, HEARING_CB.skip.filter());
    if (answer.kind === "button") break;
    if (answer.kind === "text" && isHttpsUrl(answer.text)) {
      onlineUrl = answer.text;
      break;
    }
    await answer.ctx.reply(refusalText(t, "link_not_https"), { reply_markup: noLink });
  }

  const documents = await askDocuments(conversation, ctx);
  const input: HearingInput = {
    municipalityId: municipality.id,
    kind,
    title,
    agenda,
    startsAt,
    durationMin,
    place,
    onlineUrl: onlineUrl ?? null,
    documents,
  };

  await preview(ctx, deps, conversation, input);
  await ctx.reply(t("hearings.staff.ask_save"), { reply_markup: saveKeyboard(t) });
  let saveAnswer = await next(conversation, HEARING_CB.save.filter());
  while (saveAnswer.kind !== "button") {
    await saveAnswer.ctx.reply(t("hearings.staff.ask_save"), { reply_markup: saveKeyboard(t) });
    saveAnswer = await next(conversation, HEARING_CB.save.filter());
  }
  const mode = HEARING_CB.save.unpack(saveAnswer.data).mode;

  // The write: the person and their roles as the database has them now.
  const saved = await once(conversation, async () => {
    const service = serviceOf(deps);
    const actor = await actorOfOrRefuse(deps, chatId);
    if (!actor.ok) return { created: actor, published: undefined };
    const created = await attempt(async () => (await service.create(actor.value, input)).id);
    if (!created.ok || mode === "draft") return { created, published: undefined };
    const id = created.value;
    const published = await attempt(async () => (await service.publish(actor.value, id)).id);
    return { created, published };
  });
  if (!saved.created.ok) {
    await ctx.reply(refusalText(t, saved.created.code, saved.created.params));
    return;
  }
  const id = saved.created.value;
  const open = { reply_markup: openKeyboard(t, id) };
  if (saved.published === undefined) {
    await ctx.reply(t("hearings.staff.saved_draft", { id }), open);
  } else if (saved.published.ok) {
    await ctx.reply(t("hearings.staff.published", { id }), open);
  } else {
    const why = refusalText(t, saved.published.code, saved.published.params);
    await ctx.reply(`${why}\n${t("hearings.staff.saved_draft", { id })}`, open);
  }
}

/** The create flow, ended quietly by Cancel. */
export function hearingCreateConversation(deps: BotDeps) {
  return async function hearingCreate(conversation: AppConversation, ctx: ConvContext) {
    try {
      await create(conversation, ctx, deps);
    } catch (error) {
      if (error instanceof Aborted) return;
      throw error;
    }
  };
}
