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
/** Meta's largest media file (a document); a bigger download is refused before the upload. */
const MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 20_000;

const MIME_BY_EXT: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  pdf: "application/pdf",
  ics: "text/calendar",
  csv: "text/csv",
};

/** The media type a file name's extension stands for. */
function mimeOf(filename: string): string {
  const ext = filename.split(".").pop()?.toLowerCase() ?? "";
  return MIME_BY_EXT[ext] ?? "application/octet-stream";
}

/**
 * Turns what the bot names as a photo or document (an https link, a path the app serves, an
 * http link or a Telegram file_id) into a WhatsApp media object: https links are passed on (Meta
 * fetches them itself), everything else is uploaded through the media endpoint once and its id
 * reused. Meta fetches links over https only, so an http link is downloaded here and uploaded.
 */
export class WhatsAppMedia {
  private readonly uploaded = new Map<string, { id: string; at: number; filename: string }>();

  constructor(
    private readonly client: WhatsAppClient,
    private readonly telegramFile: TelegramFileSource | undefined,
    private readonly download: typeof fetch = fetch,
  ) {}

  async resolve(source: string): Promise<WaMedia & { filename?: string }> {
    if (/^https:\/\//i.test(source)) return { link: source };
    const known = this.uploaded.get(source);
    // The name goes along again: a document sent a second time keeps it.
    if (known && Date.now() - known.at < MEDIA_TTL_MS) {
      return { id: known.id, filename: known.filename };
    }
    const file = await this.load(source);
    const id = await this.client.upload(file.bytes, file.mimeType, file.filename);
    if (file.reusable) this.remember(source, id, file.filename);
    return { id, filename: file.filename };
  }

  /** Uploads bytes the bot sent itself (an InputFile: a hearing's .ics, a CSV). */
  async upload(bytes: Uint8Array, filename: string): Promise<WaMedia & { filename: string }> {
    const id = await this.client.upload(bytes, mimeOf(filename), filename);
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
    if (/^http:\/\//i.test(source)) return { ...(await this.fetchLink(source)), reusable: true };
    if (!this.telegramFile || /^[a-z]+:/i.test(source)) {
      throw new Error(`cannot send ${source.slice(0, 40)} on WhatsApp`);
    }
    return { ...(await this.telegramFile(source)), reusable: true };
  }

  /** The bytes behind an http link, with the type its server names (else the extension's). */
  private async fetchLink(source: string) {
    const response = await this.download(source, {
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    });
    if (!response.ok)
      throw new Error(`downloading a file for WhatsApp answered HTTP ${response.status}`);
    const announced = Number(response.headers.get("content-length") ?? 0);
    if (announced > MAX_DOWNLOAD_BYTES) throw new Error("the file is too big for WhatsApp");
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > MAX_DOWNLOAD_BYTES) throw new Error("the file is too big for WhatsApp");
    const filename = new URL(source).pathname.split("/").pop() || "file";
    const type = response.headers.get("content-type")?.split(";")[0]?.trim();
    return { bytes, mimeType: type || mimeOf(filename), filename };
  }

  private remember(source: string, id: string, filename: string): void {
    if (this.uploaded.size >= MAX_REMEMBERED) {
      const oldest = this.uploaded.keys().next().value;
      if (oldest !== undefined) this.uploaded.delete(oldest);
    }
    this.uploaded.set(source, { id, at: Date.now(), filename });
  }
}
