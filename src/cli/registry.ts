import type { CliCommand } from "./command";

/** Every CLI command; each lives in its feature or in ./commands. */
export const commands: CliCommand[] = [];
