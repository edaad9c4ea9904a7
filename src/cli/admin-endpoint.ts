/**
 * The running app's side of "the command line beside a running app" (src/cli/remote.ts is the
 * other side). PGlite must not be opened by two processes, so while the app holds an embedded
 * data folder, `npm run cli` sends its arguments here and the app runs the same command on its
 * own open database, returning what it printed and its exit code.
 *
 * Only for the same machine and only with the token the app wrote into the data folder's lock
 * file (readable by the folder's owner alone): whoever can read it could open the database
 * files anyway.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { Logger } from "../logger";
import type { CliFiles } from "./command";

export const CLI_ENDPOINT_PATH = "/admin/cli";
/** Files named on the command line travel in the request; together at most this much. */
export const MAX_CLI_REQUEST_BYTES = 64 * 1024 * 1024;

export interface CliOutputLine {
  stream: "out" | "err";
  line: string;
}

export interface RemoteCliResponse {
  exitCode: number;
  output: CliOutputLine[];
  /** Files the command wrote, by the path it was given, for the command line to save. */
  files: Record<string, string>;
}

const requestSchema = z.object({
  argv: z.array(z.string()).max(200),
  /** Files named on the command line, by the path as typed, as UTF-8 text. */
  files: z.record(z.string(), z.string()).default({}),
});

export interface CliRunIo {
  out(line: string): void;
  err(line: string): void;
  files: CliFiles;
}

export interface CliEndpointOptions {
  token: string;
  /** Runs one command line inside the app and returns its exit code. */
  run(argv: string[], io: CliRunIo): Promise<number>;
  logger: Logger;
}

/** Headers reverse proxies add; the command line never sends them. */
const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "via"];

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function sameToken(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export function cliEndpointRoutes(options: CliEndpointOptions): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  // One command at a time, as two command-line processes would wait for each other.
  let queue: Promise<unknown> = Promise.resolve();

  app.post(
    CLI_ENDPOINT_PATH,
    async (c, next) => {
      // No socket (an in-process request) or another machine: refused before anything else.
      // A reverse proxy on this machine connects over loopback too; what it forwards is not local.
      const proxied = PROXY_HEADERS.some((h) => c.req.header(h) !== undefined);
      if (proxied || !isLoopbackAddress(c.env?.incoming?.socket?.remoteAddress)) {
        return c.json({ error: "only from this machine" }, 403);
      }
      const header = c.req.header("authorization") ?? "";
      const match = /^Bearer (\S+)$/.exec(header);
      if (!match) {
        c.header("WWW-Authenticate", "Bearer");
        return c.json({ error: "token required" }, 401);
      }
      if (!sameToken(match[1]!, options.token)) return c.json({ error: "wrong token" }, 403);
      await next();
    },
    bodyLimit({
      maxSize: MAX_CLI_REQUEST_BYTES,
      onError: (c) => c.json({ error: "request too large" }, 413),
    }),
    async (c) => {
      const parsed = requestSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) return c.json({ error: "bad request" }, 400);
      const { argv, files: given } = parsed.data;
      const output: CliOutputLine[] = [];
      const written: Record<string, string> = {};
      const io: CliRunIo = {
        out: (line) => output.push({ stream: "out", line }),
        err: (line) => output.push({ stream: "err", line }),
        files: {
          async read(path) {
            const content = given[path];
            if (content === undefined) {
              throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), {
                code: "ENOENT",
              });
            }
            return content;
          },
          async write(path, content) {
            written[path] = content;
          },
        },
      };
      const run = queue.then(async () => {
        const started = performance.now();
        let exitCode: number;
        try {
          exitCode = await options.run(argv, io);
        } catch (error) {
          // What would have been a crash of the command line process: one line, and the log.
          options.logger.error({ err: error, command: argv.slice(0, 2) }, "command line failed");
          io.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
          exitCode = 1;
        }
        options.logger.info(
          { command: argv.slice(0, 2), exitCode, ms: Math.round(performance.now() - started) },
          "command line run in the app",
        );
        return exitCode;
      });
      queue = run.catch(() => {});
      const body: RemoteCliResponse = { exitCode: await run, output, files: written };
      return c.json(body);
    },
  );
  return app;
}
