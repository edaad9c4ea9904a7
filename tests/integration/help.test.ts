import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client";
import { type Role, roleGrants, users } from "../../src/db/schema";
import { translator } from "../../src/i18n";
import { createTestBot, person, textUpdate } from "../helpers/bot";
import { createTestDatabase } from "../helpers/db";
import { seedMunicipalities } from "../helpers/delivery-fixtures";

/**
 * /help lists what each role can do, under that role's own heading, each ability once — and
 * every command it lists for a role is one the bot lets that role use (and the others not).
 */

const ru = translator("ru");
let handle: DatabaseHandle;
let municipality: number;
let nextChat = 71_000;

beforeAll(async () => {
  handle = await createTestDatabase();
  [municipality] = (await seedMunicipalities(handle.db, 1)) as [number];
});
afterAll(() => handle.close());

/** A person (Russian) living in the municipality, with these roles (municipal ones there). */
async function withRoles(t: ReturnType<typeof createTestBot>, roles: Role[]) {
  const p = person(nextChat++, "ru");
  await t.send(textUpdate(p, "/privacy"));
  const [row] = await handle.db
    .update(users)
    .set({ locale: "ru", municipalityId: municipality })
    .where(eq(users.chatId, p.id))
    .returning();
  for (const role of roles) {
    await handle.db.insert(roleGrants).values({
      userId: row!.id,
      role,
      municipalityId: role === "deputy" || role === "staff" ? municipality : null,
    });
  }
  return p;
}

const item = (key: string) => ru(`help.item_${key}`);
const section = (heading: string, items: string[]) => [heading, ...items.map(item)].join("\n");
const staffHeading = ru("help.staff", { municipality: "Село 0" });

const expected: Record<string, string[]> = {
  citizen: [],
  deputy: [section(ru("help.deputy"), ["faq_private", "escalate"])],
  staff: [
    section(staffHeading, [
      "invite_staff",
      "broadcast",
      "broadcasts",
      "hearings_staff",
      "polls_staff",
      "faq_private",
      "escalate",
    ]),
  ],
  lawyer: [section(ru("help.lawyer"), ["queue", "gaps", "drafts", "faq_private"])],
  admin: [
    section(ru("help.admin"), [
      "invite_any",
      "broadcast_any",
      "broadcasts_all",
      "hearings_all",
      "polls_all",
      "queue",
      "gaps",
      "drafts",
      "faq_private",
      "escalate",
    ]),
  ],
  "deputy+staff": [
    section(ru("help.deputy"), ["faq_private", "escalate"]),
    section(staffHeading, [
      "invite_staff",
      "broadcast",
      "broadcasts",
      "hearings_staff",
      "polls_staff",
    ]),
  ],
  "staff+lawyer": [
    section(staffHeading, [
      "invite_staff",
      "broadcast",
      "broadcasts",
      "hearings_staff",
      "polls_staff",
      "faq_private",
      "escalate",
    ]),
    section(ru("help.lawyer"), ["queue", "gaps", "drafts"]),
  ],
  "lawyer+admin": [
    section(ru("help.lawyer"), ["queue", "gaps", "drafts", "faq_private"]),
    section(ru("help.admin"), [
      "invite_any",
      "broadcast_any",
      "broadcasts_all",
      "hearings_all",
      "polls_all",
      "escalate",
    ]),
  ],
};

describe("/help", () => {
  for (const [combo, sections] of Object.entries(expected)) {
    it(`lists exactly what a ${combo} can do`, async () => {
      const t = createTestBot(handle.db);
      const roles = combo === "citizen" ? [] : (combo.split("+") as Role[]);
      const p = await withRoles(t, roles);
      await t.send(textUpdate(p, "/help"));
      expect(t.texts().at(-1)).toBe(
        [
          ru("help.intro"),
          [
            ru("help.citizen"),
            item("hearings"),
            item("polls"),
            item("verify"),
            item("privacy"),
          ].join("\n"),
          ...sections,
        ].join("\n\n"),
      );
      // Staff are no deputies: their help has no deputy heading.
      if (!roles.includes("deputy")) expect(t.texts().at(-1)).not.toContain(ru("help.deputy"));
    });
  }

  it("lists a command for a role exactly when the bot lets that role use it", async () => {
    for (const roles of [[], ["deputy"], ["staff"], ["lawyer"], ["admin"]] as Role[][]) {
      const t = createTestBot(handle.db);
      const p = await withRoles(t, roles);
      await t.send(textUpdate(p, "/help"));
      const help = t.texts().at(-1) ?? "";
      for (const command of [
        "/broadcast",
        "/broadcasts",
        "/invite",
        "/queue",
        "/gaps",
        "/drafts",
      ]) {
        await t.send(textUpdate(p, command));
        const refused = t.texts().at(-1) === ru("errors.not_allowed");
        expect(
          help.includes(`${command} —`),
          `${roles.join("+") || "citizen"} ${command} (refused: ${refused})`,
        ).toBe(!refused);
        await t.send(textUpdate(p, "/privacy")); // leaves any flow the command started
      }
    }
  });
});
