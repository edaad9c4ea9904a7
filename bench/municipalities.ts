/**
 * npm run bench:municipalities — typo-tolerant municipality search over the whole shipped
 * directory (src/features/municipalities/data/kyrgyzstan.json), seeded into PGlite through the
 * real import, queried through searchMunicipalities (the service's in-memory index).
 *
 * Queries are the directory's own names, Kyrgyz or Russian, each bent the way people type:
 * a dropped or doubled letter, two letters swapped, ө/ү/ң typed as о/у/н, no hyphen, Latin
 * letters, a Kyrgyz case ending, "айыл аймагы" after it. Prints latency percentiles and how
 * often the intended unit came first and within the six hits the bot shows.
 * BENCH_MUNICIPALITY_QUERIES sets the number of queries (default 400).
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { openDatabase } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import {
  countDirectory,
  searchMunicipalities,
  seedDemoDirectory,
} from "../src/features/municipalities/service";
import { shippedDirectory } from "../tests/helpers/directory";
import { machineLine, percentile } from "./lib/machine";
import { rng } from "./lib/random";

const QUERIES = Number(process.env.BENCH_MUNICIPALITY_QUERIES ?? 400);

const LATIN: Record<string, string> = {
  а: "a",
  б: "b",
  в: "v",
  г: "g",
  д: "d",
  е: "e",
  ё: "yo",
  ж: "zh",
  з: "z",
  и: "i",
  й: "y",
  к: "k",
  л: "l",
  м: "m",
  н: "n",
  ң: "ng",
  о: "o",
  ө: "o",
  п: "p",
  р: "r",
  с: "s",
  т: "t",
  у: "u",
  ү: "u",
  ф: "f",
  х: "kh",
  ц: "ts",
  ч: "ch",
  ш: "sh",
  щ: "sch",
  ъ: "",
  ы: "y",
  ь: "",
  э: "e",
  ю: "yu",
  я: "ya",
};

/** One way people mistype a name; each returns the bent text. */
const BENDS: Array<(name: string, random: () => number) => string> = [
  (s, r) => {
    // Drop a letter (not the first).
    const i = 1 + Math.floor(r() * (s.length - 1));
    return s.slice(0, i) + s.slice(i + 1);
  },
  (s, r) => {
    // Swap two neighbouring letters.
    const i = 1 + Math.floor(r() * (s.length - 2));
    return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
  },
  (s, r) => {
    // Double a letter.
    const i = Math.floor(r() * s.length);
    return s.slice(0, i) + s[i] + s.slice(i);
  },
  (s) => s.replace(/ө/g, "о").replace(/ү/g, "у").replace(/ң/g, "н").toLowerCase(),
  (s) => s.replace(/-/g, "").toLowerCase(),
  (s) => [...s.toLowerCase()].map((c) => LATIN[c] ?? c).join(""),
  (s) => `${s}дан`,
  (s) => `${s} айыл аймагы`,
];

async function main() {
  console.log(
    `${machineLine()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const random = rng(20260712);
  const { municipalities } = shippedDirectory();
  const queries: Array<{ text: string; code: string }> = [];
  for (let i = 0; i < QUERIES; i++) {
    const m = municipalities[Math.floor(random() * municipalities.length)]!;
    const name = random() < 0.6 ? m.name_ky : m.name_ru;
    const bend = BENDS[i % BENDS.length]!;
    queries.push({ text: bend(name, random), code: m.code });
  }

  const handle = await openDatabase({});
  try {
    await migrate(handle.db);
    const t0 = performance.now();
    await seedDemoDirectory(handle.db);
    const seedMs = performance.now() - t0;
    const t1 = performance.now();
    await searchMunicipalities(handle.db, "Сокулук");
    const cacheMs = performance.now() - t1;
    const counts = await countDirectory(handle.db);
    console.log(
      `PGlite: ${counts.regions} regions, ${counts.districts} districts, ${counts.municipalities} municipalities; ` +
        `import ${seedMs.toFixed(0)} ms, first search (builds the index) ${cacheMs.toFixed(1)} ms`,
    );
    for (const q of queries.slice(0, 20)) await searchMunicipalities(handle.db, q.text);
    const times: number[] = [];
    // CPU time as well as wall time: on a shared two-core box the wall-clock tail mostly
    // measures waiting for a core.
    const cpuBefore = process.cpuUsage();
    let first = 0;
    let shown = 0;
    for (const q of queries) {
      const s = performance.now();
      const hits = await searchMunicipalities(handle.db, q.text);
      times.push(performance.now() - s);
      const codes = hits.map((h) => h.municipality.code);
      if (codes[0] === q.code) first++;
      if (codes.includes(q.code)) shown++;
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000 / queries.length;
    times.sort((a, b) => a - b);
    const pct = (n: number) => `${((100 * n) / queries.length).toFixed(1)}%`;
    console.log(
      `${queries.length} searches with typos: p50 ${percentile(times, 50).toFixed(2)} ms, ` +
        `p95 ${percentile(times, 95).toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms, ` +
        `CPU ${cpuMs.toFixed(2)} ms per search; ` +
        `intended unit first ${pct(first)}, among the 6 shown ${pct(shown)} ` +
        "(namesakes such as the six Кара-Суу cap the first figure)",
    );
  } finally {
    await handle.close();
  }
}

await main();
