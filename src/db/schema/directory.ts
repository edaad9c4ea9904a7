import { index, integer, pgTable, serial, text } from "drizzle-orm/pg-core";

/** Oblasts and the cities of republican significance (Bishkek, Osh), which sit at the same level. */
export const regions = pgTable("regions", {
  id: serial("id").primaryKey(),
  code: text("code").notNull().unique(),
  kind: text("kind", { enum: ["oblast", "city"] }).notNull(),
  nameKy: text("name_ky").notNull(),
  nameRu: text("name_ru").notNull(),
});

/** Districts (raions) of a region; city districts of Bishkek and Osh are districts too. */
export const districts = pgTable(
  "districts",
  {
    id: serial("id").primaryKey(),
    code: text("code").notNull().unique(),
    regionId: integer("region_id")
      .notNull()
      .references(() => regions.id),
    nameKy: text("name_ky").notNull(),
    nameRu: text("name_ru").notNull(),
  },
  (t) => [index("districts_region_idx").on(t.regionId)],
);

/**
 * A local self-government unit: an aiyl aimak or a city. Cities of regional or republican
 * significance have no district.
 */
export const municipalities = pgTable(
  "municipalities",
  {
    id: serial("id").primaryKey(),
    code: text("code").notNull().unique(),
    kind: text("kind", { enum: ["aiyl_aimak", "city"] }).notNull(),
    regionId: integer("region_id")
      .notNull()
      .references(() => regions.id),
    districtId: integer("district_id").references(() => districts.id),
    nameKy: text("name_ky").notNull(),
    nameRu: text("name_ru").notNull(),
    // How to reach the executive body (the aiyl okmotu or the mayor's office), when the
    // directory file gives it: told to residents whose question the FAQ cannot answer.
    phone: text("phone"),
    email: text("email"),
    website: text("website"),
    address: text("address"),
  },
  (t) => [
    index("municipalities_region_idx").on(t.regionId),
    index("municipalities_district_idx").on(t.districtId),
  ],
);
