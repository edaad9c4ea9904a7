/**
 * Polls, channel-free (SPEC §6): staff create, close and cancel them and see counts; residents
 * vote and change their vote; the scheduler opens and closes them on time. Every staff method
 * checks on the server that the actor may act for the poll's municipality (staff of it, or an
 * admin), makes its transition with a conditional update, and writes the audit log in the same
 * transaction.
 *
 * Secrecy: a vote writes a voter row (a keyed hash of the person, or of their verified phone)
 * and a ballot row (a keyed token, the choices) in one transaction; nothing links the two
 * without the ballot secret. Integrity: the voter row's primary key settles one vote per person
 * across instances; a vote holds its poll's row FOR KEY SHARE and closing takes it FOR UPDATE,
 * so no vote lands after the result was counted.
 */
import { and, asc, desc, eq, inArray, lte, type SQL, sql } from "drizzle-orm";
import { recordAudit } from "../../core/audit";
import { canManageMunicipality, isAdmin, staffMunicipalities } from "../../core/permissions";
import { type Database, type Executor, rowsOf } from "../../db/client";
import { cancelByKey, createOutgoingMessage, startMessage } from "../../delivery";
import { senderNames } from "../announcements/service";
import { getMunicipality } from "../municipalities/service";
import { pollOpeningAudience, pollResultAudience } from "./audiences";
import { warnOnBurst } from "./burst";
import { pollCsv } from "./csv";
import { type BallotKeys, ballotKeysOf, checkBallotSecret } from "./keys";
import { openingContent, resultContent } from "./notices";
import { replaceResidentList, residentListOf, residentStatus } from "./resident-list";
import { type PollRow, pollBallots, polls } from "./schema";
import {
  type PollActor,
  PollError,
  type PollInput,
  type PollSummary,
  type PollTally,
  type ResidentPoll,
  type VoteOutcome,
  type VoteResult,
  type Voter,
} from "./types";
import { validateChoices, validatePollInput } from "./validate";

const HOUR_MS = 3_600_000;

export interface PollSettings {
  /** TIMEZONE: how times are shown. */
  timezone: string;
  /** From BALLOT_SECRET (or DATA_DIR/ballot-secret). */
  readonly keys: BallotKeys;
}

export function pollSettingsOf(config: {
  timezone: string;
  ballotSecret: string | undefined;
  dataDir: string;
}): PollSettings {
  return {
    timezone: config.timezone,
    get keys() {
      return ballotKeysOf(config);
    },
  };
}

function actorLabel(actor: PollActor): string {
  if (actor.userId === undefined) return "cli";
  return isAdmin(actor.roles) ? "admin" : "staff";
}

/** The opening message's dedupe key (scheduled for a poll that opens later). */
export function openingKey(pollId: number): string {
  return `poll:${pollId}:opening`;
}

export function resultKey(pollId: number): string {
  return `poll:${pollId}:result`;
}

/** Whether a poll takes votes at `now`; the refusal's code otherwise. */
export function votingRefusal(poll: PollRow, now: Date): PollError | undefined {
  if (poll.status === "cancelled") return new PollError("cancelled");
  if (poll.status === "closed" || now.getTime() >= poll.closesAt.getTime()) {
    return new PollError("closed");
  }
  if (now.getTime() < poll.opensAt.getTime()) return new PollError("not_open_yet");
  return undefined;
}

export class PollsService {
  constructor(
    private readonly db: Database,
    private readonly settings: PollSettings,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ── Staff ────────────────────────────────────────────────────────────────────────────────

  /** Creates a poll that opens now (its message starts) or later (its message is scheduled). */
  async create(actor: PollActor, input: PollInput): Promise<PollRow> {
    if (!canManageMunicipality(actor.roles, input.municipalityId)) {
      throw new PollError("not_allowed");
    }
    const now = this.now();
    const v = validatePollInput(input, now);
    if (!(await getMunicipality(this.db, input.municipalityId))) {
      throw new PollError("no_such_municipality", { id: input.municipalityId });
    }
    const sender = await senderNames(this.db, input.municipalityId);
    return this.db.transaction(async (tx) => {
      const [poll] = await tx
        .insert(polls)
        .values({
          municipalityId: input.municipalityId,
          question: v.question,
          options: v.options,
          maxChoices: v.maxChoices,
          audience: input.audience,
          liveResults: input.liveResults ?? false,
          status: v.opensNow ? "open" : "scheduled",
          opensAt: v.opensAt,
          closesAt: v.closesAt,
          openedAt: v.opensNow ? now : null,
          createdByUserId: actor.userId ?? null,
        })
        .returning();
      if (!poll) throw new Error("poll insert returned nothing");
      const message = await createOutgoingMessage(tx, {
        kind: "poll_opened",
        municipalityId: poll.municipalityId,
        createdByUserId: actor.userId ?? null,
        content: openingContent(poll, { sender, timezone: this.settings.timezone }),
        audience: pollOpeningAudience({ pollId: poll.id }),
        ...(v.opensNow ? {} : { scheduledAt: v.opensAt }),
        expiresAt: v.closesAt,
        dedupeKey: openingKey(poll.id),
      });
      if (v.opensNow) await startMessage(tx, message.id);
      await recordAudit(tx, {
        actorUserId: actor.userId,
        actorLabel: actorLabel(actor),
        action: "poll.create",
        municipalityId: poll.municipalityId,
        details: {
          pollId: poll.id,
          audience: poll.audience,
          options: poll.options.length,
          maxChoices: poll.maxChoices,
          opensNow: v.opensNow,
        },
      });
      return poll;
    });
  }

  /** Polls the actor may manage, newest first, with their counts. */
  async list(
    actor: PollActor,
    filter: { municipalityId?: number; limit?: number } = {},
  ): Promise<PollSummary[]> {
    const conditions: SQL[] = [];
    if (filter.municipalityId !== undefined) {
      if (!canManageMunicipality(actor.roles, filter.municipalityId)) {
        throw new PollError("not_allowed");
      }
      conditions.push(eq(polls.municipalityId, filter.municipalityId));
    } else if (!isAdmin(actor.roles)) {
      const own = staffMunicipalities(actor.roles);
      if (own.length === 0) throw new PollError("not_allowed");
      conditions.push(inArray(polls.municipalityId, own));
    }
    const rows = await this.db
      .select()
      .from(polls)
      .where(and(...conditions))
      .orderBy(desc(polls.createdAt), desc(polls.id))
      .limit(filter.limit ?? 50);
    const tallies = await this.tallies(rows.map((p) => p.id));
    return rows.map((poll) => ({ poll, tally: tallies.get(poll.id) ?? emptyTally(poll) }));
  }

  /** One poll with its counts, for staff of its municipality. */
  async get(actor: PollActor, pollId: number): Promise<PollSummary> {
    const poll = await this.managed(actor, pollId);
    return { poll, tally: await this.tally(poll) };
  }

  /** Closes a poll before its time (or one whose time passed, not yet closed by the tick). */
  async close(actor: PollActor, pollId: number): Promise<PollSummary> {
    const poll = await this.managed(actor, pollId);
    if (poll.status === "closed") throw new PollError("already_closed");
    if (poll.status === "cancelled") throw new PollError("already_cancelled");
    const closed = await this.closePoll(poll.id, actor);
    if (!closed) throw new PollError("already_closed");
    return closed;
  }

  /** Cancels a scheduled or open poll: no result is announced; what was counted stays. */
  async cancel(actor: PollActor, pollId: number): Promise<PollRow> {
    const poll = await this.managed(actor, pollId);
    if (poll.status === "closed") throw new PollError("already_closed");
    if (poll.status === "cancelled") throw new PollError("already_cancelled");
    return this.db.transaction(async (tx) => {
      // FOR UPDATE waits for every vote in flight (they hold FOR KEY SHARE on the row).
      await tx.execute(sql`select id from polls where id = ${poll.id} for update`);
      const [row] = await tx
        .update(polls)
        .set({ status: "cancelled", cancelledAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(polls.id, poll.id), inArray(polls.status, ["scheduled", "open"])))
        .returning();
      if (!row) throw new PollError("already_closed");
      await cancelByKey(tx, openingKey(poll.id));
      await recordAudit(tx, {
        actorUserId: actor.userId,
        actorLabel: actorLabel(actor),
        action: "poll.cancel",
        municipalityId: row.municipalityId,
        details: { pollId: row.id },
      });
      return row;
    });
  }

  /** The counts as CSV (the staff's language for headers). */
  async exportCsv(actor: PollActor, pollId: number, locale: string): Promise<string> {
    const { poll, tally } = await this.get(actor, pollId);
    return pollCsv(poll, tally, locale, this.settings.timezone);
  }

  /**
   * Replaces the municipality's resident list (E.164 numbers, already parsed) in one
   * transaction: the numbers are stored as keyed hashes only.
   */
  async importResidents(
    actor: PollActor,
    municipalityId: number,
    phones: readonly string[],
  ): Promise<{ numbers: number }> {
    if (!canManageMunicipality(actor.roles, municipalityId)) throw new PollError("not_allowed");
    if (!(await getMunicipality(this.db, municipalityId))) {
      throw new PollError("no_such_municipality", { id: municipalityId });
    }
    if (phones.length === 0) throw new PollError("resident_file_empty");
    const numbers = await replaceResidentList(this.db, await this.keys(), municipalityId, phones, {
      actorUserId: actor.userId,
      actorLabel: actorLabel(actor),
    });
    return { numbers };
  }

  /** The municipality's resident list: how many numbers, imported when. */
  async residentList(
    actor: PollActor,
    municipalityId: number,
  ): Promise<{ numbers: number; importedAt: Date } | undefined> {
    if (!canManageMunicipality(actor.roles, municipalityId)) throw new PollError("not_allowed");
    return residentListOf(this.db, municipalityId);
  }

  // ── Residents ────────────────────────────────────────────────────────────────────────────

  /** The polls of the voter's municipality open now, with what they chose in each. */
  async openPollsFor(voter: Voter): Promise<ResidentPoll[]> {
    if (voter.municipalityId === null) return [];
    const now = this.now();
    const rows = await this.db
      .select()
      .from(polls)
      .where(
        and(
          eq(polls.municipalityId, voter.municipalityId),
          inArray(polls.status, ["scheduled", "open"]),
          lte(polls.opensAt, now),
          sql`${polls.closesAt} > ${now.toISOString()}::timestamptz`,
        ),
      )
      .orderBy(asc(polls.closesAt))
      .limit(20);
    return Promise.all(rows.map((poll) => this.residentView(voter, poll)));
  }

  /** One poll as the voter sees it; refused for another municipality's poll. */
  async pollFor(voter: Voter, pollId: number): Promise<ResidentPoll> {
    const poll = await this.find(pollId);
    if (voter.municipalityId !== poll.municipalityId) throw new PollError("other_municipality");
    return this.residentView(voter, poll);
  }

  /**
   * A vote, or a change of vote. The same choices again change nothing (a redelivered update).
   * Refused, changing nothing: a poll not open now, another municipality's poll, a choice out of
   * range, a verified-residents poll without a verified phone on the resident list.
   */
  async vote(voter: Voter, pollId: number, choices: readonly number[]): Promise<VoteResult> {
    const now = this.now();
    const poll = await this.cachedPoll(pollId);
    const early = votingRefusal(poll, now);
    if (early) throw early;
    if (voter.municipalityId === null) throw new PollError("no_municipality");
    if (voter.municipalityId !== poll.municipalityId) throw new PollError("other_municipality");
    const chosen = validateChoices(choices, poll);
    const voterKey = await this.voterKeyOf(voter, poll);
    const token = (await this.keys()).ballotToken(poll.id, voterKey);
    const newAccount = now.getTime() - voter.createdAt.getTime() < HOUR_MS;
    const at = now.toISOString();
    // One statement, one round trip. The poll row is locked FOR KEY SHARE, which closing's
    // FOR UPDATE waits for; a vote that has to wait for a closing re-reads the row after it and
    // finds it closed, so no vote lands after the result was counted. The voter row's primary
    // key settles one vote per person; the same choices again write nothing.
    const [row] = rowsOf<{ open: number; added: number; written: number }>(
      await this.db.execute(sql`
        with p as (
          select id from polls
          where id = ${poll.id} and status in ('scheduled', 'open')
            and opens_at <= ${at}::timestamptz and closes_at > ${at}::timestamptz
          for key share),
        v as (
          insert into poll_voters (poll_id, voter_key, new_account, voted_at)
          select id, ${voterKey}, ${newAccount}, ${at}::timestamptz from p
          on conflict do nothing
          returning 1),
        b as (
          insert into poll_ballots (poll_id, token, choices)
          select id, ${token}, ${`{${chosen.join(",")}}`}::int[] from p
          on conflict (poll_id, token) do update set choices = excluded.choices
            where poll_ballots.choices is distinct from excluded.choices
          returning 1)
        select (select count(*) from p)::int as open, (select count(*) from v)::int as added,
          (select count(*) from b)::int as written`),
    );
    if (!row || Number(row.open) === 0) {
      // Closed or cancelled since it was cached: say which, from the row as it is now.
      this.pollCache.delete(poll.id);
      throw votingRefusal(await this.find(poll.id), now) ?? new PollError("closed");
    }
    const outcome: VoteOutcome =
      Number(row.added) > 0 ? "new" : Number(row.written) > 0 ? "changed" : "same";
    if (outcome === "new" && newAccount) {
      const votes = await warnOnBurst(this.db, poll, now);
      if (votes !== undefined) this.onBurst?.(poll, votes);
    }
    return {
      outcome,
      poll,
      choices: chosen,
      ...(poll.liveResults ? { tally: await this.tally(poll) } : {}),
    };
  }

  /**
   * Polls as votes need them, kept for a few seconds: options, the maximum, the municipality and
   * the times never change once created, and the vote's own statement re-checks the status.
   */
  private readonly pollCache = new Map<number, { poll: PollRow; until: number }>();

  private async cachedPoll(pollId: number): Promise<PollRow> {
    const hit = this.pollCache.get(pollId);
    const nowMs = Date.now();
    if (hit && hit.until > nowMs) return hit.poll;
    const poll = await this.find(pollId);
    if (this.pollCache.size > 1000) this.pollCache.clear();
    this.pollCache.set(pollId, { poll, until: nowMs + 5000 });
    return poll;
  }

  // ── The scheduler ────────────────────────────────────────────────────────────────────────

  /**
   * Opens scheduled polls whose time came (their message is scheduled by the delivery engine
   * for the same moment) and closes open polls whose time passed, announcing each result once:
   * each transition is a conditional update, so with several instances exactly one makes it.
   */
  async tick(): Promise<{ opened: number; closed: number }> {
    const now = this.now();
    const opened = await this.db
      .update(polls)
      .set({ status: "open", openedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(polls.status, "scheduled"), lte(polls.opensAt, now)))
      .returning({ id: polls.id });
    const due = await this.db
      .select({ id: polls.id })
      .from(polls)
      .where(and(inArray(polls.status, ["scheduled", "open"]), lte(polls.closesAt, now)));
    let closed = 0;
    for (const { id } of due) if (await this.closePoll(id, undefined)) closed++;
    return { opened: opened.length, closed };
  }

  // ── Counts ───────────────────────────────────────────────────────────────────────────────

  /** Votes per option and people who voted; never who chose what. */
  async tally(poll: Pick<PollRow, "id" | "options">, db: Executor = this.db): Promise<PollTally> {
    const counts = new Array<number>(poll.options.length).fill(0);
    const perOption = rowsOf<{ option: number; n: number }>(
      await db.execute(sql`select c as option, count(*)::int as n
        from poll_ballots b cross join lateral unnest(b.choices) as c
        where b.poll_id = ${poll.id} group by c`),
    );
    for (const r of perOption) if (r.option < counts.length) counts[r.option] = Number(r.n);
    const [total] = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from poll_ballots where poll_id = ${poll.id}`),
    );
    return { counts, voters: Number(total?.n ?? 0) };
  }

  /** A closed poll and its final counts (the public chart); undefined otherwise. */
  async closedResult(pollId: number): Promise<PollSummary | undefined> {
    const [poll] = await this.db.select().from(polls).where(eq(polls.id, pollId));
    if (poll?.status !== "closed") return undefined;
    return { poll, tally: await this.tally(poll) };
  }

  /**
   * Refuses a ballot secret other than the one this database's polls were made with (checked
   * once per service): every voter key would change, and people could vote a second time.
   */
  checkSecret(): Promise<void> {
    this.secretChecked ??= checkBallotSecret(this.db, this.settings.keys).catch(
      (error: unknown) => {
        this.secretChecked = undefined;
        throw error;
      },
    );
    return this.secretChecked;
  }

  private secretChecked: Promise<void> | undefined;

  private async keys(): Promise<BallotKeys> {
    await this.checkSecret();
    return this.settings.keys;
  }

  // ── Internals ────────────────────────────────────────────────────────────────────────────

  private async find(pollId: number): Promise<PollRow> {
    const [poll] = await this.db.select().from(polls).where(eq(polls.id, pollId));
    if (!poll) throw new PollError("not_found");
    return poll;
  }

  private async managed(actor: PollActor, pollId: number): Promise<PollRow> {
    const poll = await this.find(pollId);
    if (!canManageMunicipality(actor.roles, poll.municipalityId)) {
      throw new PollError("not_allowed");
    }
    return poll;
  }

  private async residentView(voter: Voter, poll: PollRow): Promise<ResidentPoll> {
    let myChoices: number[] | undefined;
    const voterKey = await this.voterKeyOf(voter, poll).catch(() => undefined);
    if (voterKey) {
      const token = (await this.keys()).ballotToken(poll.id, voterKey);
      const [ballot] = await this.db
        .select({ choices: pollBallots.choices })
        .from(pollBallots)
        .where(and(eq(pollBallots.pollId, poll.id), eq(pollBallots.token, token)));
      myChoices = ballot?.choices;
    }
    return {
      poll,
      myChoices,
      ...(poll.liveResults ? { tally: await this.tally(poll) } : {}),
    };
  }

  /**
   * Whose vote this is: the account, or for a verified-residents poll the verified number, which
   * must be on the municipality's resident list (one vote per number across every channel).
   */
  private async voterKeyOf(voter: Voter, poll: PollRow, db: Executor = this.db): Promise<string> {
    const keys = await this.keys();
    if (poll.audience !== "verified") return keys.voterKey({ userId: voter.userId });
    if (!voter.verifiedPhone) throw new PollError("verify_needed");
    const listed = await residentStatus(db, keys, poll.municipalityId, voter.verifiedPhone);
    if (listed !== "listed") throw new PollError(listed);
    return keys.voterKey({ phone: voter.verifiedPhone });
  }

  /**
   * Closes once (conditional update under the exclusive lock, after every vote in flight) and
   * announces the result to the audience, the municipality's staff and the poll's author.
   */
  private async closePoll(
    pollId: number,
    actor: PollActor | undefined,
  ): Promise<PollSummary | undefined> {
    const [row] = await this.db.select().from(polls).where(eq(polls.id, pollId));
    if (!row) return undefined;
    const sender = await senderNames(this.db, row.municipalityId);
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select id from polls where id = ${pollId} for update`);
      const [poll] = await tx
        .update(polls)
        .set({ status: "closed", closedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(polls.id, pollId), inArray(polls.status, ["scheduled", "open"])))
        .returning();
      if (!poll) return undefined;
      // An early close of a poll that had not opened yet: its opening never goes.
      await cancelByKey(tx, openingKey(pollId));
      const tally = await this.tally(poll, tx);
      const message = await createOutgoingMessage(tx, {
        kind: "poll_result",
        municipalityId: poll.municipalityId,
        createdByUserId: poll.createdByUserId,
        content: resultContent(poll, tally, { sender, timezone: this.settings.timezone }),
        audience: pollResultAudience({ pollId }),
        dedupeKey: resultKey(pollId),
      });
      await startMessage(tx, message.id);
      await recordAudit(tx, {
        actorUserId: actor?.userId,
        actorLabel: actor ? actorLabel(actor) : "scheduler",
        action: "poll.close",
        municipalityId: poll.municipalityId,
        details: { pollId, voters: tally.voters, early: actor !== undefined },
      });
      return { poll, tally };
    });
  }

  private async tallies(pollIds: readonly number[]): Promise<Map<number, PollTally>> {
    const out = new Map<number, PollTally>();
    if (pollIds.length === 0) return out;
    const rows = await this.db
      .select()
      .from(polls)
      .where(inArray(polls.id, [...pollIds]));
    for (const poll of rows) out.set(poll.id, await this.tally(poll));
    return out;
  }

  /** Told of a burst warning (the feature logs it). */
  onBurst: ((poll: PollRow, newAccountVotes: number) => void) | undefined;
}

function emptyTally(poll: PollRow): PollTally {
  return { counts: poll.options.map(() => 0), voters: 0 };
}
