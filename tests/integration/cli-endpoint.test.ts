import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app";
import {
  CLI_ENDPOINT_PATH,
  isLoopbackAddress,
  type RemoteCliResponse,
} from "../../src/cli/admin-endpoint";
import { parseConfig } from "../../src/config";
import { LOCK_FILE, type LockInfo } from "../../src/db/data-dir-lock";
import { auditLog, invites, roleGrants } from "../../src/db/schema";
import { translator } from "../../src/i18n";
import { createLogger } from "../../src/logger";
import { createTestDatabase } from "../helpers/db";
import { WebchatClient } from "../helpers/webchat";

const CODE = /Code:\s+([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/;

describe("the admin endpoint of an app on an embedded data folder", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-endpoint-"));
  let app: App;
  let base: string;
  let lock: LockInfo;

  beforeAll(async () => {
    // Always PGlite on disk: the endpoint exists because PGlite cannot be opened twice.
    app = await createApp({
      config: parseConfig({ LOG_LEVEL: "silent", PORT: "0", DATA_DIR: dataDir }),
      logger: createLogger("silent"),
      notices: () => {},
    });
    const { port } = await app.start();
    base = `http://127.0.0.1:${port}`;
    lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), "utf8")) as LockInfo;
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (body: unknown, authorization?: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${CLI_ENDPOINT_PATH}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(authorization ? { authorization } : {}),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const run = async (argv: string[], files: Record<string, string> = {}) => {
    const res = await call({ argv, files }, `Bearer ${lock.token}`);
    expect(res.status).toBe(200);
    return (await res.json()) as RemoteCliResponse;
  };
  const lines = (r: RemoteCliResponse, stream: "out" | "err") =>
    r.output.filter((o) => o.stream === stream).map((o) => o.line);
  const adminInvites = async () =>
    (await app.database.db.select().from(invites).where(eq(invites.role, "admin"))).length;

  it("counts only loopback addresses as this machine", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
      expect(isLoopbackAddress(a)).toBe(true);
    }
    for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "203.0.113.9", "fe80::1", "", undefined]) {
      expect(isLoopbackAddress(a)).toBe(false);
    }
  });

  it("writes where the app listens into the lock file", () => {
    expect(lock).toMatchObject({ pid: process.pid, holder: "app", http: { host: "127.0.0.1" } });
    expect(base).toContain(`:${lock.http?.port}`);
  });

  it("answers 401 without a token and 403 with a wrong one, running nothing", async () => {
    const before = await adminInvites();
    const none = await call({ argv: ["admin", "create"] });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    expect((await call({ argv: ["admin", "create"] }, `Basic ${lock.token}`)).status).toBe(401);
    const wrong = await call({ argv: ["admin", "create"] }, `Bearer ${lock.token}x`);
    expect(wrong.status).toBe(403);
    expect(await adminInvites()).toBe(before);
  });

  it("answers 403 to anything but this machine, even with the right token", async () => {
    const init = {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${lock.token}` },
      body: JSON.stringify({ argv: ["admin", "create"] }),
    };
    const before = await adminInvites();
    const remote = await app.http.request(CLI_ENDPOINT_PATH, init, {
      incoming: { socket: { remoteAddress: "203.0.113.9" } },
    });
    expect(remote.status).toBe(403);
    // Nor what a reverse proxy on this machine forwards (it connects over loopback).
    const proxied = await call({ argv: ["admin", "create"] }, `Bearer ${lock.token}`, {
      "x-forwarded-for": "203.0.113.9",
    });
    expect(proxied.status).toBe(403);
    // No socket at all (an in-process request) is not "this machine" either.
    expect((await app.http.request(CLI_ENDPOINT_PATH, init)).status).toBe(403);
    expect(await adminInvites()).toBe(before);
  });

  it("runs a command in the app with the right token and returns its output and exit code", async () => {
    const before = await adminInvites();
    const created = await run(["admin", "create"]);
    expect(created.exitCode).toBe(0);
    expect(lines(created, "out").join("\n")).toMatch(/code:\s+[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    expect(await adminInvites()).toBe(before + 1);

    const bad = await run(["invite", "--role", "nobody"]);
    expect(bad.exitCode).toBe(2);
    expect(lines(bad, "err")).toEqual(["--role must be one of deputy, staff, lawyer, admin"]);

    const unknown = await run(["frobnicate"]);
    expect(unknown.exitCode).toBe(2);
    expect(lines(unknown, "err")[0]).toContain("Unknown command: frobnicate");
  });

  it("reads and writes the files named on the command line through the request, not its own disk", async () => {
    const exported = await run(["faq", "export", "faq-copy.json"]);
    expect(exported.exitCode).toBe(0);
    const entries = JSON.parse(exported.files["faq-copy.json"]!) as unknown[];
    expect(entries.length).toBeGreaterThan(10);
    expect(existsSync("faq-copy.json")).toBe(false);

    const imported = await run(["faq", "import", "mine.json"], {
      "mine.json": exported.files["faq-copy.json"]!,
    });
    expect(imported.exitCode).toBe(0);
    expect(lines(imported, "out")[0]).toMatch(/^Imported \d+ entries \(0 new, \d+ updated\)\.$/);

    // A file the command line did not send is not there, whatever the app's own disk holds.
    const missing = await run(["municipalities", "import", "package.json"]);
    expect(missing.exitCode).toBe(2);
    expect(lines(missing, "err")[0]).toMatch(/^Cannot read package\.json: ENOENT/);
  });

  it("turns a failing command into one line and exit code 1, and keeps serving", async () => {
    const failed = await run(["faq", "import", "nowhere.json"]);
    expect(failed.exitCode).toBe(1);
    expect(lines(failed, "err")).toEqual([
      "Error: ENOENT: no such file or directory, open 'nowhere.json'",
    ]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("keeps a second app off the same folder", async () => {
    await expect(
      createApp({
        config: parseConfig({ LOG_LEVEL: "silent", PORT: "0", DATA_DIR: dataDir }),
        logger: createLogger("silent"),
      }),
    ).rejects.toThrow(/^Another Aimak app \(pid \d+\) is already running on the data folder /);
  });
});

describe("the first admin invite, printed at start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "aimak-first-admin-"));
  let server: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const en = translator("en");

  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts the app on its own database (like `npm start`), runs `body`, stops it. */
  async function withApp(body: (app: App, base: string, notices: string[]) => Promise<void>) {
    const notices: string[] = [];
    const app = await createApp({
      config: parseConfig({
        LOG_LEVEL: "silent",
        PORT: "0",
        ...(server?.url ? { DATABASE_URL: server.url } : { DATA_DIR: dataDir }),
      }),
      logger: createLogger("silent"),
      notices: (text) => notices.push(text),
    });
    try {
      const { port } = await app.start();
      await body(app, `http://127.0.0.1:${port}`, notices);
    } finally {
      await app.stop();
    }
  }

  beforeAll(async () => {
    server = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  });

  it("prints one invite, not a new one on every start, and nothing once there is an admin", async () => {
    let code = "";
    await withApp(async (app, base, notices) => {
      expect(notices).toHaveLength(1);
      const notice = notices[0]!;
      code = CODE.exec(notice)?.[1] ?? "";
      expect(code).not.toBe("");
      expect(notice).toContain("Aimak has no admin yet");
      expect(notice).toContain(`open ${base}/ and send the message  /start ${code}`);
      expect(notice).toContain("72 hours");
      const db = app.database.db;
      const rows = await db.select().from(invites).where(eq(invites.role, "admin"));
      expect(rows).toHaveLength(1);
      // Stored as a hash only, and audit-logged like `admin create`.
      expect(JSON.stringify(rows)).not.toContain(code);
      const audit = await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, "invite.create"), eq(auditLog.actorLabel, "first-start")));
      expect(audit).toHaveLength(1);
    });

    await withApp(async (app, base, notices) => {
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/An admin invite made on .* is still valid/);
      expect(notices[0]).not.toMatch(CODE);
      const rows = await app.database.db.select().from(invites).where(eq(invites.role, "admin"));
      expect(rows).toHaveLength(1);

      // The code works in the web chat as printed.
      const person = new WebchatClient(base, "en");
      await person.session();
      expect((await person.send(`/start ${code}`)).status).toBe(202);
      const roleName = en("roles.admin");
      await person.waitFor((m) => m.fromBot && m.text.includes(roleName));
      const admins = await app.database.db
        .select()
        .from(roleGrants)
        .where(eq(roleGrants.role, "admin"));
      expect(admins.map((g) => g.userId)).toEqual([person.userId]);
    });

    await withApp(async (_app, _base, notices) => {
      expect(notices).toEqual([]);
    });
  }, 180_000);
});
