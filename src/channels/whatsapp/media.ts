import { fetchAppFile, isAppPath } from "../../delivery/app-files";
import type { WhatsAppClient } from "./client";
import type { WaMedia } from "./types";

/** Bytes of a Telegram file_id (a photo staff attached on Telegram), when Telegram is on. */
export type TelegramFileSource = (
  fileId: string,
) => Promise<{ bytes: Uint8Array; mimeType: string; filename: string }>;

/** Meta keeps an uploaded file for 30 days; reuse an upload for a little less. */
const MEDIA_TTL_MS = 29 * 24 * 3600_000;
const MAX_REMEMBERED = 1000;

const MIME_BY_EXT: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  pdf: "application/pdf",
  ics: "text/calendar",
  csv: "text/csv",
};

/**
 * Turns what the bot names as a photo or document (an https link, a path the app serves, or a
 * Telegram file_id) into a WhatsApp media object: links are passed on, everything else is
 * uploaded through the media endpoint once and its id reused.
 */
export class WhatsAppMedia {
  private readonly uploaded = new Map<string, { id: string; at: number }>();

  constructor(
    private readonly client: WhatsAppClient,
    private readonly telegramFile: TelegramFileSource | undefined,
  ) {}

  async resolve(source: string): Promise<WaMedia & { filename?: string }> {
    if (/^https:\/\//i.test(source)) return { link: source };
    const known = this.uploaded.get(source);
    if (known && Date.now() - known.at < MEDIA_TTL_MS) return { id: known.id };
    const file = await this.load(source);
    const id = await this.client.upload(file.bytes, file.mimeType, file.filename);
    if (file.reusable) this.remember(source, id);
    return { id, filename: file.filename };
  }

  /** Uploads bytes the bot sent itself (an InputFile: a hearing's .ics, a CSV). */
  async upload(bytes: Uint8Array, filename: string): Promise<WaMedia & { filename: string }> {
    const ext = filename.split(".").pop()?.toLowerCase() ?? "";
    const id = await this.client.upload(
      bytes,
      MIME_BY_EXT[ext] ?? "application/octet-stream",
      filename,
    );
    return { id, filename };
  }

  private async load(source: string) {
    if (source.startsWith("/") && isAppPath(source)) {
      const file = await fetchAppFile(source);
      return {
        bytes: file.bytes,
        mimeType: file.mimeType,
        filename: source.split("/").pop() || "file",
        reusable: file.immutable,
      };
    }
    if (!this.telegramFile || /^[a-z]+:/i.test(source)) {
      throw new Error(`cannot send ${source.slice(0, 40)} on WhatsApp`);
    }
    return { ...(await this.telegramFile(source)), reusable: true };
  }

  private remember(source: string, id: string): void {
    if (this.uploaded.size >= MAX_REMEMBERED) {
      const oldest = this.uploaded.keys().next().value;
      if (oldest !== undefined) this.uploaded.delete(oldest);
    }
    this.uploaded.set(source, { id, at: Date.now() });
  }
}
