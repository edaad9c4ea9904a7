/**
 * One process at a time on an embedded (PGlite) data folder.
 *
 * PGlite has no lock of its own: a second process opening the same folder corrupts it or dies
 * with `RuntimeError: Aborted()`. So whoever opens DATA_DIR (the app, or a command-line run)
 * first takes `aimak.lock` there. The app also writes where it listens and a fresh random
 * token, so the command line can ask the running app to do the work instead (src/cli/remote.ts).
 *
 * The file is created atomically (written aside, then hard-linked into place, which fails if it
 * exists), so a reader never sees half of it. A lock whose process is gone — killed, crashed,
 * or a pid reused by another program after a restart — is stale and is taken over.
 */
import { randomBytes } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";

export const LOCK_FILE = "aimak.lock";

export type LockHolder = "app" | "cli";

export interface LockInfo {
  pid: number;
  holder: LockHolder;
  /** Epoch milliseconds when the lock was taken. */
  startedAt: number;
  /** Tells two locks of the same pid apart. */
  id: string;
  /** The app's admin token (a new one every start); only the app has one. */
  token?: string;
  /** Where the app's HTTP server listens; set once it does. */
  http?: { host: string; port: number };
}

export interface DataDirLock {
  readonly dir: string;
  readonly info: LockInfo;
  /** Adds the HTTP address once the server listens. */
  update(patch: Pick<LockInfo, "http">): void;
  /** Removes the lock file (only if it is still ours). Safe to call twice. */
  release(): void;
}

export type LockResult = { ok: true; lock: DataDirLock } | { ok: false; heldBy: LockInfo };

export interface AcquireOptions {
  holder: LockHolder;
  /**
   * How long to wait while a command-line run holds the folder (those are short). A running app
   * is never waited for: it holds the folder until it stops.
   */
  waitForCliMs?: number;
  /** Called once when waiting starts (to tell the person why nothing happens). */
  onWait?: (heldBy: LockInfo) => void;
}

/** Folders this process holds, by lock id: a lock with our pid but another id is a leftover. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/** Whether DATA_DIR names a folder on disk (not the in-memory database). */
export function isOnDiskDataDir(dataDir: string | undefined): dataDir is string {
  return Boolean(dataDir) && dataDir !== "memory://";
}

export function lockPath(dir: string): string {
  return join(resolve(dir), LOCK_FILE);
}

/** Takes the folder's lock, taking over a stale one; reports the live holder otherwise. */
export async function acquireDataDirLock(
  dir: string,
  options: AcquireOptions,
): Promise<LockResult> {
  const path = lockPath(dir);
  // A first run creates the folder (PGlite would, a moment later).
  mkdirSync(resolve(dir), { recursive: true });
  const info: LockInfo = {
    pid: process.pid,
    holder: options.holder,
    startedAt: Date.now(),
    id: randomBytes(8).toString("hex"),
    ...(options.holder === "app" ? { token: randomBytes(32).toString("base64url") } : {}),
  };
  const deadline = Date.now() + (options.waitForCliMs ?? 0);
  let told = false;
  for (;;) {
    if (tryCreate(path, info)) return { ok: true, lock: holdLock(resolve(dir), path, info) };
    const current = readLockFile(path);
    if (current === "missing") continue;
    if (current === "unreadable" || !isLive(current)) {
      if (!takeOver(path, current)) await sleep(50);
      continue;
    }
    if (current.holder === "app" || Date.now() >= deadline) return { ok: false, heldBy: current };
    if (!told) {
      told = true;
      options.onWait?.(current);
    }
    await sleep(200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The live holder of a folder's lock, if any (stale and unreadable locks count as none). */
export function readLiveLock(dir: string): LockInfo | undefined {
  const current = readLockFile(lockPath(dir));
  return typeof current === "object" && isLive(current) ? current : undefined;
}

function tryCreate(path: string, info: LockInfo): boolean {
  const temp = `${path}.${info.pid}.${info.id}`;
  // 0600: the token in it lets whoever reads it run admin commands in the app.
  writeFileSync(temp, JSON.stringify(info), { mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
    // A file system without hard links: exclusive create (a reader may catch it half-written,
    // which counts as busy for a moment, see takeOver).
    try {
      writeFileSync(path, JSON.stringify(info), { mode: 0o600, flag: "wx" });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw inner;
    }
  } finally {
    unlinkSync(temp);
  }
}

function readLockFile(path: string): LockInfo | "missing" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockInfo>;
    if (
      typeof value.pid === "number" &&
      (value.holder === "app" || value.holder === "cli") &&
      typeof value.startedAt === "number" &&
      typeof value.id === "string"
    ) {
      return value as LockInfo;
    }
  } catch {
    // Not JSON: a damaged file, handled like a stale lock below.
  }
  return "unreadable";
}

/** Whether the process that wrote the lock is still the one running under its pid. */
export function isLive(info: LockInfo): boolean {
  if (info.pid === process.pid) return held.has(info.id);
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's process.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // A pid reused after a restart (pid 1 in a container, say) belongs to a process that started
  // after the lock was written; the original holder started before it.
  const started = processStartedAt(info.pid);
  return started === undefined || started <= info.startedAt + 2000;
}

/** Epoch milliseconds when a process started (Linux /proc); undefined where unknown. */
function processStartedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime, clock ticks since boot) counts from after the ")" ending the name.
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const boot = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    if (!Number.isFinite(ticks) || !boot) return undefined;
    // USER_HZ is 100 on every Linux Node runs on.
    return Number(boot) * 1000 + ticks * 10;
  } catch {
    return undefined;
  }
}

/**
 * Moves a stale lock aside. Renaming is atomic, so of two processes doing this at once only one
 * moves the file; if what was moved turns out to be a fresh lock another process had just
 * taken, it is put back. Returns false when it left the file alone for now.
 */
function takeOver(path: string, stale: LockInfo | "unreadable"): boolean {
  if (stale === "unreadable") {
    // A damaged file; give a writer that might be in the middle of replacing it a moment.
    try {
      if (Date.now() - statSync(path).mtimeMs < 1000) return false;
    } catch {
      return true;
    }
  }
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
  const moved = readLockFile(aside);
  const same = stale === "unreadable" ? moved === "unreadable" : sameLock(moved, stale);
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone else has taken the folder meanwhile; the loop reads who.
    }
  }
  unlinkSync(aside);
  return true;
}

function sameLock(a: LockInfo | "missing" | "unreadable", b: LockInfo): boolean {
  return typeof a === "object" && a.id === b.id && a.pid === b.pid;
}

function holdLock(dir: string, path: string, initial: LockInfo): DataDirLock {
  let info = initial;
  let released = false;
  held.set(info.id, path);
  installExitHook();
  return {
    dir,
    get info() {
      return info;
    },
    update(patch) {
      if (released) return;
      info = { ...info, ...patch };
      // Written aside and renamed over: readers see the old or the new file, never half.
      const temp = `${path}.${info.pid}.${info.id}.new`;
      writeFileSync(temp, JSON.stringify(info), { mode: 0o600 });
      renameSync(temp, path);
    },
    release() {
      if (released) return;
      released = true;
      held.delete(info.id);
      removeIfOurs(path, info.id);
    },
  };
}

function removeIfOurs(path: string, id: string): void {
  const current = readLockFile(path);
  if (typeof current === "object" && current.id === id && current.pid === process.pid) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
}

/** A process that exits without stopping cleanly (process.exit, a crash) leaves no lock behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [id, path] of held) removeIfOurs(path, id);
  });
}

/** The app cannot have its data folder; the message is the one sentence to show. */
export class DataDirBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataDirBusyError";
  }
}

/** How long a starting app waits for a command-line run on its folder to finish. */
const APP_WAITS_FOR_CLI_MS = 60_000;

/**
 * The app's lock on its embedded data folder, or undefined when it has none to take (a
 * PostgreSQL server, or the in-memory database). Throws DataDirBusyError when it is held.
 */
export async function lockDataDirForApp(
  config: { databaseUrl: string | undefined; dataDir: string },
  onWait: (heldBy: LockInfo) => void,
): Promise<DataDirLock | undefined> {
  if (config.databaseUrl || !isOnDiskDataDir(config.dataDir)) return undefined;
  const dir = resolve(config.dataDir);
  const result = await acquireDataDirLock(dir, {
    holder: "app",
    waitForCliMs: APP_WAITS_FOR_CLI_MS,
    onWait,
  });
  if (result.ok) return result.lock;
  const { holder, pid } = result.heldBy;
  throw new DataDirBusyError(
    holder === "app"
      ? `Another Aimak app (pid ${pid}) is already running on the data folder ${dir}; stop it first, or give this one its own DATA_DIR.`
      : `A command-line run (pid ${pid}) has been using the data folder ${dir} for over a minute; start the app again when it has finished.`,
  );
}
