/**
 * The delivery bench on WhatsApp: the fake Graph API (tests/fixtures/fake-graph-api, its own
 * process) enforcing 80 accepted messages in any one second (130429 above), the pair rate and the
 * 24-hour window (131047 for a non-template message outside it), with the templates of
 * config/whatsapp-templates.example.json approved. Two thirds of the people wrote within the
 * last hour (the fake is told so too), one third two days ago: they must get the template.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { OFFLINE_BOT_INFO } from "../../src/bot/create-bot";
import { WhatsAppAdapter } from "../../src/channels/whatsapp/adapter";
import { WhatsAppClient } from "../../src/channels/whatsapp/client";
import { WhatsAppMedia } from "../../src/channels/whatsapp/media";
import { whatsappSender } from "../../src/channels/whatsapp/sender";
import { parseTemplates } from "../../src/channels/whatsapp/templates";
import { type Database, rowsOf } from "../../src/db/client";
import { SYNTHETIC_CHAT_ID_BASE } from "../../src/db/schema/users";
import type { ChannelSettings } from "../../src/delivery";
import { type ChannelBench, ROOT, spawnFake } from "./channel";

export const WHATSAPP_BENCH_TEMPLATES = join(ROOT, "config/whatsapp-templates.example.json");
const ACCESS_TOKEN = "bench-access-token";
const PHONE_NUMBER_ID = "100000000000001";
const RATE = 80;
/** The target: at least this share of RATE, sustained over the whole run. */
const MIN_RATE_RATIO = 0.95;
/** wa_ids 996 700 000 001…: the audience; 996 701 000 001…: people outside it. */
const AUDIENCE_WA_BASE = 996_700_000_000;
const OTHERS_WA_BASE = 996_701_000_000;

export interface WhatsAppDeliveryOptions {
  apiRoot: string;
  accessToken: string;
  phoneNumberId: string;
  templatesPath: string;
  rate: number;
}

/**
 * Where a send's time goes (BENCH_PROFILE=1): before the HTTP request (the sender's user SELECT,
 * the adapter's whatsapp_messages INSERT), the request itself, and after it (the wamid UPDATE).
 * The engine's rate guard takes a send to reach the platform within 50 ms of its start.
 */
class SendProfile {
  private readonly before: number[] = [];
  private readonly http: number[] = [];
  private readonly after: number[] = [];
  private readonly current = new AsyncLocalStorage<{ start: number; httpEnd?: number }>();

  /** Runs one send, timing its parts. */
  async send<T>(run: () => Promise<T>): Promise<T> {
    const mark: { start: number; httpEnd?: number } = { start: performance.now() };
    try {
      return await this.current.run(mark, run);
    } finally {
      if (mark.httpEnd !== undefined) this.after.push(performance.now() - mark.httpEnd);
    }
  }

  /** Wraps fetch: the time from the send's start to its request, and the request's. */
  fetch(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      const mark = this.current.getStore();
      const t = performance.now();
      if (mark) this.before.push(t - mark.start);
      try {
        return await inner(input, init);
      } finally {
        this.http.push(performance.now() - t);
        if (mark) mark.httpEnd = performance.now();
      }
    };
  }

  line(): string {
    const q = (xs: number[], p: number) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
    };
    const part = (name: string, xs: number[]) =>
      `${name} p50 ${q(xs, 0.5)} p95 ${q(xs, 0.95)} max ${q(xs, 1)} ms`;
    const late = this.before.filter((ms) => ms > 50).length;
    return `profile ${process.pid}: ${this.http.length} requests; ${part("before HTTP", this.before)} (${late} over 50 ms); ${part("HTTP", this.http)}; ${part("after", this.after)}`;
  }
}

/**
 * The engine's WhatsApp channel as src/channels/whatsapp/index.ts builds it: client → adapter →
 * sender with the template file, paced at `rate`. No bot behind the adapter: deliveries never
 * dispatch updates.
 */
export function whatsappDelivery(db: Database, options: WhatsAppDeliveryOptions): ChannelSettings {
  const templates = parseTemplates(
    JSON.parse(readFileSync(options.templatesPath, "utf8")),
    options.templatesPath,
  );
  const profile = process.env.BENCH_PROFILE === "1" ? new SendProfile() : undefined;
  if (profile) {
    setInterval(() => process.stderr.write(`${profile.line()}\n`), 10_000).unref();
  }
  const client = new WhatsAppClient({
    apiRoot: options.apiRoot,
    phoneNumberId: options.phoneNumberId,
    accessToken: options.accessToken,
    ...(profile
      ? {
          fetch: profile.fetch((input, init) => fetch(input, init)),
        }
      : {}),
  });
  const adapter = new WhatsAppAdapter({
    db,
    client,
    media: new WhatsAppMedia(client, undefined),
    botInfo: OFFLINE_BOT_INFO,
    defaultLocale: "ky",
    dispatch: async () => {},
  });
  const logger = {
    warn: (o: object, m?: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
    error: (o: object, m?: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`),
  };
  const sender = whatsappSender({ db, adapter, templates, logger });
  return {
    channel: "whatsapp",
    sender: profile
      ? {
          send: (recipient, message) => profile.send(() => sender.send(recipient, message)),
        }
      : sender,
    limitPerSecond: options.rate,
  };
}

/** The example file's templates as the fake approves them: name → language codes. */
function approvedTemplates(path: string): Record<string, string[]> {
  const file = JSON.parse(readFileSync(path, "utf8")) as Record<
    string,
    { name?: string; language?: Record<string, string> }
  >;
  const approved: Record<string, string[]> = {};
  for (const [kind, spec] of Object.entries(file)) {
    if (kind.startsWith("_") || !spec.name || !spec.language) continue;
    approved[spec.name] = Object.values(spec.language);
  }
  return approved;
}

interface RecipientTally {
  accepted: number;
  templates: number;
  failed: number;
}

export function whatsappBench(options: {
  latency: string;
  /** The fake's throughput limit (default the rate, 80): higher shows the engine's own pace. */
  fakeThroughput?: number;
}): ChannelBench {
  const fakeThroughput = options.fakeThroughput ?? RATE;
  const deliveryOptions = (apiRoot: string): WhatsAppDeliveryOptions => ({
    apiRoot,
    accessToken: ACCESS_TOKEN,
    phoneNumberId: PHONE_NUMBER_ID,
    templatesPath: WHATSAPP_BENCH_TEMPLATES,
    rate: RATE,
  });
  let outsideWindow = 0;

  return {
    channel: "whatsapp",
    limit: RATE,
    fakeName: "fake Graph API",
    refusalName: "130429s",

    async seed(db, t) {
      // As createSyntheticUser does, in bulk: the chat id is the row id + 2^52. Every third
      // person last wrote two days ago; the rest within the last hour. Languages cycle on a
      // different step so that each of them has people outside the window.
      await db.execute(sql`with ids as (
          select g, nextval(pg_get_serial_sequence('users', 'id')) as id
          from generate_series(1, ${t.recipients}) g)
        insert into users (id, channel, channel_user_id, chat_id, locale, municipality_id, last_message_at)
        select id, 'whatsapp', (${AUDIENCE_WA_BASE}::bigint + g)::text,
          id + ${SYNTHETIC_CHAT_ID_BASE}::bigint, (array['ky','ru','en'])[1 + (g / 3) % 3],
          ${t.audienceMunicipalityId}::int,
          case when g % 3 = 0 then now() - interval '2 days'
            else now() - (g % 60) * interval '1 minute' end
        from ids`);
      await db.execute(sql`with ids as (
          select g, nextval(pg_get_serial_sequence('users', 'id')) as id
          from generate_series(1, ${t.others}) g)
        insert into users (id, channel, channel_user_id, chat_id, locale, municipality_id, topics,
          last_message_at)
        select id, 'whatsapp', (${OTHERS_WA_BASE}::bigint + g)::text,
          id + ${SYNTHETIC_CHAT_ID_BASE}::bigint, 'ru',
          case when g % 2 = 0 then ${t.otherMunicipalityId}::int else ${t.audienceMunicipalityId}::int end,
          case when g % 2 = 0 then array['announcements'] else array['polls'] end, now()
        from ids`);
    },

    startFake: () =>
      spawnFake({
        script: "tests/fixtures/fake-graph-api/main.ts",
        env: {
          FAKE_GRAPH_TOKEN: ACCESS_TOKEN,
          FAKE_GRAPH_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
          FAKE_GRAPH_THROUGHPUT: String(fakeThroughput),
          FAKE_GRAPH_TEMPLATES: JSON.stringify(approvedTemplates(WHATSAPP_BENCH_TEMPLATES)),
          FAKE_GRAPH_LATENCY_MS: options.latency,
        },
        controlRoot: (line) => {
          if (!line.root) throw new Error("the fake Graph API printed no root");
          return line.root;
        },
      }),

    async prepare(db, fake) {
      // The fake keeps its own record of who wrote when: those inside the window, now.
      const rows = rowsOf<{ wa_id: string; inside: boolean }>(
        await db.execute(sql`select channel_user_id as wa_id,
            last_message_at > now() - interval '24 hours' as inside
          from users where channel = 'whatsapp'`),
      );
      const open = rows.filter((r) => r.inside === true).map((r) => r.wa_id);
      outsideWindow = rows.length - open.length;
      await fake.post("/__windows", { open });
    },

    workerEnv: (fake) => ({
      BENCH_CHANNEL: "whatsapp",
      WHATSAPP_API_ROOT: fake.apiRoot,
      WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      WHATSAPP_TEMPLATES: WHATSAPP_BENCH_TEMPLATES,
      WHATSAPP_RATE: String(RATE),
    }),

    settings: async (db, fake) => whatsappDelivery(db, deliveryOptions(fake.apiRoot)),

    progress: (p) =>
      `sent ${p.sent} (templates ${p.templates}), outside window ${p.outsideWindow}, failed ${p.failed}`,

    mode: () =>
      `fake Graph API latency ${options.latency} ms, ${fakeThroughput}/s throughput, ${outsideWindow} people outside the 24-hour window (templates of ${WHATSAPP_BENCH_TEMPLATES.slice(ROOT.length)})`,

    missedTargets({ rateRatio, lost, outcome }) {
      const missed: string[] = [];
      if (rateRatio < MIN_RATE_RATIO) {
        missed.push(`rate_ratio ${rateRatio.toFixed(3)} < ${MIN_RATE_RATIO} of ${RATE}/s`);
      }
      if (lost > 0) missed.push(`${lost} lost`);
      if (outcome.duplicates > 0) missed.push(`${outcome.duplicates} duplicates`);
      const missing = Number(outcome.json.templates_missing ?? 0);
      if (missing > 0) missed.push(`${missing} outside the window reached by no template`);
      return missed;
    },

    async collect(db, messageId, fake) {
      const stats = await fake.get<{
        refused: Record<string, number>;
        maxInOneSecond: number;
      }>("/__stats");
      const tallies = await fake.get<Record<string, RecipientTally>>("/__recipients");
      const rows = rowsOf<{
        wa_id: string;
        inside: boolean;
        status: string;
        skip_reason: string | null;
        via_template: boolean;
      }>(
        await db.execute(sql`select u.channel_user_id as wa_id, d.status, d.skip_reason,
            d.via_template, u.last_message_at > now() - interval '24 hours' as inside
          from deliveries d join users u on u.id = d.user_id where d.message_id = ${messageId}`),
      );
      let sent = 0;
      let skippedBlocked = 0;
      let failed = 0;
      let lost = 0;
      let duplicates = 0;
      let templates = 0;
      let outsideWindowSkipped = 0;
      let templatesMissing = 0;
      for (const r of rows) {
        const tally = tallies[r.wa_id];
        const accepted = tally ? tally.accepted - tally.failed : 0;
        if (r.status === "sent") sent++;
        // The engine records a template send as via_template (src/delivery/claims.ts).
        if (r.status === "sent" && r.via_template === true) templates++;
        if (r.status === "skipped" && r.skip_reason === "blocked") skippedBlocked++;
        if (r.status === "skipped" && r.skip_reason === "outside_window") outsideWindowSkipped++;
        if (r.status === "failed") failed++;
        // Lost: no message reached the person, whatever the row says.
        if (accepted < 1) lost++;
        if (accepted > 1) duplicates++;
        if (r.inside !== true && (tally?.templates ?? 0) < 1) templatesMissing++;
      }
      const refused130429 = stats.refused["130429"] ?? 0;
      return {
        sent,
        skippedBlocked,
        failed,
        lost,
        duplicates,
        maxInOneSecond: stats.maxInOneSecond,
        rateRefusals: refused130429,
        json: {
          channel: "whatsapp",
          templates,
          templates_missing: templatesMissing,
          outside_window_skipped: outsideWindowSkipped,
          refused_130429: refused130429,
          max_in_one_second: stats.maxInOneSecond,
        },
      };
    },
  };
}
