import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { MIGRATIONS_FOLDER } from "./migrate";

/**
 * The one database type the app codes against, whichever driver is underneath. Queries name
 * their tables (no relational `db.query` API), so the tables need not be registered here: a
 * feature's tables live in its own folder, in a schema.ts beside its service.
 */
export type Database = PgDatabase<PgQueryResultHKT>;
/** A transaction of the database (what `db.transaction(async (tx) => …)` hands its callback). */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/**
 * Anything that runs queries: the database or a transaction. Functions that may be called inside
 * the caller's transaction take this, so their writes commit (or roll back) with the caller's.
 */
export type Executor = Database | Transaction;

/** Rows of a raw `db.execute`, whichever driver is underneath (postgres.js: array; PGlite: {rows}). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Stops a `listen`. */
export type Unlisten = () => Promise<void>;

export interface DatabaseHandle {
  db: Database;
  kind: "pglite" | "postgres";
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` (`select pg_notify(channel, payload)`, sent
   * at the commit of the transaction that issued it) from any process on the database.
   * PostgreSQL: a LISTEN on a dedicated connection of postgres.js. PGlite is one process: its own
   * in-process LISTEN. `onListen` runs each time the LISTEN is in place: at first and after
   * every reconnect of that connection (notifications sent in between were missed).
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<Unlisten>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent an embedded PGlite is used. */
  url?: string | undefined;
  /** Folder for PGlite's files; `memory://` (or undefined) keeps everything in memory. */
  dataDir?: string | undefined;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      connection: { application_name: "aimak" },
      // While the server is away, postgres.js waits longer after each failed connect (up to
      // 20 s by default), and queries queue meanwhile: requests would hang that long, and
      // recovery could lag the server's return by as much. At most 1 s keeps both short.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      // A server that does not answer at all (a dead network) fails a connect in 5 s, not 30.
      connect_timeout: 5,
    });
    const db = drizzlePostgres(client) as unknown as Database;
    return {
      db,
      kind: "postgres",
      ping: async () => {
        await client`select 1`;
      },
      listen: async (channel, onNotify, onListen) => {
        const { unlisten } = await client.listen(channel, onNotify, onListen);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dir = options.dataDir && options.dataDir !== "memory://" ? options.dataDir : undefined;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    copyNewDatabase(dir);
  }
  // pg_trgm backs typo-tolerant search; it has to be loaded into PGlite before any migration.
  const client = await PGlite.create(dir ?? "memory://", { extensions: { pg_trgm } });
  const db = drizzlePglite(client) as unknown as Database;
  return {
    db,
    kind: "pglite",
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: async (channel, onNotify, onListen) => {
      const unlisten = await client.listen(channel, onNotify);
      onListen?.();
      return unlisten;
    },
    close: () => client.close(),
  };
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The new database that `npm ci` made for the installed PGlite (`node scripts/start.mjs
 * --prepare`: npm's `prepare` script, the Dockerfile): initdb, the migrations of that time, and
 * the shipped directory and FAQ corpus (src/features/seed-template.ts). Usable when those
 * migrations are the first of today's, unchanged (each is known by the hash of its SQL), and every
 * file the seeds read is still what was seeded: migrate() then applies the rest, exactly as on
 * any older database, and the features' seeds find their data there. An edited corpus or
 * directory makes the template unusable (a new folder then starts empty and seeds today's files)
 * until the next `npm ci` makes it again.
 */
function newDatabaseTemplate(): string | undefined {
  try {
    const pglite = join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json");
    const { version } = JSON.parse(readFileSync(pglite, "utf8")) as { version: string };
    const dir = join(ROOT, "node_modules", ".cache", "aimak", `pgdata-${version}`);
    const marker = JSON.parse(readFileSync(join(dir, "template.json"), "utf8")) as {
      pglite?: string;
      migrations?: string[];
      /** Seed file (relative to the project) → hex SHA-256 of its bytes, as start.mjs hashes it. */
      seed?: Record<string, string>;
    };
    const current = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => m.hash);
    const applied = marker.migrations ?? [];
    const prefix = applied.length <= current.length && applied.every((h, i) => h === current[i]);
    // A few hundred KB hashed, only when a data folder is new. No `seed`: an unseeded template.
    const seeded = Object.entries(marker.seed ?? {}).every(
      ([file, hash]) =>
        createHash("sha256")
          .update(readFileSync(join(ROOT, file)))
          .digest("hex") === hash,
    );
    return marker.pglite === version && prefix && seeded ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A data folder without a database starts as a copy of the template: initdb, the migrations and
 * the seeds cost PGlite seconds of CPU (most of a first start), a copy of ~40 MB a fraction of
 * one. Without a usable template PGlite runs initdb itself, migrate() every migration and the
 * features' prepare() the seeds, as before.
 * PG_VERSION, which marks a database as there, is copied last: an interrupted copy is simply
 * copied again at the next start.
 */
function copyNewDatabase(dir: string): void {
  if (existsSync(join(dir, "PG_VERSION"))) return;
  const template = newDatabaseTemplate();
  if (!template) return;
  // Only the top-level PG_VERSION waits (every base/<oid>/ has its own, copied as usual).
  const skip = new Set([join(template, "template.json"), join(template, "PG_VERSION")]);
  cpSync(template, dir, { recursive: true, filter: (src) => !skip.has(src) });
  cpSync(join(template, "PG_VERSION"), join(dir, "PG_VERSION"));
}
