import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { auditLog, deliveries, outgoingMessages } from "../../src/db/schema";
import { getMessageProgress } from "../../src/delivery";
import {
  type Actor,
  AnnouncementNotAllowedError,
  cancelAnnouncement,
  createAnnouncement,
  getAnnouncement,
  listAnnouncements,
  previewAnnouncement,
} from "../../src/features/announcements/service";
import { createTestDatabase } from "../helpers/db";
import { grantRole, seedMunicipalities, seedUsers } from "../helpers/delivery-fixtures";

let handle: DatabaseHandle;
let muniA: number;
let muniB: number;
let staffA: Actor;
let admin: Actor;
let citizen: Actor;

beforeAll(async () => {
  handle = await createTestDatabase();
  [muniA, muniB] = (await seedMunicipalities(handle.db, 2)) as [number, number];
  const ids = await seedUsers(handle.db, [
    { chatId: 501, municipalityId: muniA },
    { chatId: 502, municipalityId: null },
    { chatId: 503, municipalityId: muniA, locale: "ru" },
    { chatId: 504, municipalityId: muniA, locale: "ky" },
    { chatId: 505, municipalityId: muniB },
    { chatId: 506, municipalityId: muniA, topics: ["polls"] },
  ]);
  await grantRole(handle.db, ids[0]!, "staff", muniA);
  await grantRole(handle.db, ids[1]!, "admin", null);
  await grantRole(handle.db, ids[3]!, "deputy", muniA);
  staffA = { userId: ids[0]!, roles: [{ role: "staff", municipalityId: muniA }] };
  admin = { userId: ids[1]!, roles: [{ role: "admin", municipalityId: null }] };
  citizen = { userId: ids[2]!, roles: [] };
});

afterAll(async () => {
  await handle.close();
});

const text = { ky: "Суу өчүрүлөт", ru: "Отключат воду" };

describe("announcements service", () => {
  it("lets staff of one municipality not target another (server-side)", async () => {
    await expect(
      createAnnouncement(handle.db, staffA, { municipalityId: muniB, text }),
    ).rejects.toBeInstanceOf(AnnouncementNotAllowedError);
    await expect(
      previewAnnouncement(handle.db, staffA, { municipalityId: muniB, text }, "ky"),
    ).rejects.toBeInstanceOf(AnnouncementNotAllowedError);
    await expect(
      createAnnouncement(handle.db, citizen, { municipalityId: muniA, text }),
    ).rejects.toBeInstanceOf(AnnouncementNotAllowedError);
    const created = await handle.db
      .select()
      .from(outgoingMessages)
      .where(eq(outgoingMessages.municipalityId, muniB));
    expect(created).toHaveLength(0);
  });

  it("lets admins target any municipality", async () => {
    const m = await createAnnouncement(
      handle.db,
      admin,
      { municipalityId: muniB, text },
      { at: new Date(Date.now() + 3_600_000) },
    );
    expect(m.status).toBe("scheduled");
    // Staff of A can neither see nor cancel B's announcement, whatever id they send.
    await expect(getAnnouncement(handle.db, staffA, m.id)).rejects.toBeInstanceOf(
      AnnouncementNotAllowedError,
    );
    await expect(cancelAnnouncement(handle.db, staffA, m.id)).rejects.toBeInstanceOf(
      AnnouncementNotAllowedError,
    );
    expect((await listAnnouncements(handle.db, staffA)).map((s) => s.message.id)).not.toContain(
      m.id,
    );
    expect((await listAnnouncements(handle.db, admin)).map((s) => s.message.id)).toContain(m.id);
    expect(await cancelAnnouncement(handle.db, admin, m.id)).toBe(true);
  });

  it("previews exactly what a recipient gets and counts the audience", async () => {
    const ru = await previewAnnouncement(handle.db, staffA, { municipalityId: muniA, text }, "ru");
    expect(ru.rendered.text).toBe("📢 <b>Айыл окмоту Село 0</b>\n\nОтключат воду");
    expect(ru.rendered.parseMode).toBe("HTML");
    // A WhatsApp template (outside the 24-hour window) names who speaks, in the reader's language.
    expect(ru.rendered.templateParams).toEqual({ municipality: "Айыл окмоту Село 0" });
    // 501, 503, 504 subscribe to announcements in A (506 does not).
    expect(ru.recipients).toBe(3);
    const deputies = await previewAnnouncement(
      handle.db,
      staffA,
      { municipalityId: muniA, text: { ru: "Только ru" }, role: "deputy" },
      "ky",
    );
    // Only a Russian text: a Kyrgyz reader gets it, with its Russian sender line.
    expect(deputies.rendered.text).toBe("📢 <b>Айыл окмоту Село 0</b>\n\nТолько ru");
    expect(deputies.recipients).toBe(1);
  });

  it("sends now: enqueues the audience, audit-logs, and can be cancelled", async () => {
    const m = await createAnnouncement(handle.db, staffA, { municipalityId: muniA, text });
    expect(m.status).toBe("sending");
    expect(m.content.templateParams).toEqual({
      municipality: {
        ky: "Айыл 0 айыл өкмөтү",
        ru: "Айыл окмоту Село 0",
        en: "Село 0 Aiyl Okmotu",
      },
    });
    expect((await getMessageProgress(handle.db, m.id)).total).toBe(3);
    expect(await cancelAnnouncement(handle.db, staffA, m.id)).toBe(true);
    expect(await cancelAnnouncement(handle.db, staffA, m.id)).toBe(false);
    const rows = await handle.db.select().from(deliveries).where(eq(deliveries.messageId, m.id));
    expect(rows.every((r) => r.status === "skipped" && r.skipReason === "cancelled")).toBe(true);
    const audit = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.actorUserId, staffA.userId));
    const actions = audit.map((a) => a.action);
    expect(actions).toContain("announcement.send");
    expect(actions).toContain("announcement.cancel");
    expect(audit.every((a) => a.municipalityId === muniA)).toBe(true);
    const list = await listAnnouncements(handle.db, staffA);
    expect(list[0]?.message.id).toBe(m.id);
    expect(list[0]?.progress.skipped).toBe(3);
  });

  it("refuses a schedule in the past", async () => {
    await expect(
      createAnnouncement(
        handle.db,
        staffA,
        { municipalityId: muniA, text },
        { at: new Date(Date.now() - 1000) },
      ),
    ).rejects.toThrow(/past/);
  });
});
