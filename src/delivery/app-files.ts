/**
 * Files the app itself serves (a poll's result chart at /polls/12/chart/ky.png), usable as a
 * message's photo or document by their path. The web chat shows the path as it is (same
 * origin); for Telegram the path is fetched from the app's own HTTP routes in-process and
 * uploaded, so nothing depends on PUBLIC_URL being reachable from Telegram's servers. A file the
 * route marks immutable is uploaded once per process: later sends reuse Telegram's file_id.
 */
import { InputFile, type Transformer } from "grammy";
import { isSyntheticChatId } from "../channels/types";

/** Answers a path of the app's HTTP routes (Hono's `app.request`). */
export type AppFileSource = (path: string) => Response | Promise<Response>;

let source: AppFileSource | undefined;

/** Set by the app once its routes are mounted. */
export function setAppFileSource(next: AppFileSource | undefined): void {
  source = next;
}

/** The bytes of an app path, for channels that upload them themselves (WhatsApp). */
export async function fetchAppFile(
  path: string,
): Promise<{ bytes: Uint8Array; mimeType: string; immutable: boolean }> {
  if (!source) throw new Error("app files are not available yet");
  const response = await source(path);
  if (!response.ok) throw new Error(`app file ${path} answered HTTP ${response.status}`);
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    mimeType: response.headers.get("content-type")?.split(";")[0] ?? "application/octet-stream",
    immutable: /\bimmutable\b/.test(response.headers.get("cache-control") ?? ""),
  };
}

/** "/polls/1/chart/ky.png": an app path, not a URL ("//host") nor a Telegram file_id. */
export function isAppPath(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//");
}

const FILE_FIELDS: Record<string, "photo" | "document"> = {
  sendPhoto: "photo",
  sendDocument: "document",
};

/** Telegram's file ids of immutable app files already uploaded (bounded, oldest out first). */
const uploaded = new Map<string, string>();
const MAX_REMEMBERED = 2000;

function remember(path: string, fileId: string): void {
  if (uploaded.size >= MAX_REMEMBERED) {
    const oldest = uploaded.keys().next().value;
    if (oldest !== undefined) uploaded.delete(oldest);
  }
  uploaded.set(path, fileId);
}

function fileIdOf(result: unknown, field: "photo" | "document"): string | undefined {
  if (!result || typeof result !== "object") return undefined;
  const value = (result as Record<string, unknown>)[field];
  const file = Array.isArray(value) ? value[value.length - 1] : value;
  const id = file && typeof file === "object" ? (file as { file_id?: unknown }).file_id : undefined;
  return typeof id === "string" ? id : undefined;
}

/** The API transformer that turns app paths into uploads on Telegram chats. */
export const appFilesTransformer: Transformer = async (prev, method, payload, signal) => {
  const field = FILE_FIELDS[method];
  const p = payload as Record<string, unknown>;
  const path = field ? p[field] : undefined;
  if (!field || !source || !isAppPath(path) || isSyntheticChatId(Number(p.chat_id))) {
    return prev(method, payload, signal);
  }
  const known = uploaded.get(path);
  if (known) return prev(method, { ...p, [field]: known } as typeof payload, signal);
  const response = await source(path);
  if (!response.ok) throw new Error(`app file ${path} answered HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const name = path.split("/").pop() || field;
  const file = new InputFile(bytes, name);
  const result = await prev(method, { ...p, [field]: file } as typeof payload, signal);
  const immutable = /\bimmutable\b/.test(response.headers.get("cache-control") ?? "");
  const fileId = result.ok ? fileIdOf(result.result, field) : undefined;
  if (immutable && fileId) remember(path, fileId);
  return result;
};
