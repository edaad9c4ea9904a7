import { ConfigError, parseConfig } from "../../src/config";

/** The lines parseConfig refuses this environment with (none when it is accepted). */
export function configProblems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}
