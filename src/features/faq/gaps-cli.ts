/**
 * `faq gaps [--days N] [--json]`: what the FAQ could not answer, grouped, largest groups first;
 * `faq publish ID`: a reviewed draft (one drafted from /gaps) goes live.
 */
import type { CliContext } from "../../cli/command";
import { recordAudit } from "../../core/audit";
import { findGaps, GAPS_DEFAULT_DAYS, GAPS_MAX_DAYS, type GapGroup } from "./gaps";
import { FaqService } from "./service";

const EXAMPLE_WIDTH = 160;

function groupJson(g: GapGroup) {
  return {
    size: g.size,
    languages: g.languages,
    municipalities: g.municipalities,
    examples: g.examples,
    firstAsked: g.firstAsked.toISOString(),
    lastAsked: g.lastAsked.toISOString(),
    questionIds: g.questions.map((q) => q.id),
  };
}

export async function runGaps(flags: Map<string, string | true>, ctx: CliContext): Promise<number> {
  const raw = flags.get("days");
  let days = GAPS_DEFAULT_DAYS;
  if (raw !== undefined) {
    days = typeof raw === "string" && /^\d{1,3}$/.test(raw) ? Number(raw) : 0;
    if (days < 1 || days > GAPS_MAX_DAYS) {
      ctx.err(`faq gaps: --days must be a whole number from 1 to ${GAPS_MAX_DAYS}`);
      return 2;
    }
  }
  const { db } = await ctx.database();
  const groups = await findGaps(db, { days });
  if (flags.get("json")) {
    ctx.out(JSON.stringify(groups.map(groupJson)));
    return 0;
  }
  const questions = groups.reduce((n, g) => n + g.size, 0);
  ctx.out(
    `${questions} unanswered question(s) in the last ${days} days, ${groups.length} group(s)`,
  );
  groups.forEach((g, i) => {
    const day = (d: Date) => d.toISOString().slice(0, 10);
    ctx.out("");
    ctx.out(
      `${i + 1}. ${g.size} question(s) · ${g.languages.join(", ")} · ${g.municipalities} municipalit${g.municipalities === 1 ? "y" : "ies"} · ${day(g.firstAsked)} – ${day(g.lastAsked)}`,
    );
    for (const e of g.examples) {
      const flat = e.replace(/\s+/g, " ");
      ctx.out(
        `   «${flat.length > EXAMPLE_WIDTH ? `${flat.slice(0, EXAMPLE_WIDTH - 1)}…` : flat}»`,
      );
    }
  });
  return 0;
}

/**
 * Publishes a draft entry after review: the search finds it at once (on every instance: the
 * service announces the change). Audit-logged as the command line's.
 */
export async function runPublish(id: string | undefined, ctx: CliContext): Promise<number> {
  if (!id) {
    ctx.err("faq publish: ID is required");
    return 2;
  }
  const { db } = await ctx.database();
  const service = new FaqService(db);
  const entry = await service.getEntry(id);
  if (!entry) {
    ctx.err(`faq publish: there is no entry ${id}`);
    return 1;
  }
  if (entry.status === "published") {
    ctx.out(`${id} is published already.`);
    return 0;
  }
  await service.setStatus(id, "published");
  await recordAudit(db, {
    actorLabel: "cli",
    action: "faq.publish",
    details: { entryId: id, from: entry.status },
  });
  ctx.out(`Published ${id} (was ${entry.status}).`);
  return 0;
}
