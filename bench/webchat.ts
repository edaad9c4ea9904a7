/**
 * npm run bench:webchat [-- --sessions 200 --seconds 120] — web chat sessions over real HTTP
 * against the app as a separate process (src/main.ts), on the PostgreSQL server in DATABASE_URL
 * (a fresh database, dropped afterwards) or else on PGlite in a temporary folder.
 *
 * Each session does what the page does: opens a session, opens its event stream (before the
 * first message, as the page does), onboards in Russian through the buttons, then once a second
 * either asks an FAQ question or presses a button of the bot's last answer ("related entry",
 * else a rating). Latency is from the request to the bot's reply arriving on the event stream.
 *
 * Every session comes from 127.0.0.1. The app runs with TRUST_PROXY=true and each session sends
 * its own X-Forwarded-For address, as behind the load balancer of a real deployment: this is a
 * test of per-session load on the whole path, not of one address's budget (200 people writing
 * every second from one address is a flood the per-address limit is there to stop).
 *
 * Last line: {"sessions":…,"messages":…,"errors":…,"p50_ms":…,"p99_ms":…}.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { createServerDatabase } from "../tests/helpers/db";
import { startRunningApp, stopAppProcesses } from "../tests/helpers/process";
import { machineLine, percentile } from "./lib/machine";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
  return value;
}

const SESSIONS = flag("sessions", 200);
const SECONDS = flag("seconds", 120);
/** A reply slower than this counts as an error (the person would think the bot is gone). */
const REPLY_TIMEOUT_MS = 10_000;

const QUESTIONS = [
  "сколько депутатов в айылном кенеше",
  "как стать депутатом местного кенеша",
  "кто утверждает местный бюджет",
  "что такое публичные слушания бюджета",
  "как обжаловать решение айыл окмоту",
  "сроки полномочий депутата",
  "как получить справку в айыл окмоту",
  "айыл окмотунун башчысын ким шайлайт",
];

interface View {
  id: number;
  fromBot: boolean;
  text: string;
  buttons?: { text: string; callbackData?: string }[][];
}

type StreamEvent = { type: string; data: unknown; at: number };

/** One visitor's browser: cookie, token, and an event stream that reconnects as EventSource does. */
class Visitor {
  cookie = "";
  csrf = "";
  readonly address: string;
  private readonly waiters = new Set<(e: StreamEvent) => void>();
  private stopped = false;
  private controller: AbortController | undefined;
  lastBot: View | undefined;
  lastId = 0;
  streamErrors = 0;
  /** Streams that ended and were opened again (the first, before the person exists, ends by design). */
  reopened = 0;
  private readonly seen = new Map<number, string>();

  constructor(
    readonly base: string,
    index: number,
  ) {
    this.address = `10.77.${Math.floor(index / 250)}.${(index % 250) + 1}`;
  }

  private headers(json = false): Record<string, string> {
    return {
      "x-forwarded-for": this.address,
      "accept-language": "ru",
      ...(this.cookie ? { cookie: this.cookie } : {}),
      ...(json ? { "content-type": "application/json", "x-aimak-csrf": this.csrf } : {}),
    };
  }

  private remember(res: Response): void {
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0] ?? this.cookie;
  }

  async session(): Promise<void> {
    const res = await fetch(`${this.base}/chat/session`, {
      method: "POST",
      headers: this.headers(),
    });
    if (res.status !== 200) throw new Error(`session: HTTP ${res.status}`);
    this.remember(res);
    this.csrf = ((await res.json()) as { csrf: string }).csrf;
  }

  /** Opens the event stream and keeps it open (reconnecting after `retry`) until stop(). */
  listen(): void {
    void (async () => {
      let retry = 1000;
      let opened = 0;
      while (!this.stopped) {
        this.controller = new AbortController();
        try {
          const res = await fetch(`${this.base}/chat/events`, {
            headers: this.headers(),
            signal: this.controller.signal,
          });
          if (res.status !== 200 || !res.body) throw new Error(`events: HTTP ${res.status}`);
          if (opened++ > 0) {
            // As the page does on every "open": whatever arrived while no stream was open.
            this.reopened++;
            void this.syncHistory();
          }
          const decoder = new TextDecoder();
          let buffer = "";
          const reader = res.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let end = buffer.indexOf("\n\n");
            while (end >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              let type = "message";
              let data = "";
              for (const line of block.split("\n")) {
                if (line.startsWith("event:")) type = line.slice(6).trim();
                else if (line.startsWith("data:")) data += line.slice(5).trim();
                else if (line.startsWith("retry:")) retry = Number(line.slice(6)) || retry;
              }
              this.dispatch({ type, data: data ? JSON.parse(data) : undefined, at: Date.now() });
              end = buffer.indexOf("\n\n");
            }
          }
        } catch (error) {
          if (this.stopped) return;
          this.streamErrors++;
          console.error(`stream ${this.address}: ${(error as Error).message}`);
        }
        if (!this.stopped) await new Promise((r) => setTimeout(r, retry));
      }
    })();
  }

  private async syncHistory(): Promise<void> {
    try {
      const res = await fetch(`${this.base}/chat/history`, { headers: this.headers() });
      const { messages } = (await res.json()) as { messages: (View & { updatedAt: string })[] };
      for (const view of messages) {
        if (this.seen.get(view.id) !== view.updatedAt) {
          this.dispatch({ type: "message", data: view, at: Date.now() });
        }
      }
    } catch {
      // The next reconnect syncs again.
    }
  }

  private dispatch(event: StreamEvent): void {
    if (process.env.BENCH_DEBUG)
      console.error(this.address, event.type, JSON.stringify(event.data).slice(0, 120));
    if (event.type === "message") {
      const view = event.data as View & { updatedAt: string };
      this.seen.set(view.id, view.updatedAt);
      if (view.fromBot) {
        if (view.buttons?.length) this.lastBot = view;
        this.lastId = Math.max(this.lastId, view.id);
      }
    }
    for (const waiter of [...this.waiters]) waiter(event);
  }

  /** Resolves with the arrival time of the first event that `test` accepts. */
  next(test: (e: StreamEvent) => boolean): Promise<StreamEvent> {
    const promise = new Promise<StreamEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error("no reply in time"));
      }, REPLY_TIMEOUT_MS);
      const waiter = (e: StreamEvent) => {
        if (!test(e)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(e);
      };
      this.waiters.add(waiter);
    });
    // Awaited by the caller when it gets that far; a request that failed first leaves it unawaited.
    promise.catch(() => {});
    return promise;
  }

  /** Sends a text; resolves with the latency of the bot's first message after it. */
  async say(text: string): Promise<number> {
    const started = Date.now();
    let mine = Number.POSITIVE_INFINITY;
    const reply = this.next((e) => {
      const v = e.data as View;
      return e.type === "message" && v.fromBot && v.id > mine;
    });
    const res = await fetch(`${this.base}/chat/send`, {
      method: "POST",
      headers: this.headers(true),
      body: JSON.stringify({ text }),
    });
    this.remember(res);
    if (res.status !== 202) {
      reply.catch(() => {});
      throw new Error(`send: HTTP ${res.status} ${await res.text()}`);
    }
    mine = ((await res.json()) as { message: View }).message.id;
    // A reply that raced the response (its id is above ours) was already seen by the waiter only
    // if `mine` was known; check what arrived meanwhile.
    if (this.lastId > mine) {
      reply.catch(() => {});
      return Date.now() - started;
    }
    return (
      (await reply.catch(() => Promise.reject(new Error("no reply in time to a message")))).at -
      started
    );
  }

  /** Presses a button; resolves with the latency of the bot's reaction (edit, message, notice). */
  async press(message: View, data: string): Promise<number> {
    const started = Date.now();
    const before = this.lastId;
    const reply = this.next((e) => {
      if (e.type === "notice") return true;
      const v = e.data as View;
      return e.type === "message" && v.fromBot && (v.id === message.id || v.id > before);
    });
    const res = await fetch(`${this.base}/chat/press`, {
      method: "POST",
      headers: this.headers(true),
      body: JSON.stringify({ messageId: message.id, data }),
    });
    this.remember(res);
    if (res.status !== 202) {
      reply.catch(() => {});
      throw new Error(`press ${data}: HTTP ${res.status} ${await res.text()}`);
    }
    const prefix = data.split(":").slice(0, 2).join(":");
    return (
      (await reply.catch(() => Promise.reject(new Error(`no reply in time to ${prefix}`)))).at -
      started
    );
  }

  /** Waits for a bot message with a button whose data starts with `prefix`; returns it and the data. */
  async buttonOf(prefix: string): Promise<[View, string]> {
    const find = (v: View | undefined) =>
      v?.buttons?.flat().find((b) => b.callbackData?.startsWith(prefix))?.callbackData;
    let data = find(this.lastBot);
    if (this.lastBot && data) return [this.lastBot, data];
    const e = await this.next((ev) => ev.type === "message" && Boolean(find(ev.data as View)));
    data = find(e.data as View) as string;
    return [e.data as View, data];
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}

async function onboard(v: Visitor): Promise<void> {
  await v.session();
  v.listen();
  await v.say("/start");
  const [lang, ru] = await v.buttonOf("lang:ru");
  await v.press(lang, ru);
  await v.say("сокулук");
  const [found, mun] = await v.buttonOf("mun:");
  await v.press(found, mun);
  const [topics, done] = await v.buttonOf("topics:done");
  await v.press(topics, done);
  const [consent, yes] = await v.buttonOf("consent:yes");
  await v.press(consent, yes);
}

async function main(): Promise<void> {
  console.log(machineLine());
  const serverUrl = process.env.DATABASE_URL;
  let dataDir: string | undefined;
  let server: { url: string; drop: () => Promise<void> } | undefined;
  const env: Record<string, string> = { TRUST_PROXY: "true", LOG_LEVEL: "warn" };
  if (process.env.BENCH_URL) {
    // An app started by hand brings its own database.
  } else if (serverUrl) {
    server = await createServerDatabase(serverUrl, "aimak_bench");
    env.DATABASE_URL = server.url;
  } else {
    dataDir = mkdtempSync(join(os.tmpdir(), "aimak-bench-webchat-"));
    env.DATA_DIR = dataDir;
    env.DATABASE_URL = "";
  }
  console.log(
    `database: ${serverUrl ? "PostgreSQL (fresh database)" : "PGlite"}; sessions ${SESSIONS}, ${SECONDS} s`,
  );
  // BENCH_URL: an app started by hand (with TRUST_PROXY=true), e.g. under `node --cpu-prof`.
  const external = process.env.BENCH_URL;
  const app = external ? undefined : await startRunningApp({ ...env, LOG_LEVEL: "info" });
  const base = (external ?? app?.url ?? "").replace(/\/$/, "");
  const visitors = Array.from({ length: SESSIONS }, (_, i) => new Visitor(base, i));
  const latencies: number[] = [];
  let messages = 0;
  let errors = 0;
  const errorKinds = new Map<string, number>();
  const fail = (error: unknown) => {
    errors++;
    const kind = String((error as Error).message).slice(0, 80);
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  };
  try {
    // Onboarding, 20 sessions at a time (not measured: the measured phase is the steady state).
    const onboardStarted = Date.now();
    let nextToOnboard = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (nextToOnboard < visitors.length) {
          const v = visitors[nextToOnboard++] as Visitor;
          await onboard(v).catch(fail);
        }
      }),
    );
    console.log(
      `onboarded ${SESSIONS} sessions in ${((Date.now() - onboardStarted) / 1000).toFixed(1)} s (${errors} errors)`,
    );
    const rssBefore = app?.child.pid ? await rssOf(app.child.pid) : 0;

    const started = Date.now();
    const until = started + SECONDS * 1000;
    /** Latencies by 10-second slice of the run: a slow stretch shows where it happened. */
    const slices: number[][] = [];
    const record = (latency: number, at: number) => {
      latencies.push(latency);
      const slice = Math.floor((at - started) / 10_000);
      const list = slices[slice] ?? [];
      list.push(latency);
      slices[slice] = list;
    };
    await Promise.all(
      visitors.map(async (v, i) => {
        // Spread the sessions over the first second, then one action a second each.
        let tick = Date.now() + Math.floor((i / visitors.length) * 1000);
        let n = i;
        while (tick < until) {
          const wait = tick - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          n++;
          const at = Date.now();
          try {
            const target = v.lastBot;
            const button =
              target?.buttons?.flat().find((b) => b.callbackData?.startsWith("faq:show:")) ??
              target?.buttons?.flat().find((b) => b.callbackData?.startsWith("faq:fb:"));
            if (n % 2 === 0 && target && button?.callbackData) {
              record(await v.press(target, button.callbackData), at);
              // A button is pressed once; the next press needs a new answer.
              v.lastBot = undefined;
            } else {
              record(await v.say(QUESTIONS[n % QUESTIONS.length] as string), at);
            }
            messages++;
          } catch (error) {
            fail(error);
          }
          // A person waits for the answer before writing again: a late reply delays the next
          // message, it does not make up for the missed seconds with a burst.
          tick = Math.max(tick + 1000, Date.now());
        }
      }),
    );
    const rssAfter = app?.child.pid ? await rssOf(app.child.pid) : 0;
    const streamErrors = visitors.reduce((sum, v) => sum + v.streamErrors, 0);
    const reopened = visitors.reduce((sum, v) => sum + v.reopened, 0);
    for (const v of visitors) v.stop();
    errors += streamErrors;
    latencies.sort((a, b) => a - b);
    const bySlice = slices.map((slice, i) => {
      slice.sort((a, b) => a - b);
      return `${i * 10}s ${percentile(slice, 50)}/${percentile(slice, 99)}`;
    });
    console.log(`p50/p99 ms by 10 s: ${bySlice.join(", ")}`);
    console.log(
      `replies: p90 ${percentile(latencies, 90)} ms, max ${latencies.at(-1) ?? 0} ms; stream errors ${streamErrors}, streams reopened ${reopened} (${SESSIONS} by design); app RSS ${rssBefore} → ${rssAfter} MB`,
    );
    for (const [kind, count] of errorKinds) console.log(`error ×${count}: ${kind}`);
    console.log(
      JSON.stringify({
        sessions: SESSIONS,
        messages,
        errors,
        p50_ms: percentile(latencies, 50),
        p99_ms: percentile(latencies, 99),
      }),
    );
  } finally {
    await app?.stop();
    await stopAppProcesses();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await server?.drop();
  }
}

async function rssOf(pid: number): Promise<number> {
  try {
    const { readFile } = await import("node:fs/promises");
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
