import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Budgets that hold on a busy 2-core machine: a whole app on a fresh PGlite database (the
    // migrations, the country's directory) starts in a few seconds alone, took 38 s beside other
    // test runs, and over 150 s with two suites and two CPU burners at once (load average 20).
    // Waits inside tests are on conditions, so these only bound how long a failing test hangs;
    // a passing one never uses them up.
    testTimeout: 240_000,
    hookTimeout: 300_000,
    // expect.poll gives up after 1 s by default: far too short on a busy 2-core machine, where a
    // reply the app sends in 50 ms alone can take seconds. A passing poll never waits this long.
    expect: { poll: { timeout: 15_000 } },
    pool: "forks",
    // PGlite instances are memory-hungry WASM; two workers match the 2-core target machine.
    maxWorkers: 2,
  },
});
