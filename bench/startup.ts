/**
 * npm run bench:startup [-- --runs 3]
 *
 * How long `npm start`'s command (node --import tsx src/main.ts) takes from spawn to its first
 * `/healthz` 200, with nothing configured (embedded PGlite): "cold" on an empty data folder
 * (migrations, the municipal directory, the FAQ), "warm" on the same folder again. Each run is a
 * fresh process; the app logs where its own start went (`start-up timings`, when it does). The
 * last line printed is one JSON object: {"cold_ms": […], "warm_ms": […], "machine": "…"}.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 3);

async function startOnce(dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: "",
      BOT_TOKEN: "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the app exited (${child.exitCode}):\n${out}`);
      const line = out.split("\n").find((l) => l.includes("aimak is running"));
      const url = line ? (JSON.parse(line) as { url: string }).url : undefined;
      if (url) {
        const ok = await fetch(`${url}healthz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) return performance.now() - started;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

const cold: number[] = [];
const warm: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(os.tmpdir(), "aimak-startup-"));
  try {
    cold.push(Math.round(await startOnce(dir)));
    warm.push(Math.round(await startOnce(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`run ${i + 1}: cold ${cold.at(-1)} ms, warm ${warm.at(-1)} ms`);
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, load ${os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(" ")}`;
console.log(JSON.stringify({ cold_ms: cold, warm_ms: warm, machine }));
