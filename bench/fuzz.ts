/**
 * npm run fuzz [-- --seed N --updates N --requests N] — 10,000 random and malformed updates
 * through the real HTTP Telegram webhook and 10,000 random requests to the web chat endpoints,
 * against the whole app (PGlite in a temp folder, or a fresh database on DATABASE_URL's server).
 * Prints progress and samples of what went wrong on stderr; the last line on stdout is one JSON
 * object: {"updates","requests","crashes","unhandled_rejections","http_5xx","rss_growth_mb",…}.
 * Run with node's --expose-gc (the npm script does) so memory is compared after collection.
 */
import { parseArgs } from "node:util";
import { runFuzz } from "./fuzz/run";
import { machineLine } from "./lib/machine";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    updates: { type: "string", default: "10000" },
    requests: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "8" },
  },
});

const started = performance.now();
const result = await runFuzz({
  seed: Number(values.seed),
  updates: Number(values.updates),
  requests: Number(values.requests),
  concurrency: Number(values.concurrency),
  progress: (line) => process.stderr.write(`${line}\n`),
});
const { samples, statuses, ...numbers } = result;
for (const sample of samples) process.stderr.write(`${sample}\n`);
process.stderr.write(`statuses: ${JSON.stringify(statuses)}\n`);
console.log(machineLine());
console.log(
  JSON.stringify({
    ...numbers,
    database: process.env.DATABASE_URL ? "postgres" : "pglite",
    seconds: Math.round((performance.now() - started) / 1000),
  }),
);
// Keep-alive sockets and the like must not keep a finished run waiting.
process.exit(0);
