import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait";

/**
 * How long a real app process may take to answer /healthz. Alone it starts in a few seconds; on a
 * busy 2-core machine (two suites at once, CPU burners, browsers) tsx's compile, PGlite's start,
 * the migrations and the country's directory took over 90 s. A test or hook that starts an app
 * gives itself this much and more; a passing start never waits it out.
 */
export const APP_START_MS = 180_000;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Every child this file started and that has not exited: stopped by stopAppProcesses. */
const alive = new Set<ChildProcess>();

// The last line of defence: a worker that dies (or a run that is interrupted) takes its app
// processes with it instead of leaving them holding a data folder or a port.
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

/** A finished process: its exit code and what it wrote. */
export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface AppProcess {
  child: ChildProcess;
  /** http://HOST:PORT/ as the app logged it (with the trailing slash). */
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** The last lines of stdout and stderr, for error messages. */
  log: () => string;
  exited: Promise<number | null>;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; resolves with the exit code. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<number | null>;
}

/**
 * Starts `node --import tsx <script>` from the repository root and tracks it until it exits, so
 * stopAppProcesses can end it whatever the test did.
 */
export function spawnTracked(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  alive.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      alive.delete(child);
      resolve(code);
    }),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Runs a command-line script to its end (killed after `timeoutMs`). */
export async function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = APP_START_MS,
): Promise<Finished> {
  const run = spawnTracked(script, args, env);
  const timer = setTimeout(() => run.child.kill("SIGKILL"), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  if (code === null) {
    throw new Error(`${script} ${args.join(" ")} did not finish in ${timeoutMs} ms:
${run.stdout()}${run.stderr()}`);
  }
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * Starts `src/main.ts` with `env` on top of this process's environment and waits until it logs
 * its URL and answers /healthz, or until it exits first (then resolves with how it ended).
 * `PORT` defaults to 0 (the app picks a free port and logs it; never a port chosen here that
 * another process could take in between) and `LOG_LEVEL` must let the info line through.
 */
export async function startAppProcess(
  env: Record<string, string | undefined>,
  budgetMs = APP_START_MS,
): Promise<AppProcess | Finished> {
  const run = spawnTracked("src/main.ts", [], {
    ...process.env,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    BOT_TOKEN: "",
    ...env,
  });
  let code: number | null | undefined;
  void run.exited.then((c) => {
    code = c;
  });
  const log = () => `${run.stdout()}${run.stderr()}`.split("\n").slice(-60).join("\n");
  const stop = async (signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000) => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return run.exited;
    run.child.kill(signal);
    const timer = setTimeout(() => run.child.kill("SIGKILL"), graceMs);
    const exitCode = await run.exited;
    clearTimeout(timer);
    return exitCode;
  };
  let url: string | undefined;
  let health = "not asked yet";
  try {
    await waitFor(
      async () => {
        if (code !== undefined) return true;
        url ??= urlFrom(run.stdout());
        if (!url) return false;
        try {
          const response = await fetch(`${url}healthz`);
          health = `HTTP ${response.status}`;
          return response.status === 200;
        } catch (error) {
          health = String(error);
          return false;
        }
      },
      budgetMs,
      "the app to answer /healthz",
    );
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(
      `${(error as Error).message} (${url ?? "no URL logged"}: ${health}):\n${log()}`,
    );
  }
  if (code !== undefined || !url) {
    return { code: code ?? null, stdout: run.stdout(), stderr: run.stderr() };
  }
  return {
    child: run.child,
    url,
    stdout: run.stdout,
    stderr: run.stderr,
    log,
    exited: run.exited,
    stop,
  };
}

/** Starts the app and fails (with its output) if it exits instead. */
export async function startRunningApp(
  env: Record<string, string | undefined>,
  budgetMs = APP_START_MS,
): Promise<AppProcess> {
  const started = await startAppProcess(env, budgetMs);
  if ("child" in started) return started;
  throw new Error(`the app exited with ${started.code}:\n${started.stdout}${started.stderr}`);
}

export function urlFrom(stdout: string): string | undefined {
  const line = stdout.split("\n").find((l) => l.includes("aimak is running"));
  return line ? (JSON.parse(line) as { url: string }).url : undefined;
}

/** Ends every app or script process still running (SIGTERM, then SIGKILL): for afterAll. */
export async function stopAppProcesses(graceMs = 15_000): Promise<void> {
  await Promise.all(
    [...alive].map(async (child) => {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}
