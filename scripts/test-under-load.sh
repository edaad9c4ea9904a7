#!/usr/bin/env bash
# Runs the whole suite on PGlite and on PostgreSQL at the same time, with one CPU-burning process
# beside them, RUNS times in a row (default 5): the "passes on a busy 2-core machine" check.
# Usage: DATABASE_URL=postgres://… bash scripts/test-under-load.sh [RUNS]   (logs in /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server (UTF-8 cluster)}"
runs="${1:-5}"
node -e "for(;;){}" & burner=$!
trap 'kill $burner 2>/dev/null || true' EXIT
for i in $(seq 1 "$runs"); do
  env -u DATABASE_URL npx vitest run > "/tmp/under-load-pglite-$i.log" 2>&1 & pglite=$!
  pg_status=0; npx vitest run > "/tmp/under-load-pg-$i.log" 2>&1 || pg_status=$?
  pglite_status=0; wait "$pglite" || pglite_status=$?
  echo "run $i: PGlite exit $pglite_status, PostgreSQL exit $pg_status"
  [ "$pglite_status" = 0 ] && [ "$pg_status" = 0 ] || exit 1
done
