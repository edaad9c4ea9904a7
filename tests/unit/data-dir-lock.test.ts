import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  acquireDataDirLock,
  DataDirBusyError,
  type DataDirLock,
  LOCK_FILE,
  type LockInfo,
  lockDataDirForApp,
  readLiveLock,
} from "../../src/db/data-dir-lock";

const dirs: string[] = [];
const locks: DataDirLock[] = [];
const children: ChildProcess[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aimak-lock-"));
  dirs.push(dir);
  return dir;
}

async function take(dir: string, holder: "app" | "cli" = "cli"): Promise<DataDirLock> {
  const result = await acquireDataDirLock(dir, { holder });
  if (!result.ok) throw new Error(`lock held by ${result.heldBy.pid}`);
  locks.push(result.lock);
  return result.lock;
}

function writeLock(dir: string, info: Partial<LockInfo>): void {
  const full: LockInfo = { pid: 1, holder: "app", startedAt: Date.now(), id: "old", ...info };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(full));
}

function readLock(dir: string): LockInfo {
  return JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")) as LockInfo;
}

/** The pid of a process that has just exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", ""]);
    child.on("exit", () => resolve(child.pid!));
  });
}

/** A process that keeps running until the test ends, and when it started. */
function liveProcess(): Promise<{ pid: number; spawnedAt: number }> {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
  children.push(child);
  return new Promise((resolve) => child.on("spawn", () => resolve({ pid: child.pid!, spawnedAt })));
}

afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const child of children.splice(0)) child.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the data folder lock", () => {
  it("is a 0600 file naming this process, removed on release", async () => {
    const dir = freshDir();
    const lock = await take(dir, "app");
    const path = join(dir, LOCK_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, holder: "app" });
    expect(lock.info.token).toMatch(/^[\w-]{40,}$/);
    lock.update({ http: { host: "127.0.0.1", port: 3456 } });
    expect(readLock(dir).http).toEqual({ host: "127.0.0.1", port: 3456 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it("creates a data folder that does not exist yet (the very first run)", async () => {
    const dir = join(freshDir(), "data", "nested");
    await take(dir);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it("a command-line lock carries no token", async () => {
    const lock = await take(freshDir(), "cli");
    expect(lock.info.token).toBeUndefined();
  });

  it("is refused while held, and names the holder", async () => {
    const dir = freshDir();
    const first = await take(dir, "app");
    const second = await acquireDataDirLock(dir, { holder: "cli", waitForCliMs: 10_000 });
    // An app is never waited for: the answer comes at once.
    expect(second).toEqual({ ok: false, heldBy: first.info });
    expect(readLiveLock(dir)).toEqual(first.info);
  });

  it("replaces a lock whose process has exited", async () => {
    const dir = freshDir();
    writeLock(dir, { pid: await deadPid(), id: "dead" });
    expect(readLiveLock(dir)).toBeUndefined();
    const lock = await take(dir);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, id: lock.info.id });
  });

  it("replaces a lock with this process's pid that this process does not hold (a restart as pid 1)", async () => {
    const dir = freshDir();
    writeLock(dir, { pid: process.pid, id: "from-a-previous-life" });
    const lock = await take(dir);
    expect(readLock(dir).id).toBe(lock.info.id);
  });

  it.runIf(process.platform === "linux")(
    "replaces a lock whose pid now belongs to a process started after it was written",
    async () => {
      const other = await liveProcess();
      const dir = freshDir();
      writeLock(dir, { pid: other.pid, startedAt: other.spawnedAt - 3_600_000 });
      expect(readLiveLock(dir)).toBeUndefined();
      // The same pid with a lock written after it started is its own, and live.
      writeLock(dir, { pid: other.pid, startedAt: Date.now() });
      expect(readLiveLock(dir)?.pid).toBe(other.pid);
    },
  );

  it("replaces a damaged lock file", async () => {
    const dir = freshDir();
    const path = join(dir, LOCK_FILE);
    writeFileSync(path, "{ not json");
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    const lock = await take(dir);
    expect(readLock(dir).id).toBe(lock.info.id);
  });

  it("waits for a command-line run to finish", async () => {
    const dir = freshDir();
    const first = await take(dir, "cli");
    const waited: number[] = [];
    const second = await acquireDataDirLock(dir, {
      holder: "app",
      waitForCliMs: 30_000,
      onWait: (heldBy) => {
        waited.push(heldBy.pid);
        first.release();
      },
    });
    expect(waited).toEqual([process.pid]);
    expect(second.ok).toBe(true);
    if (second.ok) locks.push(second.lock);
  });

  it("gives up on a command-line run after the wait, naming it", async () => {
    const dir = freshDir();
    const first = await take(dir, "cli");
    const second = await acquireDataDirLock(dir, { holder: "cli", waitForCliMs: 300 });
    expect(second).toEqual({ ok: false, heldBy: first.info });
  });
});

describe("the app's lock", () => {
  it("is not taken for a PostgreSQL server or the in-memory database", async () => {
    const dir = freshDir();
    expect(
      await lockDataDirForApp({ databaseUrl: "postgres://x@127.0.0.1/db", dataDir: dir }, () => {}),
    ).toBeUndefined();
    expect(
      await lockDataDirForApp({ databaseUrl: undefined, dataDir: "memory://" }, () => {}),
    ).toBeUndefined();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("stops a second app with one sentence", async () => {
    const dir = freshDir();
    const first = await lockDataDirForApp({ databaseUrl: undefined, dataDir: dir }, () => {});
    locks.push(first!);
    const second = lockDataDirForApp({ databaseUrl: undefined, dataDir: dir }, () => {});
    await expect(second).rejects.toBeInstanceOf(DataDirBusyError);
    await expect(second).rejects.toThrow(
      `Another Aimak app (pid ${process.pid}) is already running on the data folder ${dir}; stop it first, or give this one its own DATA_DIR.`,
    );
  });
});
