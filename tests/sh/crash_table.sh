#!/usr/bin/env bash
# Crash test of the memory tier: a child process appends transactions to a
# timeseries table and is killed with SIGKILL at a random instant, again and
# again on the same database file.  After each kill, every transaction it
# reported committed is present exactly once, nothing else is, and ts_check
# says ok (tests/tools/crash_writer.c does the checking).
# 60 kills normally; 12 under ASan (each child is much slower there).
set -u
B=${TS_BUILD:-build}
W="$B/tools/crash_writer"
[ -x "$W" ] || W="build/tools/crash_writer"
if [ ! -x "$W" ]; then echo "SKIP crash: $W not built"; exit 0; fi
N=60
[ "${TS_SANITIZE:-0}" = 1 ] && N=12
dir=$(mktemp -d /tmp/tslite-crash-XXXXXX)
trap 'rm -rf "$dir"' EXIT
db="$dir/crash.db"
last=-1
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
for k in $(seq 1 "$N"); do
  "$W" write "$db" > "$dir/out" 2>&1 &
  pid=$!
  # a random instant: 20..250 ms (longer under ASan)
  ms=$(( (RANDOM % 230) + 20 ))
  [ "${TS_SANITIZE:-0}" = 1 ] && ms=$(( ms * 3 ))
  sleep "$(printf '0.%03d' "$ms")"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if grep -q '^FAIL' "$dir/out"; then grep '^FAIL' "$dir/out"; exit 1; fi
  n=$(grep '^commit ' "$dir/out" | tail -n 1 | cut -d' ' -f2)
  [ -n "$n" ] && last=$n
  out=$("$W" verify "$db" "$last"); rc=$?
  echo "$out"
  [ "$rc" -eq 0 ] || exit 1
  # A transaction may commit after its "commit N" line was lost to the kill;
  # once verified present, it is the baseline for the next round.
  m=$(sed -n 's/^PASS crash: after kill: \([0-9]*\) transactions.*/\1/p' <<<"$out")
  [ -n "$m" ] && last=$((m - 1))
done
