#!/usr/bin/env bash
# ts_unload CSV against `sqlite3 -csv` of the same query on the same rows
# (issue 12's bar: at least as fast).  Builds two 3M-row plain tables in
# $DIR (default /tmp/tslite-unload-bench): "short" holds 2-3 decimal REALs
# (typical metrics), "full" full-precision REALs (17 significant digits,
# the slow case of lossless double text).  Prints wall and CPU seconds of
# each run; CSV is compressed with gzip (ts_unload's default) and not.
#   bench/unload_csv.sh [ROWS]      (default 3000000)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXT=${TS_EXT:-$ROOT/build/tslite}
N=${1:-3000000}
DIR=${DIR:-/tmp/tslite-unload-bench}
mkdir -p "$DIR"
cd "$DIR"
for kind in short full; do
  db=$kind.db
  if [ ! -f "$db" ]; then
    if [ $kind = short ]; then u="round((i%1000)/10.0+0.05,2)"; s="round((i%777)*0.013,3)";
    else u="(i%1000)/10.0+0.05"; s="(i%777)*0.013"; fi
    sqlite3 "$db" "CREATE TABLE t(time INTEGER, host TEXT, region TEXT, usage_user REAL, usage_system REAL, n INTEGER);
      WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<$N-1)
      INSERT INTO t SELECT 1714564800000000000+i*1000000000, 'host_'||(i%100), 'eu-west-'||(i%3), $u, $s, i FROM c;"
  fi
  cat "$db" > /dev/null
  /usr/bin/time -f "$kind: sqlite3 -csv > file:        %e s wall, %U s user, %S s sys" \
    sqlite3 -csv "$db" "SELECT * FROM t" > sqlite3.csv
  rm -rf out; /usr/bin/time -f "$kind: ts_unload csv, none:     %e s wall, %U s user, %S s sys" \
    sqlite3 "$db" ".load $EXT" "SELECT ts_unload('SELECT * FROM t', 'out/', '{\"compression\":\"none\"}')" > /dev/null
  if cmp -s sqlite3.csv out/results/*.csv; then echo "$kind: ts_unload output is byte-identical to sqlite3 -csv"; fi
  rm -rf out; /usr/bin/time -f "$kind: ts_unload csv, gzip:     %e s wall, %U s user, %S s sys" \
    sqlite3 "$db" ".load $EXT" "SELECT ts_unload('SELECT * FROM t', 'out/')" > /dev/null
  echo "$kind: gzip file $(stat -c %s out/results/*.gz) bytes, csv $(stat -c %s sqlite3.csv) bytes"
done
