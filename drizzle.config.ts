import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  // The shared tables, and each feature's own (a feature with tables has a schema.ts).
  schema: ["./src/db/schema/index.ts", "./src/features/*/schema.ts"],
  out: "./drizzle",
});
