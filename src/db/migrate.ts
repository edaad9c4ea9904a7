import { fileURLToPath } from "node:url";
import type { MigrationConfig } from "drizzle-orm/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgDialect, PgSession } from "drizzle-orm/pg-core";
import type { Database } from "./client";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/**
 * Applies the committed drizzle-kit migrations. Runs from code (not drizzle-kit migrate) so
 * that PGlite gets the extensions it was started with, and so both drivers share one path.
 */
export async function migrate(db: Database): Promise<void> {
  const config: MigrationConfig = { migrationsFolder: MIGRATIONS_FOLDER };
  const migrations = readMigrationFiles(config);
  // Both drizzle drivers implement the same dialect.migrate(); reach it without driver imports.
  const internals = db as unknown as { dialect: PgDialect; session: PgSession };
  await internals.dialect.migrate(migrations, internals.session, config);
}
