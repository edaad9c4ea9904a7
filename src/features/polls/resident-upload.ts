/**
 * A resident list sent as a file in the Telegram chat: fetched from Telegram's file storage,
 * parsed and imported in one go. The flow runs this inside `conversation.external`, so it
 * happens once, and only the outcome (a count or a refusal) is kept in the flow's state: never
 * the file, its numbers or the download address (which holds the bot token). Nothing of the
 * file is logged.
 */
import type { Api } from "grammy";
import type { BotDeps } from "../../bot/context";
import type { FeatureErrorParams } from "../../core/errors";
import { canManageMunicipality } from "../../core/permissions";
import { actorOf, attempt, serviceOf } from "./bot-common";
import { parseResidentFile, RESIDENT_FILE_LIMITS } from "./resident-file";

/** What became of a sent file (plain JSON: the flow stores it). */
export type UploadResult =
  | { kind: "imported"; numbers: number }
  /** A PollError: the file's problem (bad rows by line, no phone column…) or the person's rights. */
  | { kind: "refused"; code: string; params: FeatureErrorParams }
  /** Telegram did not hand the file over (or the bot has no token): send it again. */
  | { kind: "download_failed" };

export interface Upload {
  /** The chat the file came from: whose rights count (re-read from the database). */
  chatId: number;
  municipalityId: number;
  /** Telegram's file id of the document. */
  fileId: string;
}

const DEFAULT_API_ROOT = "https://api.telegram.org";
const DOWNLOAD_TIMEOUT_MS = 60_000;

class DownloadError extends Error {
  override readonly name = "DownloadError";
}

/**
 * The file's bytes, at most one byte more than the file limit: a longer file is cut there and
 * refused by the parser as too big, without reading the rest.
 */
async function download(url: string): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!response.ok || !response.body) throw new DownloadError(`HTTP ${response.status}`);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > RESIDENT_FILE_LIMITS.maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESIDENT_FILE_LIMITS.maxBytes + 1);
}

/** Downloads, parses and imports a resident file; rights are checked before the download. */
export async function importResidentUpload(
  deps: BotDeps,
  api: Api,
  upload: Upload,
): Promise<UploadResult> {
  const log = deps.logger.child({ municipalityId: upload.municipalityId });
  const actor = await actorOf(deps, upload.chatId);
  if (!actor || !canManageMunicipality(actor.roles, upload.municipalityId)) {
    return { kind: "refused", code: "not_allowed", params: {} };
  }
  const token = deps.config.botToken;
  if (!token) {
    log.warn("polls: a resident file came in but the bot has no Telegram token to fetch it");
    return { kind: "download_failed" };
  }
  let bytes: Uint8Array;
  try {
    const file = await api.getFile(upload.fileId);
    if (!file.file_path) throw new DownloadError("getFile gave no file_path");
    const root = deps.config.telegramApiRoot ?? DEFAULT_API_ROOT;
    bytes = await download(`${root}/file/bot${token}/${file.file_path}`);
  } catch (error) {
    // The reason only (never the address: it carries the token).
    const reason = error instanceof Error ? error.message.replaceAll(token, "…") : "unknown";
    log.warn({ reason }, "polls: a resident file could not be downloaded from Telegram");
    return { kind: "download_failed" };
  }
  const outcome = await attempt(async () => {
    const { phones } = parseResidentFile(bytes);
    return serviceOf(deps).importResidents(actor, upload.municipalityId, phones);
  });
  if (!outcome.ok) {
    log.info({ code: outcome.code }, "polls: a resident file was refused");
    return { kind: "refused", code: outcome.code, params: outcome.params };
  }
  log.info({ numbers: outcome.value.numbers }, "polls: a resident list was imported in the chat");
  return { kind: "imported", numbers: outcome.value.numbers };
}
