#!/usr/bin/env bash
# bench/cold_read.sh: query latency of the memory tier vs the cold tier
# (Parquet objects on file://, read by ext/cold_read.c) on the same rows.
# Not a test: prints a small table.  Usage:
#   bench/cold_read.sh [ROWS_PER_SERIES] [SERIES]      (default 10000 x 100 = 1M rows)
# Data: SERIES hosts (dimensions host, region), one row per 30 s per host,
# measures v DOUBLE, n BIGINT; the clock pinned after the last row, so
# ts_maintain tiers every row older than memory_retention = 1h.  Figures are
# CPU time (the machine may be shared; wall time is not reliable there).
set -eu
cd "$(dirname "$0")/.."
N=${1:-10000}; S=${2:-100}
B=${BENCH_BUILD:-build}
W=$(mktemp -d /tmp/tslite-coldread-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
DB="$W/x.db"
T0=1714521600000000000
TEND=$((T0 + N*30000000000))
NOW=$(( (TEND + 3600000000000) / 1000000000 ))
SETNOW=".output /dev/null
SELECT ts_debug_set_now($NOW*1000000000);
.output stdout"
q() { printf '%s\n' "$@" | sqlite3 -bail -cmd ".load $B/tslite" "$DB"; }
q "$SETNOW" "CREATE VIRTUAL TABLE cpu USING timeseries(host DIMENSION, region DIMENSION,
    v DOUBLE, n BIGINT, memory_retention='1h', magnetic_writes=true);
  WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i<$N-1),
    h(k) AS (SELECT 0 UNION ALL SELECT k+1 FROM h WHERE k<$S-1)
  INSERT INTO cpu(time, host, region, v, n)
    SELECT $T0 + i*30000000000, 'host_'||k, 'r'||(k%5), (i%1000)*0.25, i*k FROM r, h;" >/dev/null
MID=$((T0 + N*15000000000))
QUERIES=(
  "full scan: count, sum|SELECT count(*), sum(v), sum(n) FROM cpu"
  "one series, all rows|SELECT count(*), sum(v) FROM cpu WHERE host='host_7'"
  "one series, 1 h range|SELECT count(*), sum(v) FROM cpu WHERE host='host_7' AND time BETWEEN $MID AND $MID+3600000000000"
  "all series, 1 h range|SELECT count(*), sum(v) FROM cpu WHERE time BETWEEN $MID AND $MID+3600000000000"
  "GROUP BY host, 1 h bins|SELECT count(*) FROM (SELECT host, bin(time,'1h'), avg(v) FROM cpu GROUP BY 1, 2)"
  "ORDER BY time DESC LIMIT 10|SELECT count(*) FROM (SELECT * FROM cpu ORDER BY time DESC LIMIT 10)"
)
run() {   # median of 5 runs: CPU ms (user+sys) of the sqlite3 process
  local sql=$1 i ts=()
  for i in 1 2 3 4 5; do
    q "$SETNOW" "$sql;" 2>/dev/null >/dev/null
    ts+=($(printf '%s\n' "$SETNOW" "$sql;" | /usr/bin/time -f '%U %S' sqlite3 -bail -cmd ".load $B/tslite" "$DB" 2>&1 >/dev/null | tail -1 | awk '{ printf "%d", ($1+$2)*1000 }'))
  done
  printf '%s\n' "${ts[@]}" | sort -n | sed -n 3p
}
# The process start and .load cost, subtracted from every figure.
BASE=$(run "SELECT 1")
declare -A MEM
for e in "${QUERIES[@]}"; do MEM["${e%%|*}"]=$(( $(run "${e#*|}") - BASE )); done
CHK1=$(q "$SETNOW" "SELECT count(*), sum(v), sum(n) FROM cpu;")
A=$(date +%s%N)
q "$SETNOW" "SELECT ts_maintain('cpu');" >/dev/null
Z=$(date +%s%N)
CHK2=$(q "$SETNOW" "SELECT count(*), sum(v), sum(n) FROM cpu;")
COLD=$(q "$SETNOW" "SELECT total(nrow), count(*), total(nbyte) FROM cpu_objects;")
echo "rows: $((N*S)) ($S series x $N); ts_maintain: $(( (Z-A)/1000000 )) ms; cold rows|objects|bytes: $COLD"
[ "$CHK1" = "$CHK2" ] && echo "checksum before = after ts_maintain: $CHK1" || echo "CHECKSUM DIFFERS: $CHK1 vs $CHK2"
printf '| query | memory CPU ms | cold CPU ms | cold/memory |\n|---|---:|---:|---:|\n'
for e in "${QUERIES[@]}"; do
  name=${e%%|*}; c=$(( $(run "${e#*|}") - BASE )); m=${MEM[$name]}
  printf '| %s | %d | %d | %s |\n' "$name" "$m" "$c" "$(awk -v a="$c" -v b="$m" 'BEGIN{ if(b<1) b=1; printf "%.1fx", a/b }')"
done
echo "(CPU time user+sys, median of 5 runs of a fresh sqlite3 process each, minus ${BASE} ms for start-up and .load; 10 ms resolution)"
