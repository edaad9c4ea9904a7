/**
 * What the shared tables keep about a person (their profile, the messages the bot sent them,
 * transcripts, flow state, WhatsApp's inbox, the audit log), and how /forgetme clears them.
 * Each feature's own tables have their holder in its folder (personal-data.ts).
 */
import { count, eq, sql } from "drizzle-orm";
import type { BotDeps } from "../../bot/context";
import type { PersonalDataSection } from "../../bot/feature";
import { type Executor, rowsOf } from "../../db/client";
import { type UserRow, users } from "../../db/schema";
import { deliveries } from "../../db/schema/delivery";
import { webchatMessages } from "../../db/schema/webchat";
import { inboxSentBy, whatsappMessages } from "../../db/schema/whatsapp";
import { forgetRecipient } from "../../delivery";
import { escapeHtml, formatDate, type TFunction } from "../../i18n";
import type { Locale } from "../../locales";
import { displayName, getMunicipality } from "../municipalities/service";
import { maskPhone } from "../polls/phone";

/** How the person is known on their channel, as it may be shown to them. */
function identity(person: UserRow): string {
  if (person.channel === "telegram") return String(person.chatId);
  if (person.channel === "whatsapp" && /^\d{6,}$/.test(person.channelUserId)) {
    return maskPhone(`+${person.channelUserId}`);
  }
  // The web chat's id is a hash of the browser's cookie: a secret, never shown.
  return "—";
}

/** How many lines of the person's web chat and WhatsApp transcripts are kept. */
async function transcriptLines(db: Executor, userId: number) {
  const [webchat] = await db
    .select({ n: count() })
    .from(webchatMessages)
    .where(eq(webchatMessages.userId, userId));
  const [whatsapp] = await db
    .select({ n: count() })
    .from(whatsappMessages)
    .where(eq(whatsappMessages.userId, userId));
  return {
    webchat_messages: Number(webchat?.n ?? 0),
    whatsapp_messages: Number(whatsapp?.n ?? 0),
  };
}

export async function collectProfile(
  deps: BotDeps,
  person: UserRow,
  t: TFunction,
  locale: Locale,
): Promise<PersonalDataSection[]> {
  const { db, config } = deps;
  const m =
    person.municipalityId === null ? undefined : await getMunicipality(db, person.municipalityId);
  const municipality = m ? displayName(m, locale) : null;
  const phone = person.phone && person.phoneVerifiedAt ? maskPhone(person.phone) : null;
  const topics = person.topics.map((topic) => t(`onboarding.topic_${topic}`));
  const [delivered] = await db
    .select({ n: count() })
    .from(deliveries)
    .where(eq(deliveries.userId, person.id));
  const transcripts = await transcriptLines(db, person.id);
  const audit = rowsOf<{ n: number }>(
    await db.execute(
      sql`select count(*)::int as n from audit_log where actor_user_id = ${person.id}`,
    ),
  );
  const tz = config.timezone;
  const lines = [
    t("privacy.profile.name", { name: escapeHtml(person.firstName ?? "—") }),
    t("privacy.profile.channel", {
      channel: t(`privacy.channel_${person.channel}`),
      id: escapeHtml(identity(person)),
    }),
    t("privacy.profile.language", { language: person.locale ? t("language.name") : "—" }),
    t("privacy.profile.municipality", {
      municipality: escapeHtml(municipality ?? t("settings.not_set")),
    }),
    t("privacy.profile.topics", {
      topics: topics.length > 0 ? topics.join(", ") : t("settings.none"),
    }),
    t("privacy.profile.phone", {
      phone: phone ?? t("privacy.profile.no_phone"),
    }),
    t("privacy.profile.since", { date: formatDate(person.createdAt, locale, tz) }),
  ];
  const messages = {
    deliveries: Number(delivered?.n ?? 0),
    webchat: transcripts.webchat_messages,
    whatsapp: transcripts.whatsapp_messages,
    auditEntries: Number(audit[0]?.n ?? 0),
  };
  const kept = [t("privacy.messages.deliveries", { count: messages.deliveries })];
  if (messages.webchat > 0) kept.push(t("privacy.messages.webchat", { count: messages.webchat }));
  if (messages.whatsapp > 0)
    kept.push(t("privacy.messages.whatsapp", { count: messages.whatsapp }));
  if (messages.auditEntries > 0) {
    kept.push(t("privacy.messages.audit", { count: messages.auditEntries }));
  }
  return [
    {
      key: "profile",
      lines,
      data: {
        name: person.firstName,
        channel: person.channel,
        idOnChannel: identity(person),
        language: person.locale,
        municipality,
        subscriptions: person.topics,
        verifiedPhone: phone,
        phoneVerifiedAt: person.phoneVerifiedAt?.toISOString() ?? null,
        consentAt: person.consentAt?.toISOString() ?? null,
        lastMessageAt: person.lastMessageAt?.toISOString() ?? null,
        since: person.createdAt.toISOString(),
        inactive: person.inactive,
      },
    },
    { key: "messages", lines: kept, data: messages },
  ];
}

/**
 * Clears the shared tables of the person, ending with their users row (web chat and WhatsApp
 * transcripts go with it). Runs last in /forgetme's transaction, after every feature's holder.
 */
export async function forgetCore(tx: Executor, person: UserRow): Promise<Record<string, number>> {
  const delivery = await forgetRecipient(tx, person.id, person.chatId);
  const flows = rowsOf(
    await tx.execute(sql`delete from conversation_state where key = ${String(person.chatId)}
      returning key`),
  );
  // WhatsApp's inbox keeps each message with its sender's number and name for a week.
  const ids = [person.channelUserId, person.channelAltId].filter((v): v is string => !!v);
  const inbox =
    person.channel === "whatsapp"
      ? rowsOf(
          await tx.execute(sql`delete from whatsapp_inbox where ${inboxSentBy(ids)}
            returning wamid`),
        )
      : [];
  // The audit log keeps what was done, not by or to whom.
  const audit = rowsOf(
    await tx.execute(sql`
      update audit_log set actor_user_id = null,
        details = case
          when details->>'userId' = ${String(person.id)} then jsonb_set(details, '{userId}', 'null')
          when details->>'to' = ${`user:${person.id}`} then jsonb_set(details, '{to}', '"user"')
          else details end
      where actor_user_id = ${person.id} or details->>'userId' = ${String(person.id)}
        or details->>'to' = ${`user:${person.id}`}
      returning id`),
  );
  // Their transcripts go with the users row (ON DELETE CASCADE): counted first.
  const transcripts = await transcriptLines(tx, person.id);
  const gone = await tx.delete(users).where(eq(users.id, person.id)).returning({ id: users.id });
  return {
    ...delivery,
    conversation_state: flows.length,
    whatsapp_inbox: inbox.length,
    audit_log: audit.length,
    ...transcripts,
    users: gone.length,
  };
}
