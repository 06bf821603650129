#!/usr/bin/env bash
# Replays every libFuzzer target's corpus (tests/fuzz/corpus/<target>/) and
# its saved crashers (tests/fuzz/crashers/<target>/, inputs that once crashed
# and must not again) through TS_BUILD/fuzzreplay/<target>, the target built
# with the ordinary compiler and a replay main (tests/fuzz/replay/replay.c).
# Under build/asan this is the ASan+UBSan replay.  One PASS/FAIL per target;
# each target is bounded by FUZZ_REPLAY_TIMEOUT seconds (default 120).
set -u
ROOT=${TS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TS_BUILD:-$ROOT/build}
LIMIT=${FUZZ_REPLAY_TIMEOUT:-120}
nfail=0
for src in "$ROOT"/tests/fuzz/*.c; do
  name=$(basename "$src" .c)
  bin="$BUILD/fuzzreplay/$name"
  if [ ! -x "$bin" ]; then echo "FAIL fuzz_replay $name: $bin not built (make all)"; nfail=$((nfail+1)); continue; fi
  dirs=()
  [ -d "$ROOT/tests/fuzz/corpus/$name" ] && dirs+=("$ROOT/tests/fuzz/corpus/$name")
  [ -d "$ROOT/tests/fuzz/crashers/$name" ] && dirs+=("$ROOT/tests/fuzz/crashers/$name")
  if [ ${#dirs[@]} -eq 0 ]; then echo "FAIL fuzz_replay $name: no corpus in tests/fuzz/corpus/$name"; nfail=$((nfail+1)); continue; fi
  out=$(timeout -k 5 "$LIMIT" "$bin" "${dirs[@]}" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then
    echo "PASS fuzz_replay $name: $(tail -n 1 <<<"$out")"
  else
    echo "FAIL fuzz_replay $name: exit $rc: $(tail -n 5 <<<"$out" | tr '\n' ' ' | cut -c1-400)"
    nfail=$((nfail+1))
  fi
done
[ $nfail -eq 0 ]
