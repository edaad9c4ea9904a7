import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";

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
   * in-process LISTEN.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<Unlisten>;
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
    });
    const db = drizzlePostgres(client) as unknown as Database;
    return {
      db,
      kind: "postgres",
      ping: async () => {
        await client`select 1`;
      },
      listen: async (channel, onNotify) => {
        const { unlisten } = await client.listen(channel, onNotify);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dir = options.dataDir && options.dataDir !== "memory://" ? options.dataDir : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  // pg_trgm backs typo-tolerant search; it has to be loaded into PGlite before any migration.
  const client = await PGlite.create(dir ?? "memory://", { extensions: { pg_trgm } });
  const db = drizzlePglite(client) as unknown as Database;
  return {
    db,
    kind: "pglite",
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: (channel, onNotify) => client.listen(channel, onNotify),
    close: () => client.close(),
  };
}
