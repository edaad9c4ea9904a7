import { eq, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createInvite, redeemInvite } from "../../src/core/invites";
import { NotAllowedError, revokeRole } from "../../src/core/roles";
import { auditLog, invites, municipalities, roleGrants, users } from "../../src/db/schema";
import { seedDemoDirectoryIfEmpty } from "../../src/features/municipalities/service";
import { translator } from "../../src/i18n";
import { createTestBot, person, pressUpdate, textUpdate } from "../helpers/bot";
import { useTestDatabase } from "../helpers/db";

const ru = translator("ru");

describe("roles and invites", () => {
  let m1: number;
  let m2: number;
  const handle = useTestDatabase(async (db) => {
    await seedDemoDirectoryIfEmpty(db);
    const ids = (await db.select().from(municipalities).orderBy(municipalities.id).limit(2)).map(
      (m) => m.id,
    );
    [m1, m2] = ids as [number, number];
  });

  async function userIdOf(chatId: number): Promise<number> {
    const [row] = await handle.db.select().from(users).where(eq(users.chatId, chatId));
    return row!.id;
  }

  it("redeems a deep-link code once; reuse, expiry and forgery change nothing", async () => {
    const t = createTestBot(handle.db);
    const staff = person(3001);
    const invite = await createInvite(handle.db, { role: "staff", municipalityId: m1 });
    await t.send(textUpdate(staff, `/start ${invite.code}`));
    expect(t.texts().at(-1)).toMatch(new RegExp(ru("roles.staff")));
    const id = await userIdOf(staff.id);
    expect(await handle.db.select().from(roleGrants).where(eq(roleGrants.userId, id))).toHaveLength(
      1,
    );

    const other = person(3002);
    await t.send(textUpdate(other, `/start ${invite.code}`));
    expect(t.texts().at(-1)).toBe(ru("invite.used"));
    await t.send(textUpdate(other, "/start AAAA-BBBB-CCC1"));
    expect(t.texts().at(-1)).toBe(ru("invite.invalid"));

    const expired = await createInvite(handle.db, { role: "deputy", municipalityId: m1, hours: 1 });
    await handle.db
      .update(invites)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(isNull(invites.usedAt));
    await t.send(textUpdate(other, expired.code));
    expect(t.texts().at(-1)).toBe(ru("invite.expired"));
    const otherId = await userIdOf(other.id);
    expect(
      await handle.db.select().from(roleGrants).where(eq(roleGrants.userId, otherId)),
    ).toHaveLength(0);

    const grants = await handle.db.select().from(auditLog).where(eq(auditLog.action, "role.grant"));
    expect(grants.map((g) => g.details.userId)).toContain(id);
  });

  it("staff invite deputies and staff of their own municipality only; citizens and deputies none", async () => {
    const staffRoles = [{ role: "staff" as const, municipalityId: m1 }];
    await expect(
      createInvite(handle.db, {
        role: "deputy",
        municipalityId: m2,
        creator: { userId: 1, roles: staffRoles },
      }),
    ).rejects.toBeInstanceOf(NotAllowedError);
    await expect(
      createInvite(handle.db, {
        role: "lawyer",
        municipalityId: m1,
        creator: { userId: 1, roles: staffRoles },
      }),
    ).rejects.toBeInstanceOf(NotAllowedError);
    const ok = await createInvite(handle.db, {
      role: "deputy",
      municipalityId: m1,
      creator: { userId: 1, roles: staffRoles },
    });
    expect(ok.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

    const t = createTestBot(handle.db);
    const citizen = person(3101);
    await t.send(textUpdate(citizen, "/invite"));
    expect(t.texts().at(-1)).toBe(ru("errors.not_allowed"));
    const before = (await handle.db.select().from(invites)).length;
    // A forged button press from someone who was never shown it.
    await t.send(pressUpdate(citizen, "invite:admin"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    await t.send(pressUpdate(citizen, "invite:lawyer"));
    expect(t.lastCall("answerCallbackQuery")?.payload.text).toBe(ru("errors.not_allowed"));
    expect((await handle.db.select().from(invites)).length).toBe(before);
  });

  it("staff create an invite in the bot; the grant and revoke are audit-logged", async () => {
    const t = createTestBot(handle.db);
    const staff = person(3201);
    await t.send(textUpdate(staff, "/help"));
    const staffId = await userIdOf(staff.id);
    await handle.db.update(users).set({ municipalityId: m1 }).where(eq(users.id, staffId));
    const code = (await createInvite(handle.db, { role: "staff", municipalityId: m1 })).code;
    expect(await redeemInvite(handle.db, code, staffId)).toMatchObject({ ok: true });

    await t.send(textUpdate(staff, "/invite"));
    expect(t.lastButtons().map((b) => b.data)).toEqual(["invite:deputy", "invite:staff"]);
    await t.send(pressUpdate(staff, "invite:deputy"));
    const text = String(t.lastCall("editMessageText")?.payload.text);
    expect(text).toContain("https://t.me/aimak_test_bot?start=");
    const created = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "invite.create"));
    expect(created.some((a) => a.actorUserId === staffId && a.municipalityId === m1)).toBe(true);

    expect(
      await revokeRole(handle.db, { userId: staffId, role: "staff", municipalityId: m1 }),
    ).toBe(true);
    const revoked = await handle.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "role.revoke"));
    expect(revoked).toHaveLength(1);
  });
});
