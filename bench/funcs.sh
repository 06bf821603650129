#!/bin/sh
# bench/funcs.sh: timing of the time-series aggregates over 1M rows (run by
# `make bench`; needs build/tslite.so and the sqlite3 shell; builds nothing).
# Prints a markdown table: query, wall seconds (best of 3), rows/s.
# Usage: bench/funcs.sh [ROWS]   (default 1000000)
set -eu
cd "$(dirname "$0")/.."
N=${1:-1000000}
EXT=${TS_EXT:-build/tslite}
[ -f "$EXT.so" ] || { echo "bench/funcs.sh: $EXT.so not built (run make)"; exit 1; }
DB=$(mktemp /tmp/tslite-bench-funcs-XXXXXX.db)
trap 'rm -f "$DB"' EXIT INT TERM
# 1M rows: 1000 series (host) x 1000 points, one per second, pseudo-random REAL values.
sqlite3 "$DB" "
CREATE TABLE m(host INTEGER, time INTEGER, v REAL);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<$N-1)
INSERT INTO m SELECT i % 1000, 1700000000000000000 + (i / 1000) * 1000000000,
  ((i * 2654435761) % 1000003) / 10000.0 FROM c;"

now() { date +%s.%N; }
run() { # label, sql: best wall time of 3 runs
  best=""
  for k in 1 2 3; do
    t0=$(now)
    sqlite3 -cmd ".load $EXT" "$DB" "$2" > /dev/null
    t1=$(now)
    best=$(awk -v a="$t1" -v b="$t0" -v c="$best" 'BEGIN{d=a-b; if(c==""||d<c) c=d; printf "%.3f", c}')
  done
  printf '| %s | %s | %s |\n' "$1" "$best" "$(awk -v n="$N" -v s="$best" 'BEGIN{printf "%.1fM", n/s/1e6}')"
}

echo "### tslite functions over $N rows ($(sqlite3 --version | cut -d' ' -f1), $(uname -m))"
echo
echo "| query | seconds (best of 3) | rows/s |"
echo "|---|---|---|"
run "baseline: avg(v)" "SELECT avg(v) FROM m"
run "approx_percentile(v, 0.99)" "SELECT approx_percentile(v, 0.99) FROM m"
run "approx_percentile(v, 0.5) GROUP BY host (1000 groups)" "SELECT host, approx_percentile(v, 0.5) FROM m GROUP BY host"
run "approx_distinct(v)" "SELECT approx_distinct(v) FROM m"
run "baseline: count(DISTINCT v)" "SELECT count(DISTINCT v) FROM m"
run "create_time_series(time, v), one 1M-point series" "SELECT length(create_time_series(time, v)) FROM m"
run "create_time_series GROUP BY host (1000 x 1000 points)" "SELECT host, length(create_time_series(time, v)) FROM m GROUP BY host"
run "interpolate_linear per host on a 500ms grid" "SELECT host, length(interpolate_linear(create_time_series(time, v), sequence(min(time), max(time), '500ms'))) FROM m GROUP BY host"
