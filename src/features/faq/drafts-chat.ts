/**
 * /drafts in the chat: lawyers and admins review draft FAQ entries (those drafted from /gaps)
 * and publish or discard each with a button, instead of the command line. The role is checked
 * at the command and again at every press; each transition is a conditional write, so of two
 * presses on the same draft one wins and the other is told the button is stale.
 */
import { and, count, desc, eq, sql } from "drizzle-orm";
import { Composer, InlineKeyboard } from "grammy";
import { callbackData, field } from "../../bot/callback-data";
import type { AppContext, BotDeps } from "../../bot/context";
import { MAX_MESSAGE_LENGTH } from "../../channels/types";
import { recordAudit } from "../../core/audit";
import { isLawyer } from "../../core/permissions";
import { actorLabel } from "../../core/roles";
import type { Database } from "../../db/client";
import { faqEntries, faqUnanswered } from "../../db/schema/faq";
import { escapeHtml, type TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { type FaqEntry, rowToEntry, shownLanguage } from "./entries";
import { faqServiceOf } from "./service";

/** Drafts listed by one /drafts, newest first. */
export const DRAFTS_SHOWN = 10;

export const DRAFT_CB = {
  /** Publish (`p`) or discard (`d`) draft `entryId`; ids longer than 55 get no buttons. */
  act: callbackData("faq:dr", {
    action: field.oneOf(["p", "d"]),
    entryId: field.slug({ maxLength: 55 }),
  }),
} as const;

/** The draft's question and answer in `lang`, or the nearest language it has. */
function draftText(t: TFunction, e: FaqEntry, lang: Locale): string {
  const shown = shownLanguage(e, lang);
  const question = escapeHtml(e.question[shown] ?? Object.values(e.question)[0] ?? "");
  let answer = e.answer[shown] ?? Object.values(e.answer)[0] ?? "";
  const text = (a: string) =>
    t("faq.drafts_entry", { id: e.id, lang: shown.toUpperCase(), question, answer: a });
  // An imported draft may be long: the answer is cut so the message fits.
  const room = MAX_MESSAGE_LENGTH - text("").length - 1;
  if (escapeHtml(answer).length > room) answer = `${answer.slice(0, Math.max(0, room - 40))}…`;
  return text(escapeHtml(answer));
}

function draftKeyboard(t: TFunction, id: string): InlineKeyboard | undefined {
  if (!DRAFT_CB.act.canPack({ action: "p", entryId: id })) return undefined;
  return new InlineKeyboard()
    .text(t("faq.drafts_publish"), DRAFT_CB.act.pack({ action: "p", entryId: id }))
    .text(t("faq.drafts_discard"), DRAFT_CB.act.pack({ action: "d", entryId: id }));
}

/** Draft → published if it is still a draft, with its audit entry; the entry, or undefined. */
async function publishDraft(
  db: Database,
  id: string,
  actor: { userId: number; label: string },
): Promise<FaqEntry | undefined> {
  const faq = faqServiceOf(db);
  const entry = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(faqEntries)
      .set({ status: "published", updatedAt: sql`now()` })
      .where(and(eq(faqEntries.id, id), eq(faqEntries.status, "draft")))
      .returning();
    if (!row) return undefined;
    await recordAudit(tx, {
      actorUserId: actor.userId,
      actorLabel: actor.label,
      action: "faq.publish",
      details: { entryId: id, from: "draft" },
    });
    // Every instance rebuilds its index once this commits; this one now, so the next search
    // finds the entry.
    await faq.notifyChanged(tx);
    return rowToEntry(row);
  });
  if (entry) await faq.refresh();
  return entry;
}

/** Deletes a draft if it is still one; its questions (draft_entry_id SET NULL) return to /gaps. */
async function discardDraft(
  db: Database,
  id: string,
  actor: { userId: number; label: string },
): Promise<{ questions: number } | undefined> {
  return db.transaction(async (tx) => {
    const [marked] = await tx
      .select({ n: count() })
      .from(faqUnanswered)
      .where(eq(faqUnanswered.draftEntryId, id));
    const deleted = await tx
      .delete(faqEntries)
      .where(and(eq(faqEntries.id, id), eq(faqEntries.status, "draft")))
      .returning({ id: faqEntries.id });
    if (deleted.length === 0) return undefined;
    const questions = marked?.n ?? 0;
    await recordAudit(tx, {
      actorUserId: actor.userId,
      actorLabel: actor.label,
      action: "faq.discard",
      details: { entryId: id, questions },
    });
    return { questions };
  });
}

/** /drafts and its Publish / Discard buttons: lawyers and admins only. */
async function countDrafts(db: Database): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(faqEntries)
    .where(eq(faqEntries.status, "draft"));
  return row?.n ?? 0;
}

export function faqDraftsHandlers(deps: BotDeps): Composer<AppContext> {
  const composer = new Composer<AppContext>();

  composer.command("drafts", async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      await ctx.reply(ctx.t("errors.not_allowed"));
      return;
    }
    const rows = await deps.db
      .select()
      .from(faqEntries)
      .where(eq(faqEntries.status, "draft"))
      .orderBy(desc(faqEntries.createdAt), desc(faqEntries.id))
      .limit(DRAFTS_SHOWN + 1);
    if (rows.length === 0) {
      await ctx.reply(ctx.t("faq.drafts_none"));
      return;
    }
    // Counted only when there are more than shown: otherwise the rows are all of them.
    const total = rows.length > DRAFTS_SHOWN ? await countDrafts(deps.db) : rows.length;
    const shown = rows.slice(0, DRAFTS_SHOWN);
    await ctx.reply(ctx.t("faq.drafts_title", { total, shown: shown.length }));
    for (const row of shown) {
      const entry = rowToEntry(row);
      const keyboard = draftKeyboard(ctx.t, entry.id);
      await ctx.reply(draftText(ctx.t, entry, ctx.locale), {
        parse_mode: "HTML",
        ...(keyboard ? { reply_markup: keyboard } : {}),
      });
    }
  });

  // The button only names the draft: the role is checked again, the draft's state in the write.
  composer.callbackQuery(DRAFT_CB.act.filter(), async (ctx) => {
    if (!isLawyer(ctx.roles)) {
      return ctx.answerCallbackQuery({ text: ctx.t("errors.not_allowed"), show_alert: true });
    }
    const { action, entryId } = DRAFT_CB.act.unpack(ctx.callbackQuery.data);
    const actor = { userId: ctx.user.id, label: actorLabel(ctx.roles) };
    if (action === "p") {
      const entry = await publishDraft(deps.db, entryId, actor);
      if (!entry) return ctx.answerCallbackQuery({ text: ctx.t("faq.drafts_stale") });
      await ctx.answerCallbackQuery();
      ctx.log.info({ entryId }, "faq draft published");
      const lang = shownLanguage(entry, ctx.locale);
      const question = entry.question[lang] ?? Object.values(entry.question)[0] ?? "";
      await ctx.editMessageText(
        ctx.t("faq.drafts_published", { id: entryId, question: escapeHtml(question) }),
        { parse_mode: "HTML" },
      );
      return;
    }
    const result = await discardDraft(deps.db, entryId, actor);
    if (!result) return ctx.answerCallbackQuery({ text: ctx.t("faq.drafts_stale") });
    await ctx.answerCallbackQuery();
    ctx.log.info({ entryId, questions: result.questions }, "faq draft discarded");
    await ctx.editMessageText(
      ctx.t("faq.drafts_discarded", { id: entryId, questions: result.questions }),
    );
  });

  return composer;
}
