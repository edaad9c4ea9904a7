/**
 * npm run bench:startup [-- --runs 5]
 *
 * How long `npm start` (node scripts/start.mjs: the bundled app) takes from spawn to its first
 * `/healthz` 200, with nothing configured (embedded PGlite):
 * - cold: a newcomer right after `npm ci` — an empty data folder (the new-database template
 *   and the bundle are there, as npm's `prepare` left them) and an empty tsx cache (a fresh
 *   TMPDIR for the process: the tsx fallback and the command line compile from scratch);
 * - warm: the same data folder started again (a restart);
 * - rebuild: once, how long bundling src/ takes (the first start after a source edit pays it).
 * Each start is a fresh process; the app's own `start-up timings` line (ms per phase, `cpu` its
 * CPU time by then) is printed as medians. The machine is usually shared: the load average is
 * printed before and after. Last line: one JSON object.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { urlFrom } from "../tests/helpers/process";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

interface Start {
  ms: number;
  phases: Record<string, number>;
}

async function startOnce(dataDir: string, tmpDir: string): Promise<Start> {
  const started = performance.now();
  // What `npm start` execs (npm itself adds ~0.3 s of its own that the app cannot change).
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: ROOT,
    env: {
      ...process.env,
      TMPDIR: tmpDir,
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
      const url = urlFrom(out);
      if (url) {
        const ok = await fetch(`${url}healthz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) {
          const ms = performance.now() - started;
          const line = out.split("\n").find((l) => l.includes("start-up timings"));
          const phases = line ? (JSON.parse(line) as { startup: Record<string, number> }) : null;
          return { ms: Math.round(ms), phases: phases?.startup ?? {} };
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] ?? 0)
    : Math.round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

function medianPhases(starts: Start[]): Record<string, number> {
  const keys = [...new Set(starts.flatMap((s) => Object.keys(s.phases)))];
  return Object.fromEntries(
    keys.map((k) => [k, median(starts.map((s) => s.phases[k]).filter((v) => v !== undefined))]),
  );
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`;
console.log(`machine: ${machine}; load before: ${load()}`);

// The bundle and template as `npm ci` leaves them (a no-op when they are current).
const prepare = spawnSync(process.execPath, ["scripts/start.mjs", "--prepare"], {
  cwd: ROOT,
  stdio: "inherit",
});
if (prepare.status !== 0) throw new Error("node scripts/start.mjs --prepare failed");
const rebuildStarted = performance.now();
const rebuild = spawnSync(process.execPath, ["scripts/start.mjs", "--build"], {
  cwd: ROOT,
  stdio: "inherit",
});
if (rebuild.status !== 0) throw new Error("node scripts/start.mjs --build failed");
const rebuildMs = Math.round(performance.now() - rebuildStarted);
console.log(`rebuild (bundling src/ after an edit, node start included): ${rebuildMs} ms`);

const cold: Start[] = [];
const warm: Start[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(os.tmpdir(), "aimak-startup-"));
  try {
    cold.push(await startOnce(join(dir, "data"), mkdtempSync(join(dir, "tmp-"))));
    warm.push(await startOnce(join(dir, "data"), os.tmpdir()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`run ${i + 1}: cold ${cold.at(-1)?.ms} ms, warm ${warm.at(-1)?.ms} ms`);
}
const coldPhases = medianPhases(cold);
const warmPhases = medianPhases(warm);
console.log(`cold phases (median ms): ${JSON.stringify(coldPhases)}`);
console.log(`warm phases (median ms): ${JSON.stringify(warmPhases)}`);
console.log(`load after: ${load()}`);
console.log(
  JSON.stringify({
    cold_median_ms: median(cold.map((s) => s.ms)),
    warm_median_ms: median(warm.map((s) => s.ms)),
    cold_ms: cold.map((s) => s.ms),
    warm_ms: warm.map((s) => s.ms),
    rebuild_ms: rebuildMs,
    cold_phases: coldPhases,
    warm_phases: warmPhases,
    machine,
    load: load(),
  }),
);
