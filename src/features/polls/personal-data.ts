/**
 * What polls keep about a person: that they voted in a poll (a keyed hash of their account or
 * verified number, and when), never what: ballots are stored under another keyed hash. /mydata
 * lists the polls; /forgetme re-keys the person's voter marks and ballots with random values,
 * so votes and turnout stay and nothing leads back to them, not even with the ballot secret.
 * One exception: in a residents-only poll still open, the mark of their verified number stays
 * (a keyed hash, not the number), or the same number could vote twice.
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { PersonalDataHolder } from "../../bot/feature";
import { rowsOf } from "../../db/client";
import { escapeHtml, formatDate } from "../../i18n";
import { ballotKeysOf } from "./keys";
import type { PollText } from "./schema";
import { questionOf } from "./staff-cards";

const LISTED = 5;

interface VotedRow {
  poll_id: number;
  question: PollText;
  status: string;
  audience: string;
  voter_key: string;
  voted_at: string | Date;
}

export const pollsPersonalData: PersonalDataHolder = {
  async collect(deps, person, t, locale) {
    const voted = await votedIn(deps, person.id, verifiedPhone(person), deps.db);
    const lines: string[] = [];
    if (voted.length > 0) {
      lines.push(t("privacy.polls.voted", { count: voted.length }));
      for (const v of voted.slice(-LISTED)) {
        lines.push(
          t("privacy.polls.voted_item", {
            question: escapeHtml(questionOf({ id: v.poll_id, question: v.question }, locale)),
            date: formatDate(new Date(v.voted_at), locale, deps.config.timezone),
          }),
        );
      }
    }
    return [
      {
        key: "polls",
        lines,
        data: {
          votedIn: voted.map((v) => ({
            poll: Number(v.poll_id),
            question: v.question,
            votedAt: new Date(v.voted_at).toISOString(),
          })),
          note: "Ballots are kept apart from voters: what you chose is not part of your data.",
        },
      },
    ];
  },

  async forget(tx, person, deps) {
    const keys = ballotKeysOf(deps.config);
    const voted = await votedIn(deps, person.id, verifiedPhone(person), tx);
    let rekeyed = 0;
    for (const v of voted) {
      const byNumber = v.audience === "verified";
      // One vote per number while the poll is open: that mark stays (see above).
      if (byNumber && (v.status === "open" || v.status === "scheduled")) continue;
      const pollId = Number(v.poll_id);
      const random = () => randomBytes(32).toString("base64url");
      await tx.execute(sql`update poll_ballots set token = ${random()}
        where poll_id = ${pollId} and token = ${keys.ballotToken(pollId, v.voter_key)}`);
      await tx.execute(sql`update poll_voters set voter_key = ${random()}
        where poll_id = ${pollId} and voter_key = ${v.voter_key}`);
      rekeyed++;
    }
    const authored = rowsOf(
      await tx.execute(sql`update polls set created_by_user_id = null
        where created_by_user_id = ${person.id} returning id`),
    );
    return { poll_voters: rekeyed, poll_ballots: rekeyed, polls: authored.length };
  },
};

function verifiedPhone(person: { phone: string | null; phoneVerifiedAt: Date | null }) {
  return person.phoneVerifiedAt && person.phone ? person.phone : null;
}

/** The polls the person's account or verified number voted in, oldest vote first. */
async function votedIn(
  deps: Parameters<PersonalDataHolder["collect"]>[0],
  userId: number,
  phone: string | null,
  db: Parameters<PersonalDataHolder["forget"]>[0],
): Promise<VotedRow[]> {
  const keys = ballotKeysOf(deps.config);
  const voterKeys = [keys.voterKey({ userId }), ...(phone ? [keys.voterKey({ phone })] : [])];
  return rowsOf<VotedRow>(
    await db.execute(sql`
      select v.poll_id, p.question, p.status, p.audience, v.voter_key, v.voted_at
      from poll_voters v join polls p on p.id = v.poll_id
      where v.voter_key in (${sql.join(
        voterKeys.map((k) => sql`${k}`),
        sql`, `,
      )})
      order by v.voted_at`),
  );
}
