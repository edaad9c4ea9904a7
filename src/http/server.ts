import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Logger } from "../logger";

export interface HealthProbe {
  database: () => Promise<void>;
  details: () => Record<string, unknown>;
}

/** /healthz: 200 with the database state, 503 when the database does not answer. */
export function healthRoutes(probe: HealthProbe): Hono {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const started = performance.now();
    try {
      await Promise.race([
        probe.database(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("database timeout")), 3000)),
      ]);
      const ms = Math.round(performance.now() - started);
      return c.json({
        status: "ok",
        database: { status: "up", latencyMs: ms },
        ...probe.details(),
      });
    } catch (error) {
      return c.json(
        {
          status: "error",
          database: { status: "down", error: (error as Error).message },
          ...probe.details(),
        },
        503,
      );
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
