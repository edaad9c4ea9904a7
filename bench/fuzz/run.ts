/**
 * The fuzzer's engine, shared by `npm run fuzz` (bench/fuzz.ts) and the quick test that keeps it
 * in CI (tests/integration/fuzz.test.ts): starts the whole app in this process in webhook mode
 * with the Bot API faked, sends the generated webhook bodies and web chat requests over real
 * HTTP, and counts what went wrong. In-process, so an unhandled rejection or an uncaught
 * exception of the app is seen here (counted, not fatal) and the app's memory is this process's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type App, createApp, TELEGRAM_WEBHOOK_PATH } from "../../src/app";
import { parseConfig } from "../../src/config";
import type { DatabaseHandle } from "../../src/db/client";
import { TEST_BALLOT_SECRET, TEST_TOKEN } from "../../tests/helpers/bot";
import { createServerDatabase } from "../../tests/helpers/db";
import { Dice } from "./random";
import { quietTelegram, UpdateGenerator } from "./telegram";
import { type FuzzRequest, RequestGenerator, type WebSession } from "./webchat";

export const WEBHOOK_SECRET = "fuzz-webhook-secret-0123456789abcdef";

export interface FuzzOptions {
  updates: number;
  requests: number;
  seed: number;
  /** A database to run on (tests); otherwise DATABASE_URL's server, else PGlite in a temp dir. */
  database?: DatabaseHandle;
  /** Requests in flight at once, per kind (webhook, web chat). */
  concurrency?: number;
  /** Web chat sessions opened up front (their cookies are reused and swapped). */
  sessions?: number;
  /** Progress lines (stderr in the bench); none by default. */
  progress?: (line: string) => void;
}

export interface FuzzResult {
  seed: number;
  updates: number;
  requests: number;
  crashes: number;
  unhandled_rejections: number;
  http_5xx: number;
  rss_growth_mb: number;
  /** Requests that got no answer at all (reset, timeout), which a crash would also cause. */
  no_answer: number;
  /** Error and fatal lines in the app's log. */
  log_errors: number;
  /** Answers by status, for the curious. */
  statuses: Record<string, number>;
  /** The first few 5xx and log errors, to find the cause. */
  samples: string[];
}

interface Answer {
  status: number;
  body: string;
}

/** A request that got no answer, and why (a reset, a timeout). */
class NoAnswer {
  constructor(readonly why: string) {}
}

// Idle sockets are dropped before the server's keep-alive timeout (5 s) would close them.
const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 3_000 });

/**
 * One request over its own HTTP machinery: a refused huge body closes the connection, so big
 * bodies go without keep-alive; an event stream is cut as soon as its status is known.
 */
function send(
  base: string,
  r: Omit<FuzzRequest, "kind">,
  retried = false,
): Promise<Answer | NoAnswer> {
  return new Promise((resolve) => {
    const big = (r.body?.length ?? 0) > 32 * 1024;
    let answered: Answer | undefined;
    let req: ReturnType<typeof request>;
    try {
      req = request(
        `${base}${r.path}`,
        {
          method: r.method,
          agent: big ? false : agent,
          headers: {
            ...r.headers,
            ...(r.body !== undefined ? { "content-length": Buffer.byteLength(r.body) } : {}),
          },
          timeout: 60_000,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if ((res.headers["content-type"] ?? "").includes("text/event-stream")) {
            res.destroy();
            resolve({ status, body: "" });
            return;
          }
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            if (body.length < 2000) body += chunk;
          });
          res.on("end", () => {
            answered = { status, body };
            resolve(answered);
          });
          res.on("error", () => resolve(answered ?? { status, body }));
        },
      );
    } catch {
      // A request no HTTP client would send (node refuses the header): nothing to learn.
      resolve({ status: 0, body: "" });
      return;
    }
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed just as it was reused: the client's race, not an
      // answer of the app (node's documentation says to retry these).
      if (!answered && !retried && req.reusedSocket && err.code === "ECONNRESET") {
        resolve(send(base, r, true));
        return;
      }
      resolve(answered ?? new NoAnswer(err.code ?? err.message));
    });
    req.end(r.body);
  });
}

/** Counts the app's error lines (and keeps a few) instead of printing 20,000 log lines. */
function countingLog(samples: string[]) {
  const counts = { errors: 0 };
  const stream = {
    write(line: string) {
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level >= 50) {
        counts.errors++;
        if (samples.length < 12) samples.push(`log: ${line.slice(0, 600)}`);
      }
    },
  };
  return { logger: pino({ level: "info", base: { app: "aimak" } }, stream), counts };
}

async function openSession(base: string, dice: Dice): Promise<WebSession | undefined> {
  const answer = await new Promise<{ cookie: string; body: string } | undefined>((resolve) => {
    const req = request(
      `${base}/chat/session`,
      {
        method: "POST",
        agent,
        headers: { origin: base, "accept-language": dice.pick(["ky", "ru", "en"]) },
      },
      (res) => {
        const cookie = /aimak_chat=([^;]+)/.exec(String(res.headers["set-cookie"] ?? ""))?.[1];
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve(cookie ? { cookie, body } : undefined));
      },
    );
    req.on("error", () => resolve(undefined));
    req.end();
  });
  if (!answer) return undefined;
  const { csrf } = JSON.parse(answer.body) as { csrf: string };
  return { cookie: answer.cookie, csrf, buttons: [] };
}

/** The buttons in a session's history: what a page would let its person press. */
async function refreshButtons(base: string, session: WebSession): Promise<void> {
  const answer = await send(base, {
    method: "GET",
    path: "/chat/history",
    headers: { cookie: `aimak_chat=${session.cookie}` },
  });
  if (answer instanceof NoAnswer || answer.status !== 200) return;
  try {
    const { messages } = JSON.parse(answer.body) as {
      messages: { id: number; buttons?: { callbackData?: string }[][] }[];
    };
    session.buttons = messages.flatMap((m) =>
      (m.buttons ?? [])
        .flat()
        .flatMap((b) => (b.callbackData ? [{ messageId: m.id, data: b.callbackData }] : [])),
    );
  } catch {
    // A history too long to keep whole here: the buttons stay as they were.
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().rss;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const samples: string[] = [];
  const statuses: Record<string, number> = {};
  const problems = { crashes: 0, unhandled: 0 };
  const onRejection = (reason: unknown) => {
    problems.unhandled++;
    if (samples.length < 12)
      samples.push(
        `unhandled rejection: ${String((reason as Error)?.stack ?? reason).slice(0, 600)}`,
      );
  };
  const onException = (err: Error) => {
    problems.crashes++;
    if (samples.length < 12)
      samples.push(`uncaught exception: ${String(err?.stack ?? err).slice(0, 600)}`);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);

  const server = options.database ? undefined : process.env.DATABASE_URL;
  const remote = server ? await createServerDatabase(server, "aimak_fuzz") : undefined;
  const dataDir =
    options.database || remote ? undefined : mkdtempSync(join(tmpdir(), "aimak-fuzz-"));
  const { logger, counts } = countingLog(samples);
  let invite: string | undefined;
  let app: App | undefined;
  try {
    const telegram = quietTelegram();
    app = await createApp({
      config: parseConfig({
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "info",
        BOT_TOKEN: TEST_TOKEN,
        WEBHOOK_URL: "https://aimak.example/telegram/webhook",
        WEBHOOK_SECRET,
        BALLOT_SECRET: TEST_BALLOT_SECRET,
        ...(remote ? { DATABASE_URL: remote.url } : {}),
        ...(dataDir ? { DATA_DIR: dataDir } : {}),
      }),
      logger,
      fetch: telegram.fetch,
      ...(options.database ? { database: options.database } : {}),
      notices: (text) => {
        invite = /Code:\s+(\S+)/.exec(text)?.[1];
      },
    });
    const base = `http://127.0.0.1:${(await app.start()).port}`;
    const dice = new Dice(options.seed);
    const updates = new UpdateGenerator(dice, telegram);
    const sessions: WebSession[] = [];
    for (let i = 0; i < (options.sessions ?? 20); i++) {
      const session = await openSession(base, dice);
      if (session) sessions.push(session);
    }
    if (sessions.length === 0) throw new Error("no web chat session could be opened");
    const requests = new RequestGenerator(dice, sessions, base);

    let http5xx = 0;
    let noAnswer = 0;
    let answered = 0;
    const record = (what: string, answer: Answer | NoAnswer) => {
      if (answer instanceof NoAnswer) {
        noAnswer++;
        if (samples.length < 12) samples.push(`no answer (${answer.why}): ${what}`);
        return;
      }
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      answered++;
      if (answered % 2000 === 0) {
        options.progress?.(`${sentUpdates} updates, ${sentRequests} requests, ${http5xx} 5xx`);
      }
      if (answer.status >= 500) {
        http5xx++;
        if (samples.length < 12)
          samples.push(`${answer.status}: ${what} → ${answer.body.slice(0, 200)}`);
      }
    };
    const webhook = (body: string, secret: boolean) =>
      send(base, {
        method: "POST",
        path: TELEGRAM_WEBHOOK_PATH,
        headers: {
          "content-type": "application/json",
          ...(secret ? { "x-telegram-bot-api-secret-token": WEBHOOK_SECRET } : {}),
        },
        body,
      });

    // The first admin, so staff flows (broadcasts, hearings, polls) are walked too.
    if (invite) await webhook(updates.text(updates.admin, `/start ${invite}`), true);

    // Generated up front in order, so a seed always gives the same inputs.
    const updateCases = Array.from({ length: options.updates }, () => updates.next());
    const answeredCases: Promise<unknown>[] = [];
    let sentUpdates = 0;
    let sentRequests = 0;
    const lanes = options.concurrency ?? 8;

    async function phase(updateEnd: number, requestEnd: number) {
      const updateLane = async () => {
        while (sentUpdates < updateEnd) {
          const index = sentUpdates++;
          const c = updateCases[index];
          if (!c) break;
          if (c.again !== undefined) await answeredCases[c.again];
          const answer = webhook(c.body, c.secret);
          answeredCases[index] = answer.then(() => undefined);
          record(`webhook ${c.kind} ${c.body.slice(0, 160)}`, await answer);
        }
      };
      const requestLane = async () => {
        while (sentRequests < requestEnd) {
          sentRequests++;
          // Generated when sent: valid presses use the buttons the sessions see by then.
          const r = requests.next();
          record(
            `${r.kind} ${r.method} ${r.path} ${(r.body ?? "").slice(0, 120)}`,
            await send(base, r),
          );
          if (sentRequests % 50 === 0) await refreshButtons(base, dice.pick(sessions));
        }
      };
      await Promise.all([
        ...Array.from({ length: lanes }, updateLane),
        ...Array.from({ length: lanes }, requestLane),
      ]);
    }

    // A warm-up tenth first (caches, prepared statements, the FAQ index), then the rest.
    await phase(Math.ceil(options.updates / 10), Math.ceil(options.requests / 10));
    const warm = await settledRss();
    options.progress?.(`warm-up done: rss ${(warm / 2 ** 20).toFixed(1)} MB`);
    await phase(options.updates, options.requests);
    // What the app still does for the inputs (web chat updates run after the 202) finishes first.
    await app.webchat.adapter.drain();
    const end = await settledRss();
    const health = await send(base, { method: "GET", path: "/healthz", headers: {} });
    if (health instanceof NoAnswer || health.status !== 200) {
      problems.crashes++;
      const got = health instanceof NoAnswer ? health.why : health.status;
      samples.push(`after the run /healthz answered ${got}`);
    }
    return {
      seed: options.seed,
      updates: sentUpdates,
      requests: sentRequests,
      crashes: problems.crashes,
      unhandled_rejections: problems.unhandled,
      http_5xx: http5xx,
      rss_growth_mb: Number(((end - warm) / 2 ** 20).toFixed(1)),
      no_answer: noAnswer,
      log_errors: counts.errors,
      statuses,
      samples,
    };
  } finally {
    await app?.stop().catch(() => {});
    if (!app) await options.database?.close();
    await remote?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  }
}
