/**
 * What the delivery bench (bench/delivery.ts) needs to know about a channel: how to seed its
 * people, which fake platform to run, how the engine sends on it, and how to tell from the
 * fake's own records who got what. The bench itself (database, message, clock, crash, workers,
 * the report's common lines and keys) is the same for every channel.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setPriority } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Database } from "../../src/db/client";
import type { Channel } from "../../src/db/schema/users";
import type { ChannelSettings, MessageProgress } from "../../src/delivery";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Children are plain node processes (not the tsx wrapper) so a SIGKILL hits the app itself. */
export const NODE_ARGS = ["--import", "tsx"];

export interface SeedTarget {
  /** The municipality the announcement goes to: `recipients` subscribed people there. */
  audienceMunicipalityId: number;
  /** Another municipality: half of `others` live there, half are not subscribed. */
  otherMunicipalityId: number;
  recipients: number;
  others: number;
}

/** A fake platform in its own process. */
export interface RunningFake {
  process: ChildProcess;
  /** What the app is pointed at. */
  apiRoot: string;
  /** GET of a control endpoint (`/__stats`, …) as JSON. */
  get<T>(path: string): Promise<T>;
  post(path: string, body: unknown): Promise<void>;
}

/** The channel's count of the run, from the deliveries and the fake's records. */
export interface Outcome {
  sent: number;
  skippedBlocked: number;
  failed: number;
  lost: number;
  duplicates: number;
  /** Highest number of accepted messages the fake saw in any rolling second. */
  maxInOneSecond: number;
  /** Refusals for going over the platform's overall limit (Telegram 429, WhatsApp 130429). */
  rateRefusals: number;
  /** Keys the channel adds after the common ones of the last-line JSON. */
  json: Record<string, string | number>;
}

export interface ChannelBench {
  channel: Channel;
  /** The platform's overall limit, messages per second. */
  limit: number;
  /** "fake Bot API", as the log lines name it. */
  fakeName: string;
  /** How the log calls a throughput refusal ("429s"). */
  refusalName: string;
  seed(db: Database, target: SeedTarget): Promise<void>;
  startFake(): Promise<RunningFake>;
  /** After seeding and starting the fake: make the fake agree with the database. */
  prepare(db: Database, fake: RunningFake): Promise<void>;
  /** The environment of an app process (bench/delivery/worker.ts) for this channel. */
  workerEnv(fake: RunningFake): Record<string, string>;
  /** The engine's settings for this channel in this process (PGlite). */
  settings(db: Database, fake: RunningFake): Promise<ChannelSettings>;
  /** "sent 10, blocked 0, failed 0" of the progress line every 10 s. */
  progress(p: MessageProgress): string;
  /** "fake Bot API latency 20±5 ms, 3 % blocked" of the mode line. */
  mode(): string;
  collect(db: Database, messageId: number, fake: RunningFake): Promise<Outcome>;
  /**
   * The channel's targets for a run, as the lines naming each one missed (none: all met). The
   * bench prints them before its last line and exits 1. Absent: the bench only reports.
   */
  missedTargets?(run: { rateRatio: number; lost: number; outcome: Outcome }): string[];
}

/**
 * Starts a fake platform server (a `main.ts` that prints one JSON line with `apiRoot` when it
 * listens) with high priority, and gives its control endpoints at `controlRoot(line)`.
 */
export async function spawnFake(options: {
  script: string;
  args?: string[];
  env?: Record<string, string>;
  controlRoot: (line: { apiRoot: string; root?: string }) => string;
}): Promise<RunningFake> {
  const child = spawn(process.execPath, [...NODE_ARGS, options.script, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // The fake stands in for the platform, whose clock is not on our CPU: give it priority so
  // its arrival times are not skewed by the app's own load (needs privileges; best effort).
  try {
    if (child.pid) setPriority(child.pid, -10);
  } catch {}
  const line = await new Promise<{ apiRoot: string; root?: string }>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", (text) => resolve(JSON.parse(text) as { apiRoot: string; root?: string }));
    child.once("exit", () => reject(new Error(`${options.script} exited`)));
  });
  const control = options.controlRoot(line);
  return {
    process: child,
    apiRoot: line.apiRoot,
    async get<T>(path: string): Promise<T> {
      const res = await fetch(`${control}${path}`);
      return (await res.json()) as T;
    },
    async post(path, body) {
      const res = await fetch(`${control}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
    },
  };
}
