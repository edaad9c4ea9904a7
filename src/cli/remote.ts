/**
 * The command line's side of running beside the app on an embedded data folder: instead of
 * opening the folder (which PGlite does not survive), it asks the app that holds it to run the
 * command (src/cli/admin-endpoint.ts), prints what came back and exits with the same code.
 * Anything that keeps that from working ends in one sentence, never a database crash.
 */
import { statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import type { LockInfo } from "../db/data-dir-lock";
import { CLI_ENDPOINT_PATH, type RemoteCliResponse } from "./admin-endpoint";

/** Leaves room in the app's request limit for the JSON around the files. */
const MAX_FILE_BYTES = 48 * 1024 * 1024;

export interface RemoteIo {
  out(line: string): void;
  err(line: string): void;
}

/** Runs argv in the app that holds `dir`; returns the exit code to use. */
export async function runInApp(
  holder: LockInfo,
  dir: string,
  argv: string[],
  io: RemoteIo,
): Promise<number> {
  const stop = "stop it (Ctrl-C) and run the command again";
  if (!holder.http || !holder.token) {
    io.err(
      `The app is starting on the data folder ${dir} (pid ${holder.pid}); try again in a few seconds.`,
    );
    return 1;
  }
  let files: Record<string, string>;
  try {
    files = await filesNamedIn(argv);
  } catch (error) {
    if (!(error instanceof TooLargeError)) throw error;
    io.err(
      `${error.path} is too large to send to the app running on ${dir} (pid ${holder.pid}); ${stop}.`,
    );
    return 1;
  }
  const url = `http://${connectHost(holder.http.host)}:${holder.http.port}${CLI_ENDPOINT_PATH}`;
  let answer: { status: number; body: string };
  try {
    answer = await post(url, holder.token, JSON.stringify({ argv, files }));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    io.err(
      `The app (pid ${holder.pid}) holds the data folder ${dir} but did not answer at ${url} (${reason}); ${stop}.`,
    );
    return 1;
  }
  if (answer.status !== 200) {
    io.err(
      `The app (pid ${holder.pid}) holds the data folder ${dir} and refused to run the command (HTTP ${answer.status}); ${stop}.`,
    );
    return 1;
  }
  let result: RemoteCliResponse;
  try {
    result = JSON.parse(answer.body) as RemoteCliResponse;
  } catch {
    io.err(`What answered at ${url} is not the app holding ${dir} (pid ${holder.pid}); ${stop}.`);
    return 1;
  }
  for (const { stream, line } of result.output) (stream === "out" ? io.out : io.err)(line);
  // Only files this command line named: the answer cannot make it write anywhere else.
  for (const [path, content] of Object.entries(result.files)) {
    if (argvPaths(argv).includes(path)) writeFileSync(path, content);
  }
  return result.exitCode;
}

/** An address this machine can reach the server on, given the address it listens on. */
function connectHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::" || host === "::1") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

class TooLargeError extends Error {
  constructor(readonly path: string) {
    super(`${path} is too large`);
  }
}

/** Every argument (or --flag=value) that could be a path. */
function argvPaths(argv: readonly string[]): string[] {
  return argv.map((a) => (a.startsWith("--") && a.includes("=") ? a.slice(a.indexOf("=") + 1) : a));
}

/** The files named on the command line, read here: the app may not see this folder at all. */
async function filesNamedIn(argv: readonly string[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of argvPaths(argv)) {
    let size: number;
    try {
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      size = stat.size;
    } catch {
      continue;
    }
    if (size > MAX_FILE_BYTES) throw new TooLargeError(path);
    files[path] = await readFile(path, "utf8");
  }
  return files;
}

/** node:http rather than fetch: an import can take longer than fetch's default time limits. */
function post(url: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
