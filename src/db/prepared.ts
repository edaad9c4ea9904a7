import type { Database } from "./client";

/**
 * A query built once per database and reused. Building a query with drizzle costs more CPU
 * than PostgreSQL spends running a simple one; for the few statements that run on every message
 * (a person's lookup, a stored chat message, a rate count) that building was a tenth of the
 * web chat bench's CPU. `build` receives the database and returns `….prepare(name)`.
 */
export function preparedStatement<T>(build: (db: Database) => T): (db: Database) => T {
  const built = new WeakMap<Database, T>();
  return (db) => {
    let statement = built.get(db);
    if (statement === undefined) {
      statement = build(db);
      built.set(db, statement);
    }
    return statement;
  };
}
