import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";

/**
 * A brand-new database on the PostgreSQL server of `serverUrl`, and how to drop it again (tests
 * and benches). UTF-8 from template0: a cluster's default template may carry another encoding,
 * and Cyrillic lower-casing and trigram search then silently break.
 */
export async function createServerDatabase(
  serverUrl: string,
  prefix = "aimak_test",
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template template0 encoding 'UTF8'`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/**
 * A fresh, migrated database for one test file: in-memory PGlite by default, or a brand-new
 * database on the PostgreSQL server named by DATABASE_URL (dropped again on close).
 */
export async function createTestDatabase(): Promise<DatabaseHandle & { url?: string }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const handle = await openDatabase({});
    await migrate(handle.db);
    return handle;
  }
  const server = await createServerDatabase(serverUrl);
  const handle = await openDatabase({ url: server.url, maxConnections: 5 });
  await migrate(handle.db);
  return {
    ...handle,
    url: server.url,
    close: async () => {
      await handle.close();
      await server.drop();
    },
  };
}

/** The connection URL of a test database handle, when it lives on a server (for child processes). */
export function isServerDatabase(): boolean {
  return Boolean(process.env.DATABASE_URL);
}

/**
 * A fresh test database for the enclosing `describe` (or file): created before its tests,
 * optionally seeded, closed after them. Read `.db` inside tests.
 */
export function useTestDatabase(seed?: (db: DatabaseHandle["db"]) => Promise<unknown>): {
  readonly db: DatabaseHandle["db"];
} {
  let handle: (DatabaseHandle & { url?: string }) | undefined;
  beforeAll(async () => {
    handle = await createTestDatabase();
    if (seed) await seed(handle.db);
  });
  afterAll(() => handle?.close());
  return {
    get db() {
      if (!handle) throw new Error("the test database is opened in beforeAll");
      return handle.db;
    },
  };
}
