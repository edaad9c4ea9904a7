import type { CliCommand } from "../command";

/** Migrations also run on every start; this applies them without starting the app. */
export const migrateCommand: CliCommand = {
  name: "migrate",
  usage: ["migrate                               apply database migrations"],
  async run(_args, ctx) {
    const handle = await ctx.database();
    ctx.out(`migrated (${handle.kind})`);
    return 0;
  },
};
