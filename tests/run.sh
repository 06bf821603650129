#!/usr/bin/env bash
# The tslite test runner.  Usage: tests/run.sh BUILD_DIR [BUILD_DIR ...]
#
# Runs every test once per build directory (build = normal, build/asan =
# ASan+UBSan).  A test is any of:
#   BUILD/tests/<name>      C unit tests (from tests/unit/*.c)
#   tests/sql/*.test        SQL golden files, run by BUILD/tests/sqltest
#   tests/js/*.test.mjs     node tests (s3rver, DuckDB, hyparquet, sqlite3 shell)
#   tests/py/test_*.py      tests run by Debian's /usr/bin/python3
#   tests/sh/*.sh           shell tests
# Protocol: a test prints one line per check, starting with "PASS ", "FAIL "
# or "SKIP ".  A test that exits non-zero without printing FAIL counts as one
# failure (crash, sanitizer report, timeout).  Environment given to tests:
#   TS_ROOT     repository root (absolute)
#   TS_BUILD    build directory (absolute)
#   TS_EXT      extension path for .load / load_extension (no suffix)
#   TS_SANITIZE 1 under ASan+UBSan (tests may shrink iteration counts)
#   TS_PRELOAD  libasan path to LD_PRELOAD into sqlite3/python children, or empty
# Filter with TS_ONLY=regex (matched against the test path).
# The last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TIMEOUT=${TS_TIMEOUT:-900}
npass=0; nfail=0; nskip=0
failed_list=""

run_one() { # label, command...
  local label=$1; shift
  if [ -n "${TS_ONLY:-}" ] && ! [[ $label =~ $TS_ONLY ]]; then return; fi
  local out rc t0 t1 p f s
  t0=$(date +%s.%N)
  out=$(timeout -k 10 "$TIMEOUT" "$@" 2>&1); rc=$?
  t1=$(date +%s.%N)
  p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    out="$out
FAIL $label: exited with status $rc"
  fi
  npass=$((npass+p)); nfail=$((nfail+f)); nskip=$((nskip+s))
  printf '%-6s %-48s %4d passed %3d failed %3d skipped %6.1fs\n' \
    "$([ "$f" -eq 0 ] && echo ok || echo FAILED)" "$label" "$p" "$f" "$s" "$(awk "BEGIN{print $t1 - $t0}")"
  if [ "$f" -ne 0 ]; then
    failed_list="$failed_list $label"
    # Show the failures and the output just before them, bounded.
    grep -v -e '^PASS ' <<<"$out" | tail -n 60 | sed 's/^/    | /'
  fi
}

for b in "$@"; do
  export TS_ROOT="$ROOT"
  export TS_BUILD="$ROOT/$b"
  export TS_EXT="$ROOT/$b/tslite"
  if [[ $b == *asan* ]]; then
    export TS_SANITIZE=1
    export TS_PRELOAD="$(gcc -print-file-name=libasan.so)"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  else
    export TS_SANITIZE=0 TS_PRELOAD=""
  fi
  echo "== tests against $b =="
  for t in "$b"/tests/*; do
    [ -x "$t" ] || continue
    case "$(basename "$t")" in sqltest) continue;; esac
    run_one "$b:unit/$(basename "$t")" "$t"
  done
  for t in tests/sql/*.test; do
    [ -e "$t" ] || continue
    run_one "$b:$t" "$b/tests/sqltest" "$t"
  done
  for t in tests/js/*.test.mjs; do
    [ -e "$t" ] || continue
    run_one "$b:$t" node "$t"
  done
  for t in tests/py/test_*.py; do
    [ -e "$t" ] || continue
    run_one "$b:$t" env -u LD_PRELOAD /usr/bin/python3 "$t"
  done
  for t in tests/sh/*.sh; do
    [ -e "$t" ] || continue
    run_one "$b:$t" bash "$t"
  done
done

[ -n "$failed_list" ] && echo "failed:$failed_list"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
