#!/usr/bin/env bash
# The tslite test runner.  Usage: tests/run.sh BUILD_DIR [BUILD_DIR ...]
#
# Runs every test once per build directory (build = normal, build/asan =
# ASan+UBSan).  A build directory holding sqlite3.o (build/sqlite-current,
# `make sqlite-current`: the unit tests and sqltest linked against a current
# SQLite amalgamation) runs only its C unit tests and the SQL golden files;
# TS_EXT then points at the parent build's extension.  The header line of each
# pass names the SQLite version its binaries use.  A test is any of:
#   BUILD/tests/<name>      C unit tests (from tests/unit/*.c)
#   tests/sql/*.test        SQL golden files, run by BUILD/tests/sqltest
#   tests/js/*.test.mjs     node tests (s3rver, DuckDB, hyparquet, sqlite3 shell)
#   tests/py/test_*.py      tests run by Debian's /usr/bin/python3 (libasan preloaded
#                           under the ASan pass, leak checks off for python)
#   tests/sh/*.sh           shell tests
# Protocol: a test prints one line per check, starting with "PASS ", "FAIL "
# or "SKIP ".  A test that exits non-zero without printing FAIL counts as one
# failure (crash, sanitizer report, timeout).  Environment given to tests:
#   TS_ROOT     repository root (absolute)
#   TS_BUILD    build directory (absolute)
#   TS_EXT      extension path for .load / load_extension (no suffix)
#   TS_SANITIZE 1 under ASan+UBSan (tests may shrink iteration counts)
#   TS_PRELOAD  libasan path to LD_PRELOAD into sqlite3/python children, or empty
# Tests run TS_JOBS at a time (default 2); each test's report is printed in
# a fixed order.  Filter with TS_ONLY=regex (matched against the label).
# The last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TIMEOUT=${TS_TIMEOUT:-900}
JOBS=${TS_JOBS:-2}
OUT=$(mktemp -d /tmp/tslite-run-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# run_one LABEL OUTFILE COMMAND...: runs the test, writes its output and a
# trailer line "#rc=N #secs=S" to OUTFILE.
run_one() {
  local label=$1 out=$2; shift 2
  local t0 t1 rc
  t0=$(date +%s.%N)
  timeout -k 10 "$TIMEOUT" "$@" >"$out" 2>&1; rc=$?
  t1=$(date +%s.%N)
  echo "#rc=$rc #secs=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")" >>"$out"
}

# Jobs of every build directory go into one queue; tests named in
# tests/slow.txt start first (longest first keeps both job slots busy to the
# end instead of leaving one 2-minute test running alone), the rest in the
# order below.  Reports are printed per build directory in that order.
q_label=(); q_build=(); q_cmd=(); nq=0
queue() { # LABEL COMMAND...
  local label=$1; shift
  if [ -n "${TS_ONLY:-}" ] && ! [[ $label =~ $TS_ONLY ]]; then return; fi
  q_label[nq]=$label; q_build[nq]=$bi; q_cmd[nq]=$(printf '%q ' "$@"); nq=$((nq+1))
}
# build_env INDEX: the environment of build directory number INDEX.
build_env() {
  local b=${builds[$1]}
  export TS_ROOT="$ROOT" TS_BUILD="$ROOT/$b" TS_EXT="$ROOT/$b/tslite"
  if [ -f "$b/sqlite3.o" ]; then TS_EXT="$ROOT/$(dirname "$b")/tslite"; fi
  if [[ $b == *asan* ]]; then
    export TS_SANITIZE=1
    TS_PRELOAD="$(gcc -print-file-name=libasan.so)"; export TS_PRELOAD
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  else
    export TS_SANITIZE=0 TS_PRELOAD=""
    unset ASAN_OPTIONS UBSAN_OPTIONS
  fi
}

builds=("$@"); headers=()
for ((bi=0; bi<${#builds[@]}; bi++)); do
  b=${builds[$bi]}
  build_env "$bi"
  amalg=0
  [ -f "$b/sqlite3.o" ] && amalg=1
  if [ -x "$b/tests/sqltest" ]; then
    ver="SQLite $("$b/tests/sqltest" --version 2>&1)"
  else
    ver="no $b/tests/sqltest: run make tests"
  fi
  if [ $amalg = 1 ]; then ver="$ver, amalgamation; C and SQL suites only"
  else ver="$ver, system libsqlite3"; fi
  headers[bi]="== tests against $b ($ver) =="
  # The bench programs are built once here, before the tests that run them
  # start in parallel (each of them also runs bench/Makefile, then a no-op).
  if [ $amalg = 0 ]; then
    make -s -f bench/Makefile B="$b" >/dev/null 2>&1 || echo "tests: bench programs do not build for $b (the bench tests will say why)"
  fi
  for t in "$b"/tests/*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    case "$(basename "$t")" in sqltest) continue;; esac
    queue "$b:unit/$(basename "$t")" "$t"
  done
  for t in tests/sql/*.test; do [ -e "$t" ] && queue "$b:$t" "$b/tests/sqltest" "$t"; done
  if [ $amalg = 0 ]; then
  for t in tests/js/*.test.mjs; do [ -e "$t" ] && queue "$b:$t" node "$t"; done
  for t in tests/py/test_*.py; do [ -e "$t" ] && queue "$b:$t" env LD_PRELOAD="$TS_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 /usr/bin/python3 "$t"; done
  for t in tests/sh/*.sh; do [ -e "$t" ] && queue "$b:$t" bash "$t"; done
  fi
done

# Launch order: slow tests first (tests/slow.txt, one path per line, slowest
# first), each across all build directories, then everything else.
order=(); declare -A queued=()
if [ -f tests/slow.txt ]; then
  while read -r slow _; do
    case "$slow" in ''|'#'*) continue;; esac
    for ((i=0; i<nq; i++)); do
      [ "${q_label[$i]#*:}" = "$slow" ] && [ -z "${queued[$i]:-}" ] && { order+=("$i"); queued[$i]=1; }
    done
  done < tests/slow.txt
fi
for ((i=0; i<nq; i++)); do [ -z "${queued[$i]:-}" ] && order+=("$i"); done
for i in "${order[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  ( build_env "${q_build[$i]}"; eval "run_one $(printf '%q' "${q_label[$i]}") $OUT/$i.out ${q_cmd[$i]}" ) &
done
wait

npass=0; nfail=0; nskip=0; failed_list=""
for ((bi=0; bi<${#builds[@]}; bi++)); do
  echo "${headers[$bi]}"
  for ((i=0; i<nq; i++)); do
    [ "${q_build[$i]}" = "$bi" ] || continue
    label=${q_label[$i]}; out=$OUT/$i.out
    trailer=$(tail -n 1 "$out")
    rc=${trailer#\#rc=}; rc=${rc%% *}
    secs=${trailer##*#secs=}
    body=$(sed '$d' "$out")
    p=$(grep -c '^PASS ' <<<"$body"); f=$(grep -c '^FAIL ' <<<"$body"); s=$(grep -c '^SKIP ' <<<"$body")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      f=1
      body="$body
FAIL $label: exited with status $rc"
    fi
    npass=$((npass+p)); nfail=$((nfail+f)); nskip=$((nskip+s))
    printf '%-6s %-52s %5d passed %3d failed %3d skipped %6ss\n' \
      "$([ "$f" -eq 0 ] && echo ok || echo FAILED)" "$label" "$p" "$f" "$s" "$secs"
    if [ "$f" -ne 0 ]; then
      failed_list="$failed_list $label"
      grep -v -e '^PASS ' <<<"$body" | tail -n 60 | sed 's/^/    | /'
    fi
  done
done

[ -n "$failed_list" ] && echo "failed:$failed_list"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
