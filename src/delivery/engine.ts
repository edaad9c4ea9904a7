import { randomBytes } from "node:crypto";
import { capabilitiesOf } from "../channels/capabilities";
import { ChannelError } from "../channels/types";
import type { Database, DatabaseHandle, Unlisten } from "../db/client";
import { databaseUnavailableCode, isDatabaseUnavailable } from "../db/errors";
import type { MessageKind } from "../db/schema/delivery";
import type { Channel } from "../db/schema/users";
import {
  type ClaimedRow,
  claimDue,
  ensureChannelState,
  loadMessageContent,
  markUserInactive,
  pauseChannel,
  type RowOutcome,
  readChannelClock,
  recordOutcome,
  reserveSlots,
} from "./claims";
import { type MessageContent, renderForRecipient } from "./content";
import { DELIVERY_WAKE_CHANNEL, deliveryEvents, parseWakePayload } from "./events";
import type { DeliverySender } from "./senders";
import { reapExpiredLeases } from "./transitions";

/** Per-channel settings. Defaults are Telegram's limits. */
export interface ChannelSettings {
  channel: Channel;
  sender: DeliverySender;
  /** The platform's bulk limit, messages per second for the whole bot (Telegram: 30). */
  limitPerSecond?: number;
  /**
   * Fraction kept below the limit by the shared send clock (default 0.01: slots 29.7/s of 30/s).
   * Within one process a sliding-window guard also keeps sends under the limit as the platform
   * sees them (see maxSkewMs); across processes the shared clock spaces them.
   */
  headroom?: number;
  /**
   * At most one message per chat per this many seconds (default: the channel's declared
   * `perChatIntervalSeconds`, src/channels/capabilities.ts: Telegram 1, WhatsApp 6).
   */
  perChatSeconds?: number;
  /**
   * Fraction kept below the limit while other processes send on the channel too (default 0.03:
   * slots 29.1/s of 30/s). Their sends are spaced only by the shared clock, so this is the
   * slack for a send that leaves after its slot: at 0.03, 30 slots span 1031 ms, and a send
   * may leave up to about 25 ms late (later ones take a new slot) without 31 reaching the
   * platform within one second.
   */
  sharedHeadroom?: number;
  /**
   * Rows claimed per batch. Small batches keep the in-flight set small; the default grows with the
   * limit so that about 10 claims a second keep up with it (5 at Telegram's 30/s, 30 at 300/s):
   * each claim is two round trips to the database, and 60 of them a second fall behind.
   */
  batchSize?: number;
}

/** The subset of a pino logger the engine uses. */
export interface DeliveryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface DeliveryEngineOptions {
  channels: ChannelSettings[];
  logger?: DeliveryLogger;
  /** A claimed row not finished within this time is re-queued (its worker is presumed dead). */
  leaseSeconds?: number;
  /** Attempts (network errors, 5xx) before a row is failed with its last error kept. */
  maxAttempts?: number;
  /** Backoff after a transient error: base · 2^(attempt-1), capped, ±20 % jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How far ahead of the shared send clock a worker may claim rows. */
  horizonMs?: number;
  /** How often an idle worker looks for due rows written by other processes. */
  idlePollMs?: number;
  /**
   * Longest time a request may take to reach the platform, for the local rate guard (default
   * 50 ms): a send counts from its answer, or from this long after it left, whichever is first.
   */
  maxSkewMs?: number;
  /**
   * Subscribes to NOTIFY (DatabaseHandle.listen): rows enqueued and cancellations made by other
   * processes reach this engine at once instead of at its next idle poll. Without it the engine
   * learns of them within `idlePollMs` (and of this process's own at once, in-process).
   */
  listen?: DatabaseHandle["listen"];
  /**
   * Whether to wake on this process's own enqueues through the in-process event bus (default
   * true). Tests of cross-process wake-ups turn it off to see only what arrives through `listen`.
   */
  localWakeups?: boolean;
  /** The clock for the engine's local decisions (send times, pauses, per-chat gaps); tests. */
  now?: () => number;
}

export interface EngineCounters {
  sent: number;
  /** Kept in a closed web chat's history (sent once a page shows it). */
  held: number;
  blocked: number;
  unreachable: number;
  /** Skipped: outside WhatsApp's 24-hour window with no template for the message's kind. */
  outsideWindow: number;
  /** Sent as a WhatsApp template (outside the window). */
  templates: number;
  failed: number;
  retried: number;
  rateLimited: number;
  claimed: number;
  /** Times a worker found nothing due and went idle (until a wake-up or its idle poll). */
  idle: number;
  /**
   * Sends that would have left too long after their slot while other processes shared the
   * channel, and took a later slot instead.
   */
  late: number;
}

interface SendMark {
  /** When the request was handed to the sender. */
  at: number;
  /** When its answer (or error) came back. */
  done?: number;
}

interface ChannelRuntime {
  settings: Required<Omit<ChannelSettings, "sender">> & { sender: DeliverySender };
  /** Slot spacing while this process sends alone, and while others send too. */
  intervalMs: number;
  sharedIntervalMs: number;
  /** How late after its slot a send may leave while others send too (see sharedHeadroom). */
  sharedLateMs: number;
  /**
   * Until when (local ms) other processes are taken to send on this channel: set whenever a
   * reservation finds slots taken since this process's previous one.
   */
  sharedUntil: number;
  /** End of this process's last reservation, on the database's clock. */
  lastSlotEndDbMs: number;
  /** Local 429 pause (the shared one lives in delivery_channel_state). */
  pausedUntil: number;
  /** Last send per chat in this process. */
  lastSentAt: Map<number, number>;
  /** This process's recent sends, for a local sliding-window guard. */
  recent: SendMark[];
  inflight: Set<Promise<void>>;
}

const DEFAULT_LIMITS: Record<Channel, number> = { telegram: 30, whatsapp: 80, web: 100 };

/** The per-chat pause the engine keeps unless told otherwise: what the channel declares. */
export function defaultPerChatSeconds(channel: Channel): number {
  return capabilitiesOf(channel).perChatIntervalSeconds;
}

/**
 * How long a sent row's outcome is retried while the database is out of reach: far beyond any
 * outage the app rides out otherwise, bounded so that a database gone for good ends in a log line.
 */
const RECORD_PATIENCE_MS = 15 * 60_000;

const sleepFor = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** How long after its last sign of another process's slots an engine still counts it as there. */
const SHARED_MEMORY_MS = 3_000;
/** Slots a send may take again for being late before its row goes back to the queue. */
const MAX_LATE_RESLOTS = 3;

/**
 * The offset of the database's clock from this process's (db − local), from the query with the
 * shortest round trip among the recent ones: its midpoint is the closest to when the database
 * read its clock. On one machine it is about 0; across machines it absorbs their clocks' skew.
 */
class ClockOffset {
  private samples: { offset: number; rtt: number }[] = [];
  private best: { offset: number; rtt: number } | undefined;

  add(sentAt: number, answeredAt: number, dbNowMs: number): void {
    if (!Number.isFinite(dbNowMs)) return;
    const rtt = answeredAt - sentAt;
    this.samples.push({ offset: dbNowMs - (sentAt + answeredAt) / 2, rtt });
    if (this.samples.length > 32) this.samples.shift();
    this.best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
  }

  /** A time on the database's clock as this process's local time. */
  toLocal(dbMs: number): number {
    return dbMs - (this.best?.offset ?? 0);
  }
}

/**
 * Claims due deliveries and sends them at the channel's limit. Any number of engines (in one
 * or many processes) can run on one database: rows are claimed with FOR UPDATE SKIP LOCKED and
 * the send clock and 429 pauses are shared through the database.
 *
 * Crash safety: a row is `sending` only between its claim and the recording of its outcome. If
 * the process dies (SIGKILL), such rows return to `pending` when their lease passes and are
 * sent again: those whose HTTP request had already reached the channel are the only possible
 * duplicates. Nothing else can be lost or repeated.
 */
export class DeliveryEngine {
  readonly workerId = randomBytes(6).toString("hex");
  readonly counters: EngineCounters = {
    sent: 0,
    held: 0,
    blocked: 0,
    unreachable: 0,
    outsideWindow: 0,
    templates: 0,
    failed: 0,
    retried: 0,
    rateLimited: 0,
    claimed: 0,
    idle: 0,
    late: 0,
  };
  private readonly clockOffset = new ClockOffset();
  /** The gate's mark behind each `done` it handed out, for ungate. */
  private readonly marks = new WeakMap<() => void, SendMark>();
  private readonly runtimes: ChannelRuntime[];
  private readonly leaseSeconds: number;
  /** Set while the worker loops find the database unreachable (logged once per outage). */
  private databaseAway = false;
  /** Rows sent whose outcome is still being written down (the database was away). */
  private readonly recording = new Set<number>();
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly horizonMs: number;
  private readonly idlePollMs: number;
  private readonly maxSkewMs: number;
  private readonly log: DeliveryLogger | undefined;
  private readonly listen: DatabaseHandle["listen"] | undefined;
  private readonly now: () => number;
  private readonly localWakeups: boolean;
  private unlisten: Promise<Unlisten | undefined> | undefined;
  private readonly contents = new Map<number, { kind: MessageKind; content: MessageContent }>();
  private readonly cancelled = new Set<number>();
  private readonly sleepers = new Set<() => void>();
  private loops: Promise<void>[] = [];
  private reaper: NodeJS.Timeout | undefined;
  private running = false;
  private readonly onWake = () => this.wakeAll();
  private readonly onCancelled = (id: number) => {
    this.cancelled.add(id);
  };

  constructor(
    private readonly db: Database,
    options: DeliveryEngineOptions,
  ) {
    this.log = options.logger;
    this.leaseSeconds = options.leaseSeconds ?? 60;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffBaseMs = options.backoffBaseMs ?? 2_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 300_000;
    this.horizonMs = options.horizonMs ?? 300;
    this.idlePollMs = options.idlePollMs ?? 1_000;
    this.maxSkewMs = options.maxSkewMs ?? 50;
    this.listen = options.listen;
    this.now = options.now ?? Date.now;
    this.localWakeups = options.localWakeups ?? true;
    this.runtimes = options.channels.map((c) => {
      const limit = c.limitPerSecond ?? DEFAULT_LIMITS[c.channel];
      const headroom = c.headroom ?? 0.01;
      const sharedHeadroom = Math.max(headroom, c.sharedHeadroom ?? 0.03);
      const sharedIntervalMs = 1000 / (limit * (1 - sharedHeadroom));
      // The slack of `limit` slots over one second, less a margin for the request's way to the
      // platform. Measured: two slots more (≈ 95 ms) saved most new slots but let 48 sends
      // meet a 429 in 3,000 (bench, 2 instances), each pausing the channel for a second.
      const sharedLateMs = Math.max(0, Math.floor(limit * sharedIntervalMs) - 1000 - 5);
      return {
        settings: {
          channel: c.channel,
          sender: c.sender,
          limitPerSecond: limit,
          headroom,
          sharedHeadroom,
          perChatSeconds: c.perChatSeconds ?? defaultPerChatSeconds(c.channel),
          batchSize: c.batchSize ?? Math.max(5, Math.ceil(limit / 10)),
        },
        intervalMs: 1000 / (limit * (1 - headroom)),
        sharedIntervalMs,
        sharedLateMs,
        sharedUntil: 0,
        lastSlotEndDbMs: Number.NEGATIVE_INFINITY,
        pausedUntil: 0,
        lastSentAt: new Map(),
        recent: [],
        inflight: new Set(),
      };
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Rows claimed by this engine and not yet recorded (for diagnostics). */
  get inflightBatches(): number {
    return this.runtimes.reduce((n, r) => n + r.inflight.size, 0);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.localWakeups) deliveryEvents.on("wake", this.onWake);
    deliveryEvents.on("cancelled", this.onCancelled);
    if (this.listen) {
      this.unlisten = this.listen(DELIVERY_WAKE_CHANNEL, (payload) => {
        const { cancelled, paused } = parseWakePayload(payload);
        if (cancelled !== undefined) this.cancelled.add(cancelled);
        if (paused) {
          // Another process met a 429: hold this process's sends already on the clock too.
          const until = this.clockOffset.toLocal(paused.untilDbMs);
          for (const rt of this.runtimes) {
            if (rt.settings.channel === paused.channel) {
              rt.pausedUntil = Math.max(rt.pausedUntil, until);
            }
          }
          return;
        }
        this.wakeAll();
      }).catch((err: unknown) => {
        this.log?.error({ err }, "delivery: cannot listen for wake-ups; polling only");
        return undefined;
      });
    }
    this.loops = this.runtimes.map((rt) => this.runChannel(rt));
    const reapEvery = Math.max(1_000, (this.leaseSeconds * 1000) / 4);
    this.reaper = setInterval(() => {
      reapExpiredLeases(this.db, undefined, [...this.recording])
        .then((n) => {
          if (n > 0) this.log?.warn({ rows: n }, "delivery: re-queued rows of an expired lease");
        })
        .catch((err: unknown) => this.log?.error({ err }, "delivery: lease reaper failed"));
    }, reapEvery);
    this.reaper.unref();
  }

  /** Resolves once wake-ups from other processes arrive (true), or when they never will. */
  async listening(): Promise<boolean> {
    return (await this.unlisten) !== undefined;
  }

  /** Wakes idle workers (new rows, a started message). */
  wake(): void {
    this.wakeAll();
  }

  /** Stops claiming, lets every in-flight send finish and be recorded, then resolves. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    deliveryEvents.off("wake", this.onWake);
    deliveryEvents.off("cancelled", this.onCancelled);
    if (this.reaper) clearInterval(this.reaper);
    const unlisten = await this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch(() => {});
    this.wakeAll();
    await Promise.allSettled(this.loops);
    await Promise.allSettled(this.runtimes.flatMap((rt) => [...rt.inflight]));
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Sleeps up to `ms`, returning early on wake() or stop(). */
  private nap(ms: number): Promise<void> {
    // Stopped meanwhile (e.g. during a claim): a nap now would outlive stop()'s wake-up.
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.sleepers.add(done);
    });
  }

  private async runChannel(rt: ChannelRuntime): Promise<void> {
    const { channel, batchSize, perChatSeconds } = rt.settings;
    try {
      await ensureChannelState(this.db, channel);
    } catch (err) {
      this.log?.error({ err, channel }, "delivery: cannot initialise channel state");
    }
    const maxInflight = 8;
    try {
      await rt.settings.sender.warmUp?.();
    } catch (err) {
      this.log?.warn({ err, channel }, "delivery: sender warm-up failed");
    }
    while (this.running) {
      try {
        const localPause = rt.pausedUntil - this.now();
        if (localPause > 0) {
          await this.nap(localPause);
          continue;
        }
        const asked = this.now();
        const clock = await readChannelClock(this.db, channel);
        if (this.databaseAway) {
          this.databaseAway = false;
          this.log?.info({ channel }, "delivery: database reachable again");
        }
        this.clockOffset.add(asked, this.now(), clock.dbNowMs);
        if (clock.pausedForMs > 0) {
          await this.nap(clock.pausedForMs);
          continue;
        }
        if (clock.nextSlotInMs > this.horizonMs) {
          await this.nap(clock.nextSlotInMs - this.horizonMs);
          continue;
        }
        if (rt.inflight.size >= maxInflight) {
          await Promise.race(rt.inflight);
          continue;
        }
        const rows = await claimDue(
          this.db,
          channel,
          batchSize,
          this.leaseSeconds,
          perChatSeconds,
          this.workerId,
        );
        if (rows.length === 0) {
          this.counters.idle++;
          await this.nap(this.idlePollMs);
          continue;
        }
        this.counters.claimed += rows.length;
        const batch = this.handleBatch(rt, rows).catch((err: unknown) =>
          this.log?.error({ err, channel }, "delivery: batch failed"),
        );
        rt.inflight.add(batch);
        void batch.finally(() => rt.inflight.delete(batch));
      } catch (err) {
        const unreachable = databaseUnavailableCode(err);
        if (!unreachable) this.log?.error({ err, channel }, "delivery: worker loop error");
        else if (!this.databaseAway) {
          // One line per outage, not a stack trace a second: the loop just waits it out.
          this.databaseAway = true;
          this.log?.warn({ code: unreachable, channel }, "delivery: database unreachable, waiting");
        }
        await this.nap(1_000);
      }
    }
  }

  private async content(
    messageId: number,
  ): Promise<{ kind: MessageKind; content: MessageContent } | undefined> {
    const cached = this.contents.get(messageId);
    if (cached) return cached;
    const row = await loadMessageContent(this.db, messageId);
    if (!row) return undefined;
    if (this.contents.size > 500) this.contents.clear();
    const entry = { kind: row.kind, content: row.content };
    this.contents.set(messageId, entry);
    return entry;
  }

  private async record(row: ClaimedRow, outcome: RowOutcome): Promise<void> {
    // The message has left: should the database be out of reach now, keep trying to write that
    // down until it answers (an outage may outlast the lease), or the row is sent a second time.
    // While waiting the row is ours to record: this engine's reaper leaves it alone, and the
    // record is taken even after another reaper re-queued it, as long as nobody claimed it since.
    this.recording.add(row.id);
    try {
      const started = Date.now();
      for (;;) {
        try {
          const ok = await recordOutcome(this.db, row.id, this.workerId, outcome, row.attempts);
          if (!ok) this.log?.warn({ row: row.id, outcome: outcome.kind }, "delivery: lease lost");
          return;
        } catch (err) {
          const waited = Date.now() - started;
          // Stopping gives up after the lease: the process is going away, and the row with it.
          const patience = this.running ? RECORD_PATIENCE_MS : this.leaseSeconds * 1000;
          if (!isDatabaseUnavailable(err) || waited >= patience) throw err;
          await sleepFor(1_000);
        }
      }
    } finally {
      this.recording.delete(row.id);
    }
  }

  private async handleBatch(rt: ChannelRuntime, rows: ClaimedRow[]): Promise<void> {
    const { perChatSeconds } = rt.settings;
    const now = this.now();
    const toSend: { row: ClaimedRow; content: { kind: MessageKind; content: MessageContent } }[] =
      [];
    const chatsInBatch = new Set<number>();
    for (const row of rows) {
      if (row.inactive) {
        await this.record(row, { kind: "skipped", reason: "inactive" });
        continue;
      }
      if (row.attempts > this.maxAttempts + 2) {
        await this.record(row, { kind: "failed", error: "claimed too often without an outcome" });
        this.counters.failed++;
        continue;
      }
      const last = rt.lastSentAt.get(row.chatId);
      const perChatMs = perChatSeconds * 1000;
      if (chatsInBatch.has(row.chatId) || (last !== undefined && now - last < perChatMs)) {
        const wait = chatsInBatch.has(row.chatId) ? perChatMs : perChatMs - (now - (last ?? now));
        await this.record(row, {
          kind: "retry",
          delayMs: Math.max(wait, 50),
          error: "per-chat limit",
          giveBackAttempt: true,
        });
        continue;
      }
      chatsInBatch.add(row.chatId);
      const content = await this.content(row.messageId);
      if (!content) {
        await this.record(row, { kind: "failed", error: "message not found" });
        continue;
      }
      toSend.push({ row, content });
    }
    if (toSend.length === 0) return;

    const slots = await this.reserve(rt, toSend.length);
    await Promise.all(
      toSend.map(({ row, content }, i) => this.sendAt(rt, row, content, slots[i]!)),
    );
  }

  /**
   * Reserves `count` slots on the shared clock and returns their local times. Slots taken by
   * others since this process's previous reservation mean the channel is shared: from then on
   * (for SHARED_MEMORY_MS) slots are spaced wider and a send may not leave late (see sendAt),
   * because no local guard sees the other processes' sends.
   */
  private async reserve(rt: ChannelRuntime, count: number): Promise<number[]> {
    const shared = this.now() < rt.sharedUntil;
    const interval = shared ? rt.sharedIntervalMs : rt.intervalMs;
    const asked = this.now();
    const r = await reserveSlots(this.db, rt.settings.channel, count, interval);
    this.clockOffset.add(asked, this.now(), r.dbNowMs);
    // Ours start after slots reserved by others (not after our own, nor at an idle clock).
    if (r.firstAtMs > rt.lastSlotEndDbMs + 1 && r.firstAtMs > r.dbNowMs + 1) {
      rt.sharedUntil = this.now() + SHARED_MEMORY_MS;
    }
    rt.lastSlotEndDbMs = r.firstAtMs + count * interval;
    const first = this.clockOffset.toLocal(r.firstAtMs);
    return Array.from({ length: count }, (_, i) => first + i * interval);
  }

  private async sendAt(
    rt: ChannelRuntime,
    row: ClaimedRow,
    message: { kind: MessageKind; content: MessageContent },
    slotAt: number,
  ): Promise<void> {
    const { sender } = rt.settings;
    let at = slotAt;
    let done: (() => void) | undefined;
    for (let reslots = 0; ; reslots++) {
      await sleepFor(at - this.now());
      // A sender that does work of its own before its request (WhatsApp: a stored message)
      // passes the gate itself, right before each request; for the others the engine passes it.
      done = sender.gatesRequests ? undefined : await this.passGate(rt);
      // While other processes send too, only the shared clock spaces their sends from ours: one
      // of ours leaving late (a stalled event loop, a held gate) would bunch up with theirs.
      const late = this.now() - at;
      if (late <= rt.sharedLateMs || this.now() >= rt.sharedUntil) break;
      // Not going out anyway (below): no new slot for it.
      if (this.cancelled.has(row.messageId) || rt.pausedUntil > this.now()) break;
      // Not sent: its place in the local window goes to the next send.
      if (done) this.ungate(rt, done);
      this.counters.late++;
      if (reslots >= MAX_LATE_RESLOTS) {
        await this.record(row, {
          kind: "retry",
          delayMs: 0,
          error: "left too late for its send slot",
          giveBackAttempt: true,
        });
        return;
      }
      [at] = (await this.reserve(rt, 1)) as [number];
    }
    if (this.cancelled.has(row.messageId)) {
      done?.();
      await this.record(row, { kind: "skipped", reason: "cancelled" });
      return;
    }
    const pausedFor = rt.pausedUntil - this.now();
    if (pausedFor > 0) {
      done?.();
      await this.record(row, {
        kind: "retry",
        delayMs: pausedFor,
        error: "channel paused (429)",
        giveBackAttempt: true,
      });
      return;
    }
    const recipient = {
      userId: row.userId,
      chatId: row.chatId,
      locale: row.locale,
      channel: row.channel,
      channelUserId: row.channelUserId,
      channelAltId: row.channelAltId,
      lastMessageAt: row.lastMessageAt,
      reengage: row.channelStatus === "reengage",
    };
    let outcome: RowOutcome;
    try {
      const rendered = { ...renderForRecipient(message.content, row.locale), kind: message.kind };
      const result = await (sender.gatesRequests
        ? sender.send(recipient, rendered, () => this.passGate(rt))
        : sender.send(recipient, rendered)
      ).finally(() => done?.());
      rt.lastSentAt.set(row.chatId, this.now());
      this.pruneChats(rt);
      if (result.held) {
        outcome = { kind: "held", channelMessageId: result.channelMessageId };
        this.counters.held++;
      } else {
        outcome = {
          kind: "sent",
          channelMessageId: result.channelMessageId,
          ...(result.viaTemplate ? { viaTemplate: true } : {}),
        };
        this.counters.sent++;
        if (result.viaTemplate) this.counters.templates++;
      }
    } catch (err) {
      outcome = await this.failureOutcome(rt, row, err);
    }
    await this.record(row, outcome);
  }

  /**
   * The local sliding-window guard: never `limit` requests of this process within one second as
   * the platform sees them, even when timers fire late or the process stalls. A request reached
   * the server at the latest when its answer came back, so the window is anchored on the answer
   * (capped at maxSkewMs after the request left, for slow networks). Resolves when one more
   * request may leave, with the function to call when its answer arrives.
   */
  private async passGate(rt: ChannelRuntime): Promise<() => void> {
    const limit = Math.floor(rt.settings.limitPerSecond);
    for (;;) {
      const mark = rt.recent.length >= limit ? rt.recent[rt.recent.length - limit] : undefined;
      const anchor = mark
        ? Math.min(mark.done ?? Number.POSITIVE_INFINITY, mark.at + this.maxSkewMs)
        : 0;
      const wait = anchor + 1_002 - this.now();
      if (wait <= 0) break;
      await sleepFor(wait);
    }
    const mark: SendMark = { at: this.now() };
    rt.recent.push(mark);
    if (rt.recent.length > limit * 2) rt.recent.splice(0, rt.recent.length - limit);
    const done = () => {
      mark.done ??= this.now();
    };
    this.marks.set(done, mark);
    return done;
  }

  /** Takes back a gate passed for a request that then did not leave. */
  private ungate(rt: ChannelRuntime, done: () => void): void {
    const mark = this.marks.get(done);
    const i = mark ? rt.recent.indexOf(mark) : -1;
    if (i >= 0) rt.recent.splice(i, 1);
  }

  private async failureOutcome(
    rt: ChannelRuntime,
    row: ClaimedRow,
    err: unknown,
  ): Promise<RowOutcome> {
    const e =
      err instanceof ChannelError
        ? err
        : new ChannelError("transient", err instanceof Error ? err.message : String(err));
    switch (e.kind) {
      case "blocked":
        this.counters.blocked++;
        await markUserInactive(this.db, row.userId, "blocked");
        return { kind: "skipped", reason: "blocked", error: e.message };
      case "unreachable":
        this.counters.unreachable++;
        return { kind: "skipped", reason: "unreachable", error: e.message };
      case "outside_window":
        this.counters.outsideWindow++;
        return { kind: "skipped", reason: "outside_window", error: e.message };
      case "recipient_rate_limited":
        // Only this person is paced (WhatsApp's pair rate): the row waits, the channel goes on.
        this.counters.rateLimited++;
        return {
          kind: "retry",
          delayMs: Math.max(1, e.retryAfterSeconds ?? rt.settings.perChatSeconds) * 1000,
          error: e.message,
          giveBackAttempt: true,
        };
      case "rate_limited": {
        this.counters.rateLimited++;
        const seconds = Math.max(1, e.retryAfterSeconds ?? 1);
        rt.pausedUntil = Math.max(rt.pausedUntil, this.now() + seconds * 1000);
        this.log?.warn({ channel: rt.settings.channel, seconds }, "delivery: 429, channel paused");
        await pauseChannel(this.db, rt.settings.channel, seconds);
        return {
          kind: "retry",
          delayMs: seconds * 1000,
          error: e.message,
          giveBackAttempt: true,
        };
      }
      case "permanent":
        this.counters.failed++;
        return { kind: "failed", error: e.message };
      default: {
        if (row.attempts >= this.maxAttempts) {
          this.counters.failed++;
          return { kind: "failed", error: e.message };
        }
        this.counters.retried++;
        const exp = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (row.attempts - 1));
        const delayMs = Math.round(exp * (0.8 + Math.random() * 0.4));
        return { kind: "retry", delayMs, error: e.message };
      }
    }
  }

  private pruneChats(rt: ChannelRuntime): void {
    if (rt.lastSentAt.size < 10_000) return;
    const cutoff = this.now() - rt.settings.perChatSeconds * 1000;
    for (const [chat, at] of rt.lastSentAt) if (at < cutoff) rt.lastSentAt.delete(chat);
  }
}
