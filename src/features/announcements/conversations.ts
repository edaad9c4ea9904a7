import { Composer } from "grammy";
import type { MessageEntity } from "grammy/types";
import { anyOf } from "../../bot/callback-data";
import type { AppContext, AppConversation, BotDeps, ConvContext } from "../../bot/context";
import { ask, once } from "../../bot/conversation-kit";
import { flow } from "../../bot/flows";
import { sendAsDelivered } from "../../bot/preview";
import { findPersonByChatId } from "../../core/people";
import { visibleText } from "../../delivery";
import { escapeHtml, formatDateTime, formatNumber, type TFunction } from "../../i18n";
import { chooseMunicipality, type MunicipalityChoice } from "../municipalities/chooser";
import { type FormattedText, trimFormatted } from "./format";
import {
  audienceKeyboard,
  CB,
  cancelBroadcastKeyboard,
  confirmKeyboard,
  skipKeyboard,
  whenKeyboard,
} from "./keyboards";
import {
  type Actor,
  ANNOUNCEMENT_LOCALES,
  type AnnouncementInput,
  type AnnouncementLocale,
  AnnouncementNotAllowedError,
  audienceSize,
  createAnnouncement,
  previewAnnouncement,
  senderLine,
  senderNames,
} from "./service";
import { parseSendTime } from "./time";

export const ANNOUNCE = "announce";

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;

/** Thrown inside the flow when the person presses "Cancel": ends it quietly. */
class Aborted extends Error {}

type Input =
  | { kind: "text"; text: string; entities?: MessageEntity[]; ctx: ConvContext }
  | { kind: "button"; data: string; ctx: ConvContext }
  | { kind: "photo"; fileId: string; ctx: ConvContext }
  | { kind: "document"; fileId: string; ctx: ConvContext };

/**
 * The next thing the person sends (commands end the flow before it: see bot/flows). "Cancel" aborts,
 * buttons outside `buttons` are answered as stale. Text comes trimmed, with the messenger's
 * formatting entities moved along.
 */
async function next(conversation: AppConversation, buttons: RegExp): Promise<Input> {
  const answer = await ask(conversation, {
    buttons: anyOf(CB.abort, buttons),
    clearKeyboard: true,
    acceptText: true,
    maxLength: Number.POSITIVE_INFINITY,
    acceptFiles: true,
    onOther: (ctx) => ctx.reply(ctx.t("announcements.unexpected")),
  });
  if (answer.kind === "button" && CB.abort.filter().test(answer.data)) {
    await answer.ctx.reply(answer.ctx.t("announcements.aborted"));
    throw new Aborted();
  }
  if (answer.kind === "text") {
    const msg = answer.ctx.message;
    const typed = trimFormatted({ text: msg?.text ?? answer.text, entities: msg?.entities ?? [] });
    return typed.entities?.length
      ? { kind: "text", text: typed.text, entities: [...typed.entities], ctx: answer.ctx }
      : { kind: "text", text: typed.text, ctx: answer.ctx };
  }
  if (answer.kind === "aside") throw new Error("no aside in this flow");
  return answer;
}

/**
 * "Audience: all residents (Sokuluk) — 1,234 people" in the sender's language (HTML): the
 * audience said back in words wherever the sender decides.
 */
function audienceSummary(
  t: TFunction,
  locale: ConvContext["locale"],
  choice: string,
  municipality: string,
  n: number,
): string {
  const key = choice === "deputy" || choice === "staff" || choice === "all" ? choice : "sub";
  return t("announcements.audience_chosen", {
    audience: t(`announcements.audience_label_${key}`, { municipality: escapeHtml(municipality) }),
    people: t("announcements.people", { count: n, n: formatNumber(n, locale) }),
  });
}

/** Reloads the person and their roles from the database: every step re-checks rights. */
async function actorOf(deps: BotDeps, chatId: number): Promise<Actor | undefined> {
  const person = await findPersonByChatId(deps.db, chatId);
  if (!person) return undefined;
  return { userId: person.user.id, roles: person.roles };
}

/** The municipality of the announcement (see municipalities/chooser). */
function chooseAnnouncementMunicipality(
  conversation: AppConversation,
  ctx: ConvContext,
  deps: BotDeps,
): Promise<MunicipalityChoice | undefined> {
  return chooseMunicipality(conversation, ctx, deps, {
    button: CB.municipality,
    abortData: CB.abort.pack(),
    wait: next,
    text: {
      choose: ctx.t("announcements.choose_municipality"),
      type: ctx.t("announcements.type_municipality"),
      notFound: ctx.t("announcements.municipality_not_found"),
    },
  });
}

/**
 * Asks for the text in one language. `max` is what is left of Telegram's limit once the sender
 * line is added (it counts what the reader sees, so the typed characters).
 */
async function askText(
  conversation: AppConversation,
  ctx: ConvContext,
  key: "ask_text_ky" | "ask_text_ru",
  optional: boolean,
  max: number,
): Promise<FormattedText | undefined> {
  const prompt = ctx.t(`announcements.${key}`);
  await ctx.reply(prompt, {
    reply_markup: optional ? skipKeyboard(ctx.t, ctx.t("announcements.skip")) : undefined,
  });
  for (;;) {
    // Skipping is only possible where offered (an old Skip button must not skip a required text).
    const answer = await next(conversation, optional ? CB.skip.filter() : /^(?!)/);
    if (answer.kind === "button") return undefined;
    if (answer.kind === "text") {
      if (answer.text.length > max) {
        await answer.ctx.reply(
          ctx.t("announcements.too_long", { length: answer.text.length, max }),
        );
        continue;
      }
      return answer.entities
        ? { text: answer.text, entities: answer.entities }
        : { text: answer.text };
    }
    await answer.ctx.reply(prompt);
  }
}

/** /broadcast: compose → audience → preview → now or later → confirm → send. */
export function announceConversation(deps: BotDeps) {
  return async function announce(conversation: AppConversation, ctx: ConvContext) {
    try {
      await compose(conversation, ctx, deps);
    } catch (error) {
      if (error instanceof Aborted) return;
      if (error instanceof AnnouncementNotAllowedError) {
        await ctx.reply(ctx.t("errors.not_allowed"));
        return;
      }
      throw error;
    }
  };
}

async function compose(conversation: AppConversation, ctx: ConvContext, deps: BotDeps) {
  const t = ctx.t;
  const chatId = ctx.chatId ?? 0;
  const municipality = await chooseAnnouncementMunicipality(conversation, ctx, deps);
  if (!municipality) {
    await ctx.reply(t("errors.not_allowed"));
    return;
  }
  await ctx.reply(t("announcements.start", { municipality: escapeHtml(municipality.name) }), {
    parse_mode: "HTML",
  });

  // Every language's text starts with who sends it; Telegram's limits count that line too.
  const sender = await once(conversation, () => senderNames(deps.db, municipality.id));
  const reserve = (l: AnnouncementLocale) => visibleText(senderLine(sender[l])).length + 2;
  const ky = await askText(conversation, ctx, "ask_text_ky", true, MAX_TEXT - reserve("ky"));
  const ru = await askText(
    conversation,
    ctx,
    "ask_text_ru",
    ky !== undefined,
    MAX_TEXT - reserve("ru"),
  );
  const input: AnnouncementInput = {
    municipalityId: municipality.id,
    text: { ky: ky?.text, ru: ru?.text },
    entities: { ky: ky?.entities, ru: ru?.entities },
  };

  await ctx.reply(t("announcements.ask_media"), {
    reply_markup: skipKeyboard(t, t("announcements.no_media")),
  });
  for (;;) {
    const answer = await next(conversation, CB.skip.filter());
    if (answer.kind === "button") break;
    if (answer.kind === "photo" || answer.kind === "document") {
      const over = ANNOUNCEMENT_LOCALES.map((l) => ({
        length: input.text[l]?.length ?? 0,
        max: MAX_CAPTION - reserve(l),
      })).find((c) => c.length > c.max);
      if (over) {
        await answer.ctx.reply(t("announcements.caption_too_long", over), {
          reply_markup: skipKeyboard(t, t("announcements.no_media")),
        });
        continue;
      }
      if (answer.kind === "photo") input.photo = answer.fileId;
      else input.document = answer.fileId;
      break;
    }
    await answer.ctx.reply(t("announcements.ask_media"), {
      reply_markup: skipKeyboard(t, t("announcements.no_media")),
    });
  }

  await ctx.reply(t("announcements.ask_audience"), { reply_markup: audienceKeyboard(t) });
  let audienceAnswer = await next(conversation, CB.audience.filter());
  while (audienceAnswer.kind !== "button") {
    await audienceAnswer.ctx.reply(t("announcements.ask_audience"), {
      reply_markup: audienceKeyboard(t),
    });
    audienceAnswer = await next(conversation, CB.audience.filter());
  }
  const choice = CB.audience.unpack(audienceAnswer.data).audience;
  if (choice === "all") input.topic = null;
  if (choice === "deputy" || choice === "staff") {
    input.role = choice;
    input.topic = null;
  }
  let recipients = await once(conversation, async () => {
    const actor = await actorOf(deps, chatId);
    if (!actor) throw new AnnouncementNotAllowedError();
    return audienceSize(deps.db, actor, input);
  });
  // Said back in words on the audience message itself, so the choice stays visible above.
  const summary = (n: number) => audienceSummary(t, ctx.locale, choice, municipality.name, n);
  await audienceAnswer.ctx
    .editMessageText(summary(recipients), { parse_mode: "HTML" })
    .catch(() => {});

  // Preview: the very Bot API calls recipients get, once per language written.
  const languages = ANNOUNCEMENT_LOCALES.filter((l) => input.text[l]);
  for (const locale of languages) {
    const preview = await once(conversation, async () => {
      const actor = await actorOf(deps, chatId);
      if (!actor) throw new AnnouncementNotAllowedError();
      return previewAnnouncement(deps.db, actor, input, locale);
    });
    recipients = preview.recipients;
    await ctx.reply(
      t("announcements.preview_header", { language: t(`announcements.lang_${locale}`) }),
    );
    await sendAsDelivered(ctx.api, chatId, preview.rendered);
  }
  if (languages.length === 1) {
    await ctx.reply(t("announcements.preview_one_language"));
  }

  await ctx.reply(t("announcements.ask_when", { audience: summary(recipients) }), {
    parse_mode: "HTML",
    reply_markup: whenKeyboard(t),
  });
  const when = await next(conversation, anyOf(CB.now, CB.later));
  let at: Date | undefined;
  if (when.kind === "button" && CB.later.filter().test(when.data)) {
    await ctx.reply(t("announcements.ask_time"));
    for (;;) {
      const answer = await next(conversation, /^$/);
      const now = new Date(await once(conversation, async () => Date.now()));
      const parsed =
        answer.kind === "text" ? parseSendTime(answer.text, deps.config.timezone, now) : undefined;
      if (parsed && parsed.getTime() > now.getTime() + 30_000) {
        at = parsed;
        break;
      }
      await answer.ctx.reply(t(parsed ? "announcements.time_past" : "announcements.time_bad"));
    }
  }

  const whenText = at
    ? t("announcements.confirm_later", {
        time: formatDateTime(at, ctx.locale, deps.config.timezone),
        audience: summary(recipients),
      })
    : t("announcements.confirm_now", { audience: summary(recipients) });
  await ctx.reply(whenText, { parse_mode: "HTML", reply_markup: confirmKeyboard(t) });
  await next(conversation, CB.confirm.filter());

  if (at) {
    const scheduledAt = at;
    const created = await once(conversation, async () => {
      const actor = await actorOf(deps, chatId);
      if (!actor) throw new AnnouncementNotAllowedError();
      return (await createAnnouncement(deps.db, actor, input, { at: scheduledAt })).id;
    });
    await ctx.reply(
      t("announcements.scheduled", {
        time: formatDateTime(scheduledAt, ctx.locale, deps.config.timezone),
      }),
      { reply_markup: cancelBroadcastKeyboard(t, created) },
    );
    return;
  }
  // The status message the engine keeps edited while the broadcast runs.
  const status = await ctx.reply(t("announcements.starting", { n: recipients }));
  const created = await once(conversation, async () => {
    const actor = await actorOf(deps, chatId);
    if (!actor) throw new AnnouncementNotAllowedError();
    const m = await createAnnouncement(deps.db, actor, input, {
      progress: { chatId, messageId: status.message_id },
    });
    return m.id;
  });
  await ctx.api
    .editMessageReplyMarkup(chatId, status.message_id, {
      reply_markup: cancelBroadcastKeyboard(t, created),
    })
    .catch(() => {});
}

export function announcementConversations(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();
  composer.use(flow(announceConversation(deps), ANNOUNCE));
  return composer;
}
