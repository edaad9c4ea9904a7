/**
 * The new-database template's contents beyond the migrations: what the municipalities and FAQ
 * features' prepare() seed into an empty database (the shipped directory, the shipped FAQ
 * corpus). `node scripts/start.mjs --prepare` bundles this file and runs seedTemplate() on the
 * template's folder, so a first start finds the data there and its seeds are a count check.
 * Nothing else of the app runs here: no people, no invites, no secrets — those belong to each
 * deployment, never to a copy every data folder starts from.
 */
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { drizzle } from "drizzle-orm/pglite";
import type { Database } from "../db/client";
import { migrate } from "../db/migrate";
import { faqServiceOf, seedFaqIfEmpty } from "./faq/service";
import { DIRECTORY_PATH, seedDemoDirectoryIfEmpty } from "./municipalities/service";

/**
 * Every file the seeds read (municipalities/service.ts, faq/entries.ts). Their hashes go into the
 * template's marker; src/db/client.ts copies the template only while each still matches, so a
 * template never hands out an old directory or corpus. A seed that reads a new file lists it here.
 */
export const SEED_FILES: readonly string[] = [
  DIRECTORY_PATH,
  fileURLToPath(new URL("./faq/data/faq.json", import.meta.url)),
  fileURLToPath(new URL("./faq/data/phrasings.json", import.meta.url)),
];

/** Migrates the (new or template) database in `dir` and seeds it as the features' prepare() do. */
export async function seedTemplate(dir: string): Promise<void> {
  // The same extensions as openDatabase (src/db/client.ts), which is not used here: it would copy
  // the current template into the folder this is building the next one in.
  const client = await PGlite.create(dir, { extensions: { pg_trgm } });
  try {
    const db = drizzle(client) as unknown as Database;
    await migrate(db);
    await seedDemoDirectoryIfEmpty(db);
    await seedFaqIfEmpty(db, faqServiceOf(db));
  } finally {
    await client.close();
  }
}
