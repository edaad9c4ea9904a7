import type { Feature } from "../../bot/feature";
import { municipalitiesCommand } from "./cli";
import { seedDemoDirectoryIfEmpty } from "./service";

/** The directory of regions, districts and municipalities: loaded on a fresh database; CLI. */
export const municipalities: Feature = {
  name: "municipalities",
  prepare: async (deps) => {
    await seedDemoDirectoryIfEmpty(deps.db);
  },
  cli: [municipalitiesCommand],
};
