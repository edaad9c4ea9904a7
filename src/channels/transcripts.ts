/**
 * Copies of a person's words in other people's transcripts (a lawyer's web chat or WhatsApp
 * history showing a question): on /forgetme they are replaced, as the messages themselves are.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../db/client";
import { escapeHtml } from "../i18n";

/**
 * Shorter texts are not looked for: "yes" or "Салам" would match too much. Every place that
 * quotes a person (a question to the lawyers, its answer, a reminder) quotes at least this much.
 */
const MIN_QUOTE = 12;
/** How much of a text is looked for: every quote starts with it, whatever its cut. */
const QUOTE_PREFIX = 40;

/**
 * Replaces, in every stored web chat and WhatsApp message of the bot, the text of those that
 * quote one of `texts` (as written or HTML-escaped) with `placeholder`, and drops their
 * buttons. Returns the rows changed per table.
 */
export async function redactTranscripts(
  tx: Executor,
  texts: readonly string[],
  placeholder: string,
): Promise<{ webchat_messages: number; whatsapp_messages: number }> {
  const needles = [
    ...new Set(
      texts
        .map((t) => t.trim())
        .filter((t) => t.length >= MIN_QUOTE)
        .flatMap((t) => {
          const prefix = t.slice(0, QUOTE_PREFIX);
          return [prefix, escapeHtml(prefix)];
        }),
    ),
  ];
  if (needles.length === 0) return { webchat_messages: 0, whatsapp_messages: 0 };
  const list = sql.join(
    needles.map((n) => sql`${n}`),
    sql`, `,
  );
  const quoting = sql`exists (select 1 from unnest(array[${list}]::text[]) as n(needle)
    where strpos(payload->>'text', n.needle) > 0)`;
  const payload = JSON.stringify({ text: placeholder, format: "plain" });
  const webchat = rowsOf(
    await tx.execute(sql`
      update webchat_messages set payload = ${payload}::jsonb, updated_at = now()
      where from_bot and ${quoting}
      returning id`),
  );
  const whatsapp = rowsOf(
    await tx.execute(sql`
      update whatsapp_messages
        set payload = ${JSON.stringify({ text: placeholder, html: false })}::jsonb,
          updated_at = now()
      where ${quoting}
      returning id`),
  );
  return { webchat_messages: webchat.length, whatsapp_messages: whatsapp.length };
}
