/**
 * `--municipality ID` on the strict feature commands (hearings, polls, residents; src/cli/args.ts):
 * a positive whole number naming a municipality that exists, else a refusal naming the flag.
 */
import { CliRefusal, idOf } from "../../cli/args";
import type { Database } from "../../db/client";
import { getMunicipality } from "./service";

export async function municipalityOf(db: Database, text: string): Promise<number> {
  const id = idOf(text, "--municipality");
  if (!(await getMunicipality(db, id))) throw new CliRefusal(`no municipality with id ${id}`);
  return id;
}

/** A list's filter from an optional --municipality: nothing when the flag is not given. */
export async function municipalityFilterOf(
  db: Database,
  text: string | undefined,
): Promise<{ municipalityId?: number }> {
  return text === undefined ? {} : { municipalityId: await municipalityOf(db, text) };
}
