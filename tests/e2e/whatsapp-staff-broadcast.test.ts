import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ky from "../../locales/ky.json";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { textOf } from "../fixtures/fake-graph-api/server";
import { drainDeliveries, waitFor } from "../helpers/wait";
import { META_PAIR_BURST, type RunningWhatsApp, startWhatsAppApp } from "../helpers/whatsapp";
import { peopleOf } from "../helpers/whatsapp-people";

/**
 * A staff member composes and sends an announcement from WhatsApp itself, with the same flow as
 * on Telegram: every step a WhatsApp message or button, the residents on WhatsApp receive it.
 */
describe("WhatsApp: a staff member broadcasts from WhatsApp", () => {
  let wa: RunningWhatsApp;
  const { answerTo, choose, option, settledResident } = peopleOf(() => wa);

  beforeAll(async () => {
    wa = await startWhatsAppApp({ fake: { pairLimit: META_PAIR_BURST } });
  });
  afterAll(async () => {
    await wa?.stop();
  });

  it("composes, previews and sends; each resident gets it once", async () => {
    const db = wa.app.database.db;
    const staff = await settledResident({ name: "Асель", waId: "996700660001", topics: [] });
    const invite = await createInvite(db, { role: "staff", municipalityId: wa.municipalityId });
    expect(await redeemInvite(db, invite.code, staff.userId)).toMatchObject({ ok: true });
    const residents = [
      await settledResident({ name: "Бакыт", waId: "996700660002", topics: ["announcements"] }),
      await settledResident({ name: "Жыпар", waId: "996700660003", topics: ["announcements"] }),
    ];
    const { p } = staff;
    /** Does what `act` does and resolves with the last message the app sent in answer. */
    const reply = async (act: () => Promise<unknown>) => (await answerTo(p, act)).at(-1);

    await reply(() => wa.fake.sendText(p, "/broadcast"));
    const askRu = await reply(() =>
      wa.fake.sendText(p, "Суу 3-декабрда саат 9дан 14кө чейин болбойт."),
    );
    const askMedia = await reply(() => choose(p, askRu!, option(askRu, ky.announcements.skip)));
    const askAudience = await reply(() =>
      choose(p, askMedia!, option(askMedia, ky.announcements.no_media)),
    );
    const askWhen = await reply(() =>
      choose(p, askAudience!, option(askAudience, ky.announcements.audience_subscribers)),
    );
    const preview = await reply(() =>
      choose(p, askWhen!, option(askWhen, ky.announcements.send_now)),
    );
    await reply(() => choose(p, preview!, option(preview, ky.announcements.confirm)));

    await drainDeliveries(db);
    for (const r of residents) {
      const got = wa.fake
        .messagesTo(r.p)
        .slice(r.seen)
        .map(textOf)
        .filter((t) => t.includes("3-декабрда"));
      expect(got).toHaveLength(1);
    }
    // The sender's report: WhatsApp cannot edit, so it comes as one more message when the
    // broadcast is done, not as a new message every few seconds.
    const sentToStaff = () => wa.fake.messagesTo(p).map(textOf);
    const reportHead = ky.announcements.report_done.split("\n")[0] ?? "";
    await waitFor(() => sentToStaff().some((t) => t.includes(reportHead)), undefined, "the report");
    expect(sentToStaff().filter((t) => t.includes(reportHead))).toHaveLength(1);
    expect(wa.fake.refused).toEqual([]);
  });
});
