import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client";
import { openDatabase } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { createTestDatabase } from "../helpers/db";

async function describeSchema(db: Database) {
  const columns = await db.execute<Record<string, string>>(sql`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = 'public'
    order by table_name, column_name`);
  const indexes = await db.execute<Record<string, string>>(sql`
    select tablename, indexname, indexdef from pg_indexes where schemaname = 'public'
    order by tablename, indexname`);
  const constraints = await db.execute<Record<string, string>>(sql`
    -- Newer PostgreSQL (PGlite) also lists NOT NULL as constraints (contype n); columns cover those.
    select conname, pg_get_constraintdef(oid) as def from pg_constraint
    where connamespace = 'public'::regnamespace and contype <> 'n' order by conname`);
  const rows = (r: unknown) =>
    ((r as { rows?: unknown[] }).rows ?? (r as unknown[])) as Record<string, string>[];
  return { columns: rows(columns), indexes: rows(indexes), constraints: rows(constraints) };
}

describe("migrations", () => {
  it("apply twice without change (idempotent start-up)", async () => {
    const handle = await createTestDatabase();
    const before = await describeSchema(handle.db);
    await migrate(handle.db);
    expect(await describeSchema(handle.db)).toEqual(before);
    await handle.close();
  });

  it.skipIf(!process.env.DATABASE_URL)(
    "give identical schemas on PGlite and PostgreSQL",
    async () => {
      const pglite = await openDatabase({});
      await migrate(pglite.db);
      const server = await createTestDatabase();
      const a = await describeSchema(pglite.db);
      const b = await describeSchema(server.db);
      expect(a.columns).toEqual(b.columns);
      expect(a.indexes).toEqual(b.indexes);
      expect(a.constraints).toEqual(b.constraints);
      expect(a.columns.length).toBeGreaterThan(20);
      await pglite.close();
      await server.close();
    },
  );
});
