#!/usr/bin/env bash
# make bench: the TSBS-style side-by-side benchmark of tslite, plain SQLite and
# DuckDB (docs/benchmarks.md).  `make bench` builds the extension first.
#
# Knobs (environment):
#   SCALE=H,D          hosts and days (default 100,3; "HxD" also accepted)
#   BENCH_QUICK=1      tiny run for tests: 10 hosts x 1 day, 3/2 instances
#   BENCH_SEED=N       generator and query seed (default 123)
#   BENCH_VARIANTS     data variants (default "tsbs-int real-float")
#   BENCH_SYSTEMS      systems (default "tslite tslite-native sqlite duckdb";
#                      tslite-native = the tslite database queried in the
#                      native timeseries_agg form docs/sql-reference.md teaches,
#                      and with tslite-cold also tslite-cold-native)
#   BENCH_INSTANCES=L,H query instances per light / heavy type (default 20,10)
#   BENCH_BUDGET=S     seconds of timed instances per type and system (default 60)
#   BENCH_COLD=0       skip "tslite-cold" (all but the last 6 h tiered to Parquet
#                      by ts_maintain before the queries; runs when available)
#                      and "duckdb-lake" (DuckDB's read_parquet over those
#                      objects, all rows tiered first; needs duckdb too)
#   BENCH_POSTINDEX=1  also load plain SQLite with the index built afterwards
#                      (default 1 except in quick mode)
#   BENCH_BUILD=DIR    build directory holding tslite.so (default build)
#   BENCH_PRELOAD=LIB  LD_PRELOAD for the tslite runs (libasan for build/asan)
#   BENCH_WORK=DIR     data files and databases (default bench/data)
#   BENCH_OUT=FILE     result JSON (default bench/results/<UTC time>.json)
#   BENCH_BATCH=0      do not run bench/batch_load.py (the batch-load line)
#   BENCH_FUNCS=0      do not run bench/funcs.sh (the SQL functions benchmark)
#   BENCH_COLD_CACHE=0 do not run bench/cold_cache.mjs (cold queries on s3rver
#                      through the local cache vs file://; default: run it,
#                      except with BENCH_QUICK=1)
#                      (BENCH_COLD=1 makes tslite-cold a requested system)
#   BENCH_BACKUP=0     do not run bench/backup_bench.mjs (ts_backup / ts_restore
#                      throughput, incremental bytes after 1% new rows)
#   BENCH_BACKUP_SYSTEMS stores for it (default "file s3rver"; one that cannot
#                      run fails the bench); BENCH_BACKUP_ROWS rows (1,000,000)
# Exit status: non-zero if a system failed, any checksum differs, or a system
# in BENCH_SYSTEMS (an unknown name included) was skipped; name fewer systems
# in BENCH_SYSTEMS to leave one out on purpose.
set -u
cd "$(dirname "$0")/.."
T0=$(date +%s.%N)

B=${BENCH_BUILD:-build}
WORK=${BENCH_WORK:-bench/data}
SEED=${BENCH_SEED:-123}
SCALE=${SCALE:-100,3}
INSTANCES=${BENCH_INSTANCES:-20,10}
POSTINDEX=${BENCH_POSTINDEX:-1}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  SCALE=${BENCH_QUICK_SCALE:-10,1}
  INSTANCES=${BENCH_INSTANCES:-3,2}
  POSTINDEX=${BENCH_POSTINDEX:-0}
fi
VARIANTS=${BENCH_VARIANTS:-tsbs-int real-float}
SYSTEMS=${BENCH_SYSTEMS:-tslite tslite-native sqlite duckdb}
BUDGET=${BENCH_BUDGET:-60}
SCALE=${SCALE/x/,}
HOSTS=${SCALE%%,*}
DAYS=${SCALE#*,}
NLIGHT=${INSTANCES%%,*}
NHEAVY=${INSTANCES#*,}
case "$HOSTS$DAYS" in *[!0-9.]*|"") echo "bench: SCALE must be HOSTS,DAYS (got '$SCALE')" >&2; exit 2;; esac
mkdir -p "$WORK" bench/results
OUT=${BENCH_OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ).json}
RUN="$WORK/run-$$.jsonl"
: >"$RUN"
ERRLOG="$WORK/run-$$.err"

# The bench programs: same warning flags as the main build.
make -s -f bench/Makefile B="$B" || exit 2
CFLAGS_USED="-std=gnu11 -O2 -Wall -Wextra -Werror"
GEN="$B/bench/tsbs_gen"
SQLB="$B/bench/sqlbench"
# The C runner as used for tslite; BENCH_PRELOAD (the test runner's libasan
# path) is preloaded so an ASan build of the extension can be loaded.
TSL=(env ${BENCH_PRELOAD:+LD_PRELOAD=$BENCH_PRELOAD} "$SQLB")

json_str() { # a JSON string literal of $1 (quotes, backslashes, control chars)
  printf '%s' "$1" | tr '\n\t' '  ' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/"/'
}
NSKIPPED=""
note_skip() { # system reason
  echo "bench: SKIP $1: $2" >&2
  NSKIPPED="$NSKIPPED $1"
  printf '{"phase":"skip","system":"%s","reason":%s}\n' "$1" "$(json_str "$2")" >>"$RUN"
}
# run SYSTEM WHAT VARIANT cmd...: runs one measured process; on failure records
# an error line (with the tail of its stderr) and returns 1.
run() {
  local sys=$1 what=$2 variant=$3; shift 3
  echo "bench: $sys $what ($variant)" >&2
  "$@" 2>"$ERRLOG"
  local st=$?
  if [ "$st" -ne 0 ]; then
    local msg
    msg=$(grep -v '^  ' "$ERRLOG" | tail -n 5)
    [ -n "$msg" ] || msg="exit status $st (no message)"
    echo "bench: FAILED $sys $what ($variant): $msg" >&2
    printf '{"phase":"error","system":"%s","what":"%s","variant":"%s","reason":%s}\n' \
      "$sys" "$what" "$variant" "$(json_str "$msg")" >>"$RUN"
    return 1
  fi
  cat "$ERRLOG" >&2
}

# Which systems can run here.
want() { case " $SYSTEMS " in *" $1 "*) return 0;; esac; return 1; }
for s in $SYSTEMS; do
  case "$s" in tslite|tslite-native|sqlite|duckdb) ;;
    *) echo "bench: unknown system '$s' in BENCH_SYSTEMS (known: tslite tslite-native sqlite duckdb)" >&2; exit 2;; esac
done
HAVE_TSLITE=0 HAVE_DUCKDB=0 HAVE_COLD=0
if want tslite || want tslite-native; then
  if [ ! -e "$B/tslite.so" ]; then
    note_skip tslite "$B/tslite.so is not built (run make)"
  elif why=$("${TSL[@]}" probe -x "$B/tslite" 2>&1); then
    HAVE_TSLITE=1
    if [ "${BENCH_COLD:-1}" = 1 ]; then
      if why=$("${TSL[@]}" probe -x "$B/tslite" -C /tmp 2>&1); then HAVE_COLD=1
      elif [ "${BENCH_COLD:-}" = 1 ]; then note_skip tslite-cold "$why"
      else echo "bench: tslite-cold not available (BENCH_COLD=1 requires it): $why" >&2; fi
    fi
  else
    note_skip tslite "$why"
  fi
fi
if want duckdb; then
  if ! command -v node >/dev/null; then
    note_skip duckdb "node is not installed"
  elif [ ! -d node_modules/@duckdb/node-api ]; then
    note_skip duckdb "node_modules/@duckdb/node-api is missing (run npm ci)"
  elif why=$(node bench/duckdb.mjs probe 2>&1); then
    HAVE_DUCKDB=1
  else
    note_skip duckdb "@duckdb/node-api does not load: $why"
  fi
fi

QFILE="$WORK/queries-h$HOSTS-d$DAYS-s$SEED-n$NLIGHT-$NHEAVY.txt"
if [ ! -s "$QFILE" ] || [ "$GEN" -nt "$QFILE" ]; then
  "$GEN" queries -o "$QFILE" -H "$HOSTS" -D "$DAYS" -s "$SEED" -n "$NLIGHT" -N "$NHEAVY" || exit 2
fi

for variant in $VARIANTS; do
  DATA="$WORK/cpu-$variant-h$HOSTS-d$DAYS-s$SEED.bin"
  # Generated once (never timed); regenerated when the generator changes.
  if [ ! -s "$DATA" ] || [ "$GEN" -nt "$DATA" ]; then
    echo "bench: generating $DATA" >&2
    "$GEN" data -o "$DATA.tmp" -v "$variant" -H "$HOSTS" -D "$DAYS" -s "$SEED" && mv "$DATA.tmp" "$DATA" || exit 2
  fi
  if want sqlite; then
    db="$WORK/sqlite-$variant.db"
    run sqlite load "$variant" "$SQLB" load -t sqlite -l "$variant" -d "$DATA" -f "$db" -o "$RUN" &&
      run sqlite query "$variant" "$SQLB" query -t sqlite -l "$variant" -q "$QFILE" -f "$db" -o "$RUN" -b "$BUDGET"
    rm -f "$db" "$db-wal" "$db-shm"
    if [ "$POSTINDEX" = 1 ] && [ "$variant" = tsbs-int ]; then
      run sqlite-postindex load "$variant" "$SQLB" load -t sqlite -P -l "$variant" -d "$DATA" -f "$db" -o "$RUN"
      rm -f "$db" "$db-wal" "$db-shm"
    fi
  fi
  if [ "$HAVE_TSLITE" = 1 ]; then
    db="$WORK/tslite-$variant.db"
    rm -rf "$db.tslite"
    if run tslite load "$variant" "${TSL[@]}" load -t tslite -x "$B/tslite" -l "$variant" -d "$DATA" -f "$db" -o "$RUN"; then
      want tslite &&
        run tslite query "$variant" "${TSL[@]}" query -t tslite -x "$B/tslite" -l "$variant" -d "$DATA" -q "$QFILE" -f "$db" -o "$RUN" -b "$BUDGET"
      want tslite-native &&
        run tslite-native query "$variant" "${TSL[@]}" query -N -t tslite -x "$B/tslite" -l "$variant" -d "$DATA" -q "$QFILE" -f "$db" -o "$RUN" -b "$BUDGET"
    fi
    rm -rf "$db" "$db-wal" "$db-shm" "$db.tslite"
  fi
  if [ "$HAVE_COLD" = 1 ]; then
    db="$WORK/tslite-cold-$variant.db"
    cold="$(cd "$WORK" && pwd)/cold-$variant"
    rm -rf "$cold" && mkdir -p "$cold"
    run tslite-cold load "$variant" "${TSL[@]}" load -t tslite -C "$cold" -x "$B/tslite" -l "$variant" -d "$DATA" -f "$db" -o "$RUN" &&
      run tslite-cold query "$variant" "${TSL[@]}" query -t tslite -C "$cold" -x "$B/tslite" -l "$variant" -d "$DATA" -q "$QFILE" -f "$db" -o "$RUN" -b "$BUDGET" &&
      { ! want tslite-native ||
        run tslite-cold-native query "$variant" "${TSL[@]}" query -N -t tslite -C "$cold" -x "$B/tslite" -l "$variant" -d "$DATA" -q "$QFILE" -f "$db" -o "$RUN" -b "$BUDGET" ||
        true; } &&
      if [ "$HAVE_DUCKDB" = 1 ]; then
        # duckdb-lake: DuckDB's read_parquet over tslite's own objects, once
        # the rest of the memory tier is tiered too (the whole data set).
        run duckdb-lake tier "$variant" "${TSL[@]}" tierall -t tslite -x "$B/tslite" -f "$db" &&
          run duckdb-lake query "$variant" node bench/duckdb.mjs query --threads 2 --label "$variant" --queries "$QFILE" --lake "$cold" --out "$RUN" --budget "$BUDGET"
      fi
    rm -rf "$db" "$db-wal" "$db-shm" "$db.tslite" "$cold"
  fi
  if [ "$HAVE_DUCKDB" = 1 ]; then
    db="$WORK/duckdb-$variant.duckdb"
    run duckdb-t2 load "$variant" node bench/duckdb.mjs load --threads 2 --label "$variant" --data "$DATA" --db "$db" --out "$RUN" &&
      run duckdb-t2 query "$variant" node bench/duckdb.mjs query --threads 2 --label "$variant" --queries "$QFILE" --db "$db" --out "$RUN" --budget "$BUDGET" &&
      run duckdb-t1 query "$variant" node bench/duckdb.mjs query --threads 1 --label "$variant" --queries "$QFILE" --db "$db" --out "$RUN" --budget "$BUDGET"
    rm -f "$db" "$db.wal"
  fi
done

ELAPSED=$(awk "BEGIN{print $(date +%s.%N) - $T0}")
node bench/report.mjs --in "$RUN" --out "$OUT" --scale "$HOSTS,$DAYS" --seed "$SEED" \
  --quick "${BENCH_QUICK:-0}" --cflags "$CFLAGS_USED" --elapsed "$ELAPSED"
rc=$?
rm -f "$RUN" "$ERRLOG"

# The batch-load line (bench/batch_load.py, docs/benchmarks.md "Batch load"):
# the tsbs-int data as CSV at DAYS/3 and DAYS days, loaded by the requested
# systems (tslite: ts_batch_load from file:// and s3rver; sqlite: .import;
# duckdb: read_csv, threads 1 and 2).  BENCH_BATCH=0 skips it; a requested
# system that cannot run fails the bench like a skipped one above.
if [ "${BENCH_BATCH:-1}" != 0 ]; then
  BLSYS=""
  want tslite && BLSYS="$BLSYS tslite tslite-s3"
  want sqlite && BLSYS="$BLSYS sqlite"
  want duckdb && BLSYS="$BLSYS duckdb-1 duckdb-2"
  if [ -n "$BLSYS" ]; then
    echo
    BL_BUILD="$B" BL_WORK="$WORK" BL_HOSTS="$HOSTS" BL_SYSTEMS="${BLSYS# }" BL_PRELOAD="${BENCH_PRELOAD:-}" \
      BL_DAYS="$(awk "BEGIN{print $DAYS/3, $DAYS}")" /usr/bin/python3 bench/batch_load.py || rc=1
  fi
fi

# The functions engineer's benchmark, when present (BENCH_FUNCS=0 skips it;
# BENCH_QUICK is passed on in the environment).
if [ -f bench/funcs.sh ] && [ "${BENCH_FUNCS:-1}" != 0 ]; then
  echo
  TS_EXT="$B/tslite" sh bench/funcs.sh || rc=1
fi
# Cold queries on s3rver with the local cold cache, against file://.
COLD_CACHE_DEFAULT=1
[ "${BENCH_QUICK:-0}" = 1 ] && COLD_CACHE_DEFAULT=0
if [ -f bench/cold_cache.mjs ] && [ "${BENCH_COLD_CACHE:-$COLD_CACHE_DEFAULT}" != 0 ]; then
  echo
  BENCH_BUILD="$B" node bench/cold_cache.mjs || rc=1
fi
# Backup and restore throughput and incremental backup bytes (bench/backup_bench.mjs,
# docs/benchmarks.md "Backup and restore"): on file:// and s3rver
# (BENCH_BACKUP_SYSTEMS); a requested store that cannot run fails the bench.
# BENCH_BACKUP=0 skips it; BENCH_BACKUP_ROWS (default 1,000,000; 20,000 with
# BENCH_QUICK=1).
if [ "${BENCH_BACKUP:-1}" != 0 ] && { want tslite || want tslite-native; }; then
  echo
  BKROWS=${BENCH_BACKUP_ROWS:-1000000}
  [ "${BENCH_QUICK:-0}" = 1 ] && BKROWS=${BENCH_BACKUP_ROWS:-20000}
  if ! command -v node >/dev/null; then
    note_skip backup "node is not installed"
  else
    TS_EXT="$B/tslite" BACKUP_SYSTEMS="${BENCH_BACKUP_SYSTEMS:-file s3rver}" \
      node bench/backup_bench.mjs "$BKROWS" || rc=1
  fi
fi
if [ -n "$NSKIPPED" ]; then
  echo "bench: FAILED: requested system(s) skipped:$NSKIPPED (BENCH_SYSTEMS selects fewer on purpose)" >&2
  rc=1
fi
exit $rc
