import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { databaseUnavailableCode } from "../db/errors";
import type { Logger } from "../logger";

export interface HealthProbe {
  database: () => Promise<void>;
  details: () => Record<string, unknown>;
}

/** How long /healthz waits for the database: a load balancer's probe must get an answer fast. */
export const HEALTH_DB_TIMEOUT_MS = 2000;

/** Why the database counts as down, in words an operator reads in a probe's output. */
function downReason(error: unknown, timedOut: boolean): string {
  if (timedOut) return `the database did not answer within ${HEALTH_DB_TIMEOUT_MS} ms`;
  const code = databaseUnavailableCode(error);
  if (code) return `the database is unreachable (${code})`;
  // Not a connection failure: the driver's own words, without any query parameters.
  const e = error as { code?: unknown; name?: unknown };
  return `the database query failed (${String(e.code ?? e.name ?? "error")})`;
}

/**
 * /healthz: 200 with the database state; 503 with `reason` when the database does not answer
 * (at once when it refuses connections, after HEALTH_DB_TIMEOUT_MS when it hangs).
 */
export function healthRoutes(probe: HealthProbe): Hono {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      await Promise.race([
        probe.database(),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error("database timeout"));
          }, HEALTH_DB_TIMEOUT_MS);
        }),
      ]);
      const ms = Math.round(performance.now() - started);
      return c.json({
        status: "ok",
        database: { status: "up", latencyMs: ms },
        ...probe.details(),
      });
    } catch (error) {
      const reason = downReason(error, timedOut);
      return c.json(
        {
          status: "error",
          reason,
          database: { status: "down", error: reason },
          ...probe.details(),
        },
        503,
        { "cache-control": "no-store" },
      );
    } finally {
      clearTimeout(timer);
    }
  });
  return app;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export function startHttpServer(
  app: Hono,
  host: string,
  port: number,
  logger: Logger,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType | undefined;
    try {
      server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
        logger.info({ url: `http://${host}:${info.port}/` }, "http server listening");
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              // Open event streams would keep the server alive forever; cut them.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              server?.close(() => done());
            }),
        });
      });
      server.on("error", reject);
    } catch (error) {
      reject(error);
    }
  });
}
