#!/usr/bin/env bash
# bench/batch_load.py (make bench's batch-load line) end to end on a small
# CSV of the bench's tsbs-int data: every system loads every row (the script
# checks the counts), the result JSON has the figures of each, and a system
# that cannot run makes the script fail.
set -u
B=${TS_BUILD:-build}
if [ -n "${TS_PRELOAD:-}" ]; then echo "SKIP batch bench smoke: not under the sanitizer pass"; exit 0; fi
if [ ! -x "$B/bin/tslite" ]; then echo "SKIP batch bench smoke: $B/bin/tslite not built"; exit 0; fi
dir=$(mktemp -d /tmp/tslite-blbench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
systems="tslite sqlite"
if command -v node >/dev/null && [ -d node_modules/@20minutes/s3rver ]; then systems="$systems tslite-s3"; fi
[ -d node_modules/@duckdb/node-api ] && systems="$systems duckdb-1"
out=$(BL_ROWS=5000 BL_WORK="$dir" BL_BUILD="$B" BL_OUT="$dir/r.json" BL_SYSTEMS="$systems" \
      /usr/bin/python3 bench/batch_load.py 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q '^| tslite |' <<<"$out" && [ -s "$dir/r.json" ]
then echo "PASS batch bench smoke: $systems load 5000 rows, result JSON written"
else echo "FAIL batch bench smoke: rc=$rc $out"; fi
n=$(/usr/bin/python3 -c "
import json,sys
r = json.load(open(sys.argv[1]))['results']
print(sum(x['ok'] and x['rows_per_cpu_s'] > 0 and x['peak_rss_mb'] > 0 for x in r))" "$dir/r.json" 2>&1)
w=$(wc -w <<<"$systems")
if [ "$n" = "$w" ]; then echo "PASS batch bench smoke: every system ok in the JSON with rows/CPU s and peak RSS"
else echo "FAIL batch bench smoke: every system ok in the JSON: $n of $w"; fi
out=$(BL_ROWS=5000 BL_WORK="$dir" BL_BUILD="$dir/nobuild" BL_OUT="$dir/r2.json" BL_SYSTEMS="tslite sqlite" \
      /usr/bin/python3 bench/batch_load.py 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q '^batch load: FAILED tslite' <<<"$out" && grep -q '^| sqlite | 5,000 ' <<<"$out"
then echo "PASS batch bench smoke: a system that cannot run fails the script (exit 1), the others still run"
else echo "FAIL batch bench smoke: failing system: rc=$rc $(tail -5 <<<"$out")"; fi
out=$(BL_ROWS=5000 BL_WORK="$dir" BL_SYSTEMS="tslite nosuch" /usr/bin/python3 bench/batch_load.py 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "unknown system 'nosuch'" <<<"$out"
then echo "PASS batch bench smoke: an unknown system is refused (exit 2)"
else echo "FAIL batch bench smoke: unknown system: rc=$rc $out"; fi
