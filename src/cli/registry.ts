import { faqCommand } from "../features/faq/cli";
import { municipalitiesCommand } from "../features/municipalities/cli";
import { adminCommand, inviteCommand, rolesCommand } from "../features/roles/cli";
import type { CliCommand } from "./command";
import { migrateCommand } from "./commands/migrate";

/** Every CLI command; each lives in its feature or in ./commands. */
export const commands: CliCommand[] = [
  migrateCommand,
  adminCommand,
  inviteCommand,
  rolesCommand,
  municipalitiesCommand,
  faqCommand,
];
