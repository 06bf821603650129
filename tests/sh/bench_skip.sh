#!/usr/bin/env bash
# make bench's exit status (bench/run.sh): a system named in BENCH_SYSTEMS
# that cannot run is a failure (exit non-zero, naming it), an unknown name is
# refused, a requested cold system (tslite-cold-s3) that cannot run fails
# too, and naming fewer systems (BENCH_SYSTEMS=sqlite) succeeds.  Quick
# scale, funcs benchmark off.
set -u
cd "${TS_ROOT:-$(dirname "$0")/../..}"
B=${TS_BUILD:-$PWD/build}
TMP=$(mktemp -d /tmp/tslite-bench-skip-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
nfail=0
pass() { echo "PASS bench_skip: $1"; }
fail() { echo "FAIL bench_skip: $1"; nfail=$((nfail+1)); }
command -v node >/dev/null || { echo "SKIP bench_skip: node is not installed"; exit 0; }
bench() { env BENCH_QUICK=1 BENCH_FUNCS=0 BENCH_WORK="$TMP/w" BENCH_OUT="$TMP/o.json" "$@" bash bench/run.sh >"$TMP/out" 2>&1; }

bench BENCH_SYSTEMS="tslite nosuch"; rc=$?
if [ $rc -ne 0 ] && grep -q "^bench: unknown system 'nosuch' in BENCH_SYSTEMS" "$TMP/out"; then pass "unknown system refused (exit $rc)"
else fail "unknown system: exit $rc, $(tail -2 "$TMP/out" | tr '\n' ' ')"; fi

mkdir -p "$TMP/nobuild"
bench BENCH_SYSTEMS=tslite BENCH_BUILD="$TMP/nobuild"; rc=$?
if [ $rc -ne 0 ] && grep -q "^bench: FAILED: requested system(s) skipped: tslite " "$TMP/out" \
   && grep -q "^bench: SKIP tslite: .*tslite.so is not built" "$TMP/out"; then pass "requested tslite skipped -> exit $rc, named"
else fail "skipped tslite: exit $rc, $(tail -3 "$TMP/out" | tr '\n' ' ')"; fi

bench BENCH_SYSTEMS="tslite-cold-s3" BENCH_BUILD="$TMP/nobuild"; rc=$?
if [ $rc -ne 0 ] && grep -q "^bench: FAILED: requested system(s) skipped: tslite-cold-s3 " "$TMP/out" \
   && grep -q "^bench: SKIP tslite-cold-s3: .*tslite.so is not built" "$TMP/out" && ! grep -q "SKIP tslite:" "$TMP/out"; then
  pass "requested tslite-cold-s3 skipped -> exit $rc, named (tslite itself not requested)"
else fail "skipped tslite-cold-s3: exit $rc, $(tail -3 "$TMP/out" | tr '\n' ' ')"; fi

bench BENCH_SYSTEMS=sqlite BENCH_BUILD="$B"; rc=$?
if [ $rc -eq 0 ] && ! grep -q "SKIP\|FAILED" "$TMP/out"; then pass "BENCH_SYSTEMS=sqlite runs only sqlite, exit 0"
else fail "BENCH_SYSTEMS=sqlite: exit $rc, $(grep -m3 'SKIP\|FAILED\|rror' "$TMP/out" | tr '\n' ' ')"; fi
[ "$nfail" -eq 0 ]
