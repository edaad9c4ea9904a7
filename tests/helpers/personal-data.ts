import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { type Database, rowsOf } from "../../src/db/client";

export interface Leftover {
  table: string;
  column: string;
  value: string;
}

/**
 * Every row of every table of the public schema (read from the catalogue) that still holds the
 * person: their id in a column that refers to people (a foreign key to users, or a name saying
 * so), their chat id anywhere, or one of their texts (or the id in a JSON shape) in any column.
 */
export async function findPerson(
  db: Database,
  person: { id: number; chatId: number; texts: readonly string[] },
): Promise<Leftover[]> {
  const columns = rowsOf<{ table_name: string; column_name: string; data_type: string }>(
    await db.execute(sql`
      select c.table_name, c.column_name, c.data_type
      from information_schema.columns c
      join information_schema.tables t
        on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
      order by c.table_name, c.ordinal_position`),
  );
  const personColumns = new Set(
    rowsOf<{ table_name: string; column_name: string }>(
      await db.execute(sql`
        select kcu.table_name, kcu.column_name
        from information_schema.referential_constraints rc
        join information_schema.key_column_usage kcu on kcu.constraint_name = rc.constraint_name
        join information_schema.constraint_column_usage ccu
          on ccu.constraint_name = rc.unique_constraint_name
        where ccu.table_name = 'users' and ccu.column_name = 'id'`),
    ).map((r) => `${r.table_name}.${r.column_name}`),
  );
  const tables = [...new Set(columns.map((c) => c.table_name))];
  expect(tables.length).toBeGreaterThan(20);
  const needles = [
    ...person.texts,
    String(person.chatId),
    `"userId": ${person.id}`,
    `"userId":${person.id}`,
    `user:${person.id}`,
  ];
  const found: Leftover[] = [];
  for (const table of tables) {
    const rows = rowsOf<Record<string, unknown>>(
      await db.execute(sql.raw(`select * from "${table}"`)),
    );
    const own = columns.filter((c) => c.table_name === table);
    for (const row of rows) {
      for (const { column_name: column, data_type: type } of own) {
        const value = row[column];
        if (value === null || value === undefined) continue;
        const text = typeof value === "object" ? JSON.stringify(value) : String(value);
        const refersToPeople =
          personColumns.has(`${table}.${column}`) || /(^|_)user_id$|_by_user_id$/.test(column);
        const numeric = ["bigint", "integer", "smallint", "numeric"].includes(type);
        if (
          (refersToPeople && numeric && Number(value) === person.id) ||
          needles.some((n) => text.includes(n)) ||
          (type === "jsonb" && JSON.stringify(value).includes(`"userId": ${person.id}`))
        ) {
          found.push({ table, column, value: text.slice(0, 200) });
        }
      }
    }
  }
  return found;
}
