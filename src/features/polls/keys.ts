/**
 * The ballot secret and the keyed hashes made with it. Each use gets its own key derived from
 * the secret (HMAC of a label), so a voter key can never be mistaken for a ballot token or a
 * resident hash, and the database alone leads from none of them to a person: it holds hashes
 * whose key lives outside it (BALLOT_SECRET, or DATA_DIR/ballot-secret).
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Database } from "../../db/client";
import { ballotSecretCheck } from "./schema";

export interface BallotKeys {
  /** Who voted in a poll: one per account, or one per verified phone number. */
  voterKey(subject: { userId: number } | { phone: string }): string;
  /** Where a voter's ballot is, found again to change it. */
  ballotToken(pollId: number, voterKey: string): string;
  /** A number on a municipality's resident list (E.164). */
  residentHash(phone: string): string;
  /** Stored in the database to refuse an instance started with another secret. */
  readonly fingerprint: string;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function ballotKeysFrom(secret: string): BallotKeys {
  const voter = hmac(secret, "aimak/poll-voter/v1");
  const ballot = hmac(secret, "aimak/poll-ballot/v1");
  const resident = hmac(secret, "aimak/poll-resident/v1");
  return {
    voterKey: (s) =>
      hmac(voter, "userId" in s ? `user:${s.userId}` : `phone:${s.phone}`).toString("base64url"),
    ballotToken: (pollId, voterKey) => hmac(ballot, `${pollId}:${voterKey}`).toString("base64url"),
    residentHash: (phone) => hmac(resident, phone).toString("base64url"),
    fingerprint: hmac(secret, "aimak/fingerprint/v1").toString("base64url").slice(0, 16),
  };
}

const SECRET_FILE = "ballot-secret";

/**
 * BALLOT_SECRET, or the one in DATA_DIR, generated there (readable by the owner only) the first
 * time. Created with "wx", so two processes starting at once end up reading the same file.
 */
export function loadBallotSecret(config: { ballotSecret: string | undefined; dataDir: string }) {
  if (config.ballotSecret) return config.ballotSecret;
  const file = join(config.dataDir, SECRET_FILE);
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(config.dataDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readFileSync(file, "utf8").trim();
}

const cache = new Map<string, BallotKeys>();

/** The keys of this configuration, derived once per secret. */
export function ballotKeysOf(config: {
  ballotSecret: string | undefined;
  dataDir: string;
}): BallotKeys {
  const secret = loadBallotSecret(config);
  let keys = cache.get(secret);
  if (!keys) {
    keys = ballotKeysFrom(secret);
    cache.set(secret, keys);
  }
  return keys;
}

export class BallotSecretMismatch extends Error {
  constructor() {
    super(
      "BALLOT_SECRET differs from the one this database's polls were made with: set the same " +
        "BALLOT_SECRET on every instance (or restore DATA_DIR/ballot-secret); with another " +
        "secret a resident could vote twice in an open poll",
    );
    this.name = "BallotSecretMismatch";
  }
}

/** Records the secret's fingerprint on first start; refuses a different one afterwards. */
export async function checkBallotSecret(db: Database, keys: BallotKeys): Promise<void> {
  await db
    .insert(ballotSecretCheck)
    .values({ id: 1, fingerprint: keys.fingerprint })
    .onConflictDoNothing();
  const [row] = await db
    .select({ fingerprint: ballotSecretCheck.fingerprint })
    .from(ballotSecretCheck)
    .where(eq(ballotSecretCheck.id, 1));
  if (row && row.fingerprint !== keys.fingerprint) throw new BallotSecretMismatch();
}
