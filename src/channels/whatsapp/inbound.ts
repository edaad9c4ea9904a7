import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { type Database, rowsOf } from "../../db/client";
import {
  MESSAGE_KINDS,
  type MessageKind,
  type UserRow,
  users,
  type WhatsappInboxPayload,
  whatsappInbox,
} from "../../db/schema";
import { wakeDelivery } from "../../delivery/events";
import { refreshTotals } from "../../delivery/transitions";
import { getI18n } from "../../i18n";
import { LOCALES } from "../../locales";
import type { WhatsAppAdapter } from "./adapter";
import { findOrCreateWhatsappUser } from "./people";
import type { WaWebhookBody, WaWebhookMessage, WaWebhookStatus } from "./types";

/** The subset of a pino logger used here. */
interface InboundLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A processing that has not finished this long after it started is taken up again. */
const LEASE = sql`interval '2 minutes'`;
/**
 * A status reported before its send was recorded is looked at again after these waits (a busy
 * database may take a while to record the send), then forgotten.
 */
const STATUS_RETRY_MS = [2_000, 5_000, 10_000, 20_000];
/**
 * A failure is worth waiting longer for (a closed window's row goes again as a template): on a
 * busy machine the send may be recorded late. Failures are few, so the extra looks cost little.
 */
const FAILURE_RETRY_MS = [...STATUS_RETRY_MS, 40_000, 60_000, 120_000];
/** Seen message ids are kept this long: Meta redelivers for days, never for a week. */
export const INBOX_KEEP_DAYS = 7;

/**
 * A first message that may be a question (a "?" or a sentence, not "Салам"): passed on after
 * /start, so that onboarding keeps it and answers it once done (a greeting would only make the
 * language step ask again).
 */
function mayBeQuestion(text: string): boolean {
  return text.includes("?") || text.trim().split(/\s+/).length >= 5;
}

/** "K7M2-QX9P-3HTR" typed as the very first message: kept for the onboarding that starts. */
const INVITE_CODE = /^(?=.*\d)[0-9A-Za-z]{4}[-\s]?[0-9A-Za-z]{4}[-\s]?[0-9A-Za-z]{4}$/;

export interface ParsedWebhook {
  messages: { wamid: string; payload: WhatsappInboxPayload }[];
  statuses: WaWebhookStatus[];
  /** Entries or changes of shapes Aimak does not know (logged, then ignored). */
  unknown: number;
}

/** Reads every entry[] and changes[] of a webhook body; tolerant of anything unexpected. */
export function parseWebhook(body: unknown): ParsedWebhook {
  const out: ParsedWebhook = { messages: [], statuses: [], unknown: 0 };
  const entries = (body as Partial<WaWebhookBody> | null)?.entry;
  if (!Array.isArray(entries)) {
    out.unknown++;
    return out;
  }
  for (const entry of entries) {
    const changes = (entry as { changes?: unknown })?.changes;
    if (!Array.isArray(changes)) {
      out.unknown++;
      continue;
    }
    for (const change of changes) {
      const value = (change as { field?: unknown; value?: unknown })?.value as
        | WaWebhookBody["entry"][number]["changes"][number]["value"]
        | undefined;
      if (
        (change as { field?: unknown })?.field !== "messages" ||
        !value ||
        typeof value !== "object"
      ) {
        out.unknown++;
        continue;
      }
      const contacts = Array.isArray(value.contacts) ? value.contacts : [];
      for (const message of Array.isArray(value.messages) ? value.messages : []) {
        if (!message || typeof message.id !== "string" || message.id.length > 256) {
          out.unknown++;
          continue;
        }
        const waId = typeof message.from === "string" ? message.from : undefined;
        const bsuid = typeof message.from_user_id === "string" ? message.from_user_id : undefined;
        if (!waId && !bsuid) {
          out.unknown++;
          continue;
        }
        const contact = contacts.find(
          (c) => (waId && c?.wa_id === waId) || (bsuid && c?.user_id === bsuid),
        );
        const name = contact?.profile?.name;
        out.messages.push({
          wamid: message.id,
          payload: {
            ...(waId ? { waId } : contact?.wa_id ? { waId: contact.wa_id } : {}),
            ...(bsuid ? { bsuid } : contact?.user_id ? { bsuid: contact.user_id } : {}),
            ...(typeof name === "string" ? { name: name.slice(0, 64) } : {}),
            message: message as unknown as Record<string, unknown>,
          },
        });
      }
      for (const status of Array.isArray(value.statuses) ? value.statuses : []) {
        if (status && typeof status.id === "string" && typeof status.status === "string") {
          out.statuses.push(status);
        } else out.unknown++;
      }
    }
  }
  return out;
}

/** Words that ask for the menu, in every language (each locale's whatsapp.channel.menu_words). */
function menuWords(): Set<string> {
  const words = new Set<string>(["menu", "/menu"]);
  for (const locale of LOCALES) {
    const bundle = getI18n().getResourceBundle(locale, "translation") as
      | { whatsapp?: { channel?: { menu_words?: string } } }
      | undefined;
    for (const w of bundle?.whatsapp?.channel?.menu_words?.split(",") ?? []) {
      if (w.trim()) words.add(w.trim().toLowerCase());
    }
  }
  return words;
}

export interface WhatsAppInboundOptions {
  db: Database;
  adapter: WhatsAppAdapter;
  logger: InboundLogger;
  /** Whether a message kind has an approved template (a 131047 failure is then retried as one). */
  hasTemplate: (kind: MessageKind) => boolean;
}

/**
 * The WhatsApp channel's incoming side. The webhook stores each message in the inbox (the
 * primary key drops a redelivery) and is answered at once; processing follows, one person's
 * messages in order: the person is found or created, their 24-hour window moves, and what they
 * sent becomes a grammY update for the same bot that serves Telegram.
 */
export class WhatsAppInbound {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Statuses that found no delivery row yet, by wamid and status (see retryUnmatched). */
  private readonly unmatched = new Map<
    string,
    { status: WaWebhookStatus; tries: number; dueAt: number }
  >();
  private retryTimer: { handle: NodeJS.Timeout; at: number } | undefined;
  private retrying = false;
  private words: Set<string> | undefined;

  constructor(private readonly options: WhatsAppInboundOptions) {}

  /**
   * Stores the messages not seen before (by wamid, across every instance) and starts processing
   * them in the background; records statuses. Resolves once both are stored.
   */
  async accept(parsed: ParsedWebhook): Promise<void> {
    const { db } = this.options;
    if (parsed.messages.length > 0) {
      const fresh = await db
        .insert(whatsappInbox)
        .values(
          parsed.messages.map((m) => ({
            wamid: m.wamid,
            payload: m.payload,
            claimedUntil: sql`now() + ${LEASE}`,
          })),
        )
        .onConflictDoNothing()
        .returning({ wamid: whatsappInbox.wamid });
      const isFresh = new Set(fresh.map((r) => r.wamid));
      for (const m of parsed.messages) {
        if (isFresh.has(m.wamid)) {
          isFresh.delete(m.wamid);
          this.enqueue(m.wamid, m.payload);
        }
      }
    }
    if (parsed.statuses.length > 0) await this.recordStatuses(parsed.statuses);
  }

  /** Messages whose processing was cut short (a crash): taken up again. Returns how many. */
  async recover(): Promise<number> {
    const { db } = this.options;
    const rows = await db
      .update(whatsappInbox)
      .set({ claimedUntil: sql`now() + ${LEASE}` })
      .where(
        inArray(
          whatsappInbox.wamid,
          db
            .select({ wamid: whatsappInbox.wamid })
            .from(whatsappInbox)
            .where(
              and(
                isNull(whatsappInbox.processedAt),
                or(isNull(whatsappInbox.claimedUntil), lt(whatsappInbox.claimedUntil, sql`now()`)),
              ),
            )
            .limit(100),
        ),
      )
      .returning();
    for (const row of rows) this.enqueue(row.wamid, row.payload);
    return rows.length;
  }

  /** Forgets seen message ids older than INBOX_KEEP_DAYS. */
  async prune(): Promise<number> {
    const gone = await this.options.db
      .delete(whatsappInbox)
      .where(lt(whatsappInbox.receivedAt, sql`now() - make_interval(days => ${INBOX_KEEP_DAYS})`))
      .returning({ wamid: whatsappInbox.wamid });
    return gone.length;
  }

  /** Resolves once everything accepted so far is processed (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(wamid: string, payload: WhatsappInboxPayload): void {
    const key = payload.waId ?? payload.bsuid ?? wamid;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const work = previous
      .then(() => this.process(wamid, payload))
      .catch((err: unknown) =>
        this.options.logger.error({ err, wamid }, "whatsapp: processing a message failed"),
      );
    this.queues.set(key, work);
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      if (this.queues.get(key) === work) this.queues.delete(key);
    });
  }

  private async process(wamid: string, payload: WhatsappInboxPayload): Promise<void> {
    const { db } = this.options;
    const message = payload.message as unknown as WaWebhookMessage;
    const { user, created } = await findOrCreateWhatsappUser(db, payload);
    const sentAt =
      Number(message.timestamp) > 0 ? new Date(Number(message.timestamp) * 1000) : new Date();
    // The 24-hour window counts from the person's latest message; writing also means reachable.
    await db
      .update(users)
      .set({
        lastMessageAt: sql`greatest(${users.lastMessageAt}, ${sentAt.toISOString()}::timestamptz)`,
        inactive: false,
        inactiveReason: null,
      })
      .where(eq(users.id, user.id));
    await this.handle(user, created, message, sentAt);
    await db
      .update(whatsappInbox)
      .set({ processedAt: sql`now()` })
      .where(eq(whatsappInbox.wamid, wamid));
  }

  private async handle(user: UserRow, created: boolean, message: WaWebhookMessage, at: Date) {
    const { adapter } = this.options;
    const date = Math.floor(at.getTime() / 1000);
    const messageId = date % 2 ** 31;
    const text = messageText(message);
    if (created) {
      // People on WhatsApp do not type /start: whatever they first write starts onboarding
      // (an invite code they were sent is kept: the onboarding flow redeems it).
      await adapter.dispatch(adapter.textUpdate(user, "/start", messageId, date));
      if (text && (INVITE_CODE.test(text.trim()) || mayBeQuestion(text))) {
        await adapter.dispatch(adapter.textUpdate(user, text.trim(), messageId, date));
      }
      return;
    }
    if (text !== undefined) {
      if (!this.words) this.words = menuWords();
      const words = this.words;
      const asked = text.trim().toLowerCase();
      const update = words.has(asked) ? "/help" : text;
      await adapter.dispatch(adapter.textUpdate(user, update, messageId, date));
      return;
    }
    const replyId =
      message.interactive?.button_reply?.id ?? message.interactive?.list_reply?.id ?? undefined;
    if (message.type === "interactive" && typeof replyId === "string") {
      const pressed = await adapter.press(user, replyId);
      if (pressed.kind === "update") await adapter.dispatch(pressed.update);
      else if (pressed.kind === "stale") await adapter.notice(user, "errors.stale_button");
      return;
    }
    if (message.type === "contacts" && Array.isArray(message.contacts) && message.contacts[0]) {
      const contact = message.contacts[0];
      const phone = contact.phones?.find((p) => p?.phone || p?.wa_id);
      if (phone) {
        const waId = phone.wa_id ?? phone.phone?.replace(/\D/g, "");
        const own = Boolean(waId && user.channelUserId === waId);
        await adapter.dispatch(
          adapter.contactUpdate(
            user,
            {
              phone: phone.phone ?? `+${waId}`,
              firstName: contact.name?.first_name ?? contact.name?.formatted_name ?? "",
              own,
            },
            messageId,
            date,
          ),
        );
        return;
      }
    }
    // Pictures, voice, stickers, locations, reactions: the flows read text and buttons only.
    await adapter.notice(user, "whatsapp.channel.only_text");
  }

  /**
   * Status webhooks onto the delivery rows they are about (by wamid): delivered and read are
   * noted; failed marks the row failed with Meta's code kept, except a closed window (131047)
   * for a kind with a template: that row goes again, as the template.
   */
  private async recordStatuses(statuses: WaWebhookStatus[]): Promise<void> {
    const late: WaWebhookStatus[] = [];
    for (const status of statuses) {
      if (status.status === "failed") {
        if (!(await this.recordFailure(status))) late.push(status);
      } else if (status.status === "delivered" || status.status === "read") {
        const ids = await this.recordProgress(status.status, [status]);
        if (!ids.has(status.id)) late.push(status);
      }
    }
    this.later(late, 0);
  }

  /**
   * Keeps statuses that found no row for another look (`tries` looks so far). Each waits its own
   * time: a status that just arrived is never held behind a long wait set for older ones.
   */
  private later(statuses: WaWebhookStatus[], tries: number): void {
    for (const status of statuses) {
      const waits = status.status === "failed" ? FAILURE_RETRY_MS : STATUS_RETRY_MS;
      const wait = waits[tries];
      if (wait === undefined) continue;
      this.unmatched.set(`${status.id}:${status.status}`, {
        status,
        tries,
        dueAt: Date.now() + wait,
      });
    }
    this.scheduleRetry();
  }

  /** One timer, set for the earliest due status (moved earlier when one comes due sooner). */
  private scheduleRetry(): void {
    if (this.retrying || this.unmatched.size === 0) return;
    let at = Number.POSITIVE_INFINITY;
    for (const u of this.unmatched.values()) at = Math.min(at, u.dueAt);
    if (this.retryTimer && this.retryTimer.at <= at) return;
    if (this.retryTimer) clearTimeout(this.retryTimer.handle);
    const handle = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.retrying = true;
        this.retryUnmatched()
          .catch((err: unknown) =>
            this.options.logger.error({ err }, "whatsapp: recording statuses again failed"),
          )
          .finally(() => {
            this.retrying = false;
            this.scheduleRetry();
          });
      },
      Math.max(0, at - Date.now()),
    );
    handle.unref();
    this.retryTimer = { handle, at };
  }

  /**
   * The statuses that are due, again: Meta may report on a message before the instance that
   * sent it recorded its wamid (the row still `sending`). Most are about replies in a
   * conversation, which have no delivery row: one query for all of them per look.
   */
  private async retryUnmatched(): Promise<void> {
    const now = Date.now();
    const entries = [...this.unmatched.entries()].filter(([, e]) => e.dueAt <= now);
    for (const [key] of entries) this.unmatched.delete(key);
    const due = entries.map(([, e]) => e);
    for (const kind of ["delivered", "read"] as const) {
      const some = due.filter((e) => e.status.status === kind);
      if (some.length === 0) continue;
      const found = await this.recordProgress(
        kind,
        some.map((e) => e.status),
      );
      for (const e of some) if (!found.has(e.status.id)) this.later([e.status], e.tries + 1);
    }
    for (const e of due) {
      if (e.status.status !== "failed") continue;
      if (!(await this.recordFailure(e.status))) this.later([e.status], e.tries + 1);
    }
  }

  /** Delivered / read onto the rows of these wamids; returns the wamids it found. */
  private async recordProgress(
    kind: "delivered" | "read",
    statuses: WaWebhookStatus[],
  ): Promise<Set<string>> {
    const ids = `{${statuses.map((s) => `"${s.id.replace(/["\\]/g, "")}"`).join(",")}}`;
    const at = timeOf(statuses[0] as WaWebhookStatus).toISOString();
    // Statuses may arrive out of order: read is never overwritten by delivered.
    const result = await this.options.db.execute(sql`
      update deliveries set channel_status = ${kind}, channel_status_at = ${at}::timestamptz
      where channel = 'whatsapp' and channel_message_id = any(${ids}::text[])
        and status = 'sent'
        and (channel_status is null or (channel_status = 'delivered' and ${kind} = 'read'))
      returning channel_message_id`);
    return new Set(rowsOf<{ channel_message_id: string }>(result).map((r) => r.channel_message_id));
  }

  /**
   * A `failed` status onto its delivery row: failed with Meta's code kept, or, for a closed
   * window (131047), pending again to go as the template (once) when the kind has one, else
   * skipped `outside_window`. Returns whether a row was found.
   */
  private async recordFailure(status: WaWebhookStatus): Promise<boolean> {
    const { db } = this.options;
    const at = timeOf(status).toISOString();
    const error = status.errors?.[0];
    const code = Number(error?.code ?? 0);
    const reason = `WhatsApp ${code}: ${error?.title ?? error?.message ?? "failed"}`.slice(0, 500);
    if (code === 131047) {
      // One transaction: a row set pending under a message left `done` would never go.
      const requeued = await db.transaction(async (tx) => {
        const ids = rowsIds(
          await tx.execute(sql`
            update deliveries d set status = 'pending', channel_status = 'reengage',
              channel_status_at = ${at}::timestamptz, next_attempt_at = now(),
              last_error = ${reason}, updated_at = now()
            from outgoing_messages m
            where d.channel = 'whatsapp' and d.channel_message_id = ${status.id}
              and d.status = 'sent' and m.id = d.message_id
              and ${this.hasTemplateKind()}
              and not d.via_template and m.status in ('sending', 'done')
            returning d.message_id`),
        );
        if (ids.length > 0) {
          // A finished message runs again for the rows that go as templates.
          await tx.execute(sql`update outgoing_messages set status = 'sending', updated_at = now()
            where status = 'done' and id in (${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )})`);
        }
        return ids.length > 0;
      });
      if (requeued) {
        wakeDelivery();
        return true;
      }
    }
    // Never a row the re-queue above would take: if the send was recorded between the two
    // statements (the engine committed `sent` just now), the next look re-queues it instead of
    // failing it here.
    const requeueable =
      code === 131047
        ? sql`not d.via_template and ${this.hasTemplateKind()}
            and m.status in ('sending', 'done')`
        : sql`false`;
    // A closed window with no template to fall back to is what the sender records when Meta
    // refuses at once (skipped, `outside_window`): the report counts it the same either way.
    const outcome =
      code === 131047
        ? sql`status = 'skipped', skip_reason = 'outside_window'`
        : sql`status = 'failed'`;
    const failed = await db.execute(sql`
      update deliveries d set ${outcome}, last_error = ${reason},
        channel_status = 'failed', channel_status_at = ${at}::timestamptz, updated_at = now()
      from outgoing_messages m
      where d.channel = 'whatsapp' and d.channel_message_id = ${status.id} and d.status = 'sent'
        and m.id = d.message_id and not (${requeueable})
      returning d.message_id`);
    if (rowsOf(failed).length === 0) return false;
    // A message that already finished keeps its report true.
    await refreshTotals(
      db,
      sql`select message_id from deliveries
        where channel = 'whatsapp' and channel_message_id = ${status.id}`,
    );
    return true;
  }

  /**
   * SQL: the message `m` is of a kind with a template. Plain `false` when no kind has one: an
   * `in (null)` would be null, and `not (null)` in the failure's condition would then match no
   * row at all, leaving a refused message counted as sent.
   */
  private hasTemplateKind() {
    const kinds = MESSAGE_KINDS.filter((k) => this.options.hasTemplate(k));
    if (kinds.length === 0) return sql`false`;
    return sql`m.kind in (${sql.join(
      kinds.map((k) => sql`${k}`),
      sql`, `,
    )})`;
  }
}

function rowsIds(result: unknown): number[] {
  return rowsOf<{ message_id: number }>(result).map((r) => Number(r.message_id));
}

function timeOf(status: WaWebhookStatus): Date {
  const seconds = Number(status.timestamp);
  return seconds > 0 ? new Date(seconds * 1000) : new Date();
}

/** The text of a text message (or of a template's quick-reply button). */
function messageText(message: WaWebhookMessage): string | undefined {
  if (message.type === "text" && typeof message.text?.body === "string") return message.text.body;
  if (message.type === "button" && typeof message.button?.text === "string")
    return message.button.text;
  return undefined;
}
