import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ru from "../../locales/ru.json";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { deliveries, municipalities, users } from "../../src/db/schema";
import { faqEscalations, faqFeedback } from "../../src/db/schema/faq";
import { FaqService } from "../../src/features/faq/service";
import { translator } from "../../src/i18n";
import { textOf } from "../fixtures/fake-graph-api/server";
import { fakeTelegram, person, pressUpdate, TEST_TOKEN, textUpdate } from "../helpers/bot";
import { drainDeliveries, waitFor } from "../helpers/wait";
import { META_PAIR_BURST, type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";
import { peopleOf } from "../helpers/whatsapp-people";

const tru = translator("ru");
/** A question the shipped FAQ answers (entry "appeal-language"). */
const ANSWERABLE = "на каком языке можно подать обращение";
/** A question it cannot answer: the search abstains. */
const UNANSWERABLE = "Можно ли депутату совмещать мандат с работой в школе?";

/**
 * The legal FAQ on WhatsApp through the real app: a question typed on WhatsApp is answered with
 * its feedback buttons; one the FAQ cannot answer goes from a deputy on WhatsApp to a lawyer on
 * Telegram, whose answer comes back to WhatsApp through the delivery engine.
 */
describe("WhatsApp: the FAQ and a lawyer's answer from Telegram", () => {
  let wa: RunningWhatsApp;
  const telegram = fakeTelegram();

  beforeAll(async () => {
    wa = await startWhatsAppApp({
      env: { BOT_TOKEN: TEST_TOKEN },
      telegramFetch: telegram.fetch,
      fake: { pairLimit: META_PAIR_BURST },
    });
  });
  afterAll(async () => {
    await wa?.stop();
  });

  const { answerTo, choose, option, onboardInRussian: onboard } = peopleOf(() => wa);

  it("answers a typed question with its feedback buttons, and a tap records the vote", async () => {
    const p = wa.person("Гүлзат", "996700555666");
    const { userId } = await onboard(p);
    const [answer, ...more] = await answerTo(p, () => wa.fake.sendText(p, ANSWERABLE));
    expect(more).toEqual([]);
    const entry = await new FaqService(wa.app.database.db).getEntry("appeal-language");
    // Telegram's <b> became WhatsApp's *…*.
    expect(textOf(answer!)).toContain(`*${entry!.question.ru}*`);
    expect(textOf(answer!)).toContain(tru("faq.source", { source: entry!.source }));
    const helpful = option(answer, ru.faq.helpful);
    expect(option(answer, ru.faq.not_helpful)).toBeDefined();

    const saved = await answerTo(p, () => choose(p, answer!, helpful));
    expect(saved.map(textOf)).toEqual([ru.faq.feedback_saved_1]);
    const votes = await wa.app.database.db
      .select()
      .from(faqFeedback)
      .where(eq(faqFeedback.userId, userId));
    expect(votes.map((v) => [v.entryId, v.helpful])).toEqual([["appeal-language", true]]);
    // The same message's other button still works (the answer was not edited): the vote changes.
    const changed = await answerTo(p, () => choose(p, answer!, option(answer, ru.faq.not_helpful)));
    expect(changed.map(textOf)).toEqual([ru.faq.feedback_changed_0]);
    expect(wa.fake.stats().refused).toEqual({});
  });

  it("escalates a deputy's question to a lawyer on Telegram; the answer reaches WhatsApp", async () => {
    const db = wa.app.database.db;
    const deputy = wa.person("Депутат Асан", "996700666777");
    const { userId: deputyId, municipalityId } = await onboard(deputy);
    const invite = await createInvite(db, { role: "deputy", municipalityId });
    const redeemed = await answerTo(deputy, () => wa.fake.sendText(deputy, invite.code));
    const [m] = await db.select().from(municipalities).where(eq(municipalities.id, municipalityId));
    const where = tru("invite.redeemed_where", { municipality: m!.nameRu });
    expect(redeemed.map(textOf)).toEqual([
      tru("invite.redeemed", { role: ru.roles.deputy, where }),
    ]);

    // The lawyer is on Telegram.
    const lawyer = person(7801, "ru");
    await wa.app.bot.handleUpdate(textUpdate(lawyer, "/help"));
    const [lawyerRow] = await db.select().from(users).where(eq(users.chatId, lawyer.id));
    const lawyerInvite = await createInvite(db, { role: "lawyer", municipalityId: null });
    expect(await redeemInvite(db, lawyerInvite.code, lawyerRow!.id)).toMatchObject({ ok: true });

    const [abstain, ...more] = await answerTo(deputy, () => wa.fake.sendText(deputy, UNANSWERABLE));
    expect(more).toEqual([]);
    expect(textOf(abstain!)).toContain(ru.faq.no_answer);
    expect(textOf(abstain!)).toContain(ru.faq.escalate_offer);
    const escalated = await answerTo(deputy, () =>
      choose(deputy, abstain!, option(abstain, ru.faq.escalate_button)),
    );
    const [question] = await db
      .select()
      .from(faqEscalations)
      .where(eq(faqEscalations.askerUserId, deputyId));
    expect(question).toMatchObject({ status: "open", text: UNANSWERABLE });
    expect(escalated.map(textOf)).toEqual([tru("faq.escalated", { id: question!.id })]);

    // The lawyer's notice on Telegram, through the delivery engine.
    const toLawyer = () =>
      telegram.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === lawyer.id);
    await waitFor(
      () => toLawyer().some((c) => String(c.payload.text).includes(UNANSWERABLE)),
      undefined,
      "the lawyer's notice on Telegram",
    );
    await wa.app.bot.handleUpdate(pressUpdate(lawyer, `faq:take:${question!.id}`));
    const answer = "Нет: статья 10 Закона о статусе депутатов местных кенешей это запрещает.";
    await wa.app.bot.handleUpdate(textUpdate(lawyer, answer));
    await wa.app.bot.handleUpdate(pressUpdate(lawyer, "faq:ans:send:1"));

    // The deputy wrote minutes ago: inside the 24-hour window, a normal text message.
    const arrived = () =>
      wa.fake.messagesTo(deputy).filter((m) => textOf(m).includes("статья 10 Закона"));
    const [delivered] = await waitFor(
      () => (arrived().length > 0 ? arrived() : undefined),
      undefined,
      "the lawyer's answer on WhatsApp",
    );
    expect(delivered!.body.type).toBe("text");
    expect(textOf(delivered!)).toContain(ru.faq.answer_for_you.split("\n")[0]);
    expect(textOf(delivered!)).toContain(`_${UNANSWERABLE}_`);
    const [after] = await db
      .select()
      .from(faqEscalations)
      .where(eq(faqEscalations.id, question!.id));
    expect(after?.status).toBe("answered");

    // Once, and recorded on the delivery row with Meta's message id.
    await drainDeliveries(db);
    expect(arrived()).toHaveLength(1);
    const [row] = await db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.userId, deputyId), eq(deliveries.channel, "whatsapp")));
    expect(row).toMatchObject({ status: "sent", channelMessageId: delivered!.wamid });
    // Filed under the deputy's municipality.
    expect(question?.municipalityId).toBe(municipalityId);
    expect(wa.fake.stats().refused).toEqual({});
  });
});
